/**
 * The Operations page: every operation of GET /api/openapi.json (this server's own document, read
 * when the page opens), grouped by tag (the dialect), each with its method and path, summary,
 * credential and permission, parameters and body, and a curl example built from the path with
 * this page's origin as base URL and an example body made from the schema. Written with DOM
 * APIs and text nodes only: nothing from the document becomes markup.
 */
import { h, mount, table, type Child } from '/web/dom.js';
import { codeBlock } from './copy.js';

type Schema = {
  type?: string | string[];
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  enum?: unknown[];
  const?: unknown;
  default?: unknown;
  examples?: unknown[];
  example?: unknown;
  format?: string;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minItems?: number;
  maxItems?: number;
  anyOf?: Schema[];
  oneOf?: Schema[];
  allOf?: Schema[];
  additionalProperties?: boolean | Schema;
  description?: string;
  $ref?: string;
};

interface Parameter {
  name: string;
  in: string;
  required?: boolean;
  schema?: Schema;
}

interface Operation {
  summary?: string;
  tags?: string[];
  'x-permission'?: string;
  security?: unknown[];
  parameters?: Parameter[];
  requestBody?: { content?: Record<string, { schema?: Schema }> };
}

interface OpenApi {
  info?: { title?: string; version?: string };
  security?: unknown[];
  paths?: Record<string, Record<string, Operation>>;
}

interface Entry {
  method: string;
  path: string;
  op: Operation;
  tag: string;
}

const METHODS = ['get', 'post', 'put', 'patch', 'delete', 'head', 'options'];

/** The dialects' names and the page of the reference that documents them. */
const TAGS: Record<string, { name: string; page?: string }> = {
  sendwave: { name: 'SendWave Pro v2.1 and admin (/api)', page: 'api-sendwave.html' },
  mifumo: { name: 'Mifumo SMS (paths ending in /)', page: 'api-mifumo.html' },
  flow: { name: 'FLOW SMS (/campaigns/api/)', page: 'api-flow.html' },
  admin: { name: 'Admin (/api/admin)', page: 'api-sendwave.html#admin' },
  web: { name: 'Web pages\' sessions (/web)', page: 'api-sendwave.html#web-sessions-console-and-dashboard' },
  plain: { name: 'Plain JSON' },
};
const ORDER = Object.keys(TAGS);

const MAX_SAFE = Number.MAX_SAFE_INTEGER;

// --- Schemas ------------------------------------------------------------------------------------

/** A schema's type, short: "string", "array of string", "integer | null", "object". */
export function typeOf(s: Schema | undefined): string {
  if (!s) return 'any';
  if (s.$ref) return s.$ref.replace(/^.*\//, '');
  const union = s.anyOf ?? s.oneOf;
  if (union) return [...new Set(union.map(typeOf))].join(' | ');
  if (s.allOf) return s.allOf.map(typeOf).join(' & ');
  if (s.const !== undefined) return JSON.stringify(s.const);
  const types = Array.isArray(s.type) ? s.type : s.type ? [s.type] : [];
  if (!types.length) return s.properties ? 'object' : s.enum ? 'enum' : 'any';
  return types.map((t) => (t === 'array' ? `array of ${typeOf(s.items)}` : t)).join(' | ');
}

/** "1–5000 characters", "≥ 1", "≤ 500 items"; a bound at JavaScript's largest safe integer is no bound. */
const range = (lo: number | undefined, hi: number | undefined, unit = ''): string | null => {
  const max = hi !== undefined && hi < MAX_SAFE ? hi : undefined;
  const min = lo !== undefined && lo > -MAX_SAFE ? lo : undefined;
  const tail = unit ? ` ${unit}` : '';
  if (min === undefined && max === undefined) return null;
  if (min !== undefined && max !== undefined) return min === max ? `${min}${tail}` : `${min}–${max}${tail}`;
  return min !== undefined ? `≥ ${min}${tail}` : `≤ ${max}${tail}`;
};

/** What a schema allows beyond its type: lengths, bounds, values, format, default. */
export function constraints(s: Schema | undefined): string[] {
  if (!s) return [];
  const out: string[] = [];
  const union = s.anyOf ?? s.oneOf;
  if (union) for (const u of union) out.push(...constraints(u));
  const len = range(s.minLength, s.maxLength, 'characters');
  if (len) out.push(len);
  const items = range(s.minItems, s.maxItems, 'items');
  if (items) out.push(items);
  const lo = s.minimum ?? s.exclusiveMinimum;
  const hi = s.maximum ?? s.exclusiveMaximum;
  const num = range(lo, hi);
  if (num) out.push(num);
  if (s.enum) out.push(`one of ${s.enum.map((v) => JSON.stringify(v)).join(', ')}`);
  if (s.format) out.push(`format ${s.format}`);
  if (s.pattern) out.push(`pattern ${s.pattern}`);
  if (s.items) {
    const inner = constraints(s.items);
    if (inner.length) out.push(`each: ${inner.join(', ')}`);
  }
  if (s.properties) out.push(`fields: ${Object.keys(s.properties).map((k) => (s.required?.includes(k) ? `${k}*` : k)).join(', ')}`);
  if (s.default !== undefined) out.push(`default ${JSON.stringify(s.default)}`);
  if (s.description) out.push(s.description);
  return out;
}

const PHONE = '+24162000001';

/** A string example for a field, from its format and name. */
function stringExample(s: Schema, name: string): string {
  const n = name.toLowerCase();
  if (s.format === 'email' || /email/.test(n)) return 'user@example.com';
  if (s.format === 'date-time' || /(_at|time)$/.test(n)) return '2030-01-01T09:00:00Z';
  if (s.format === 'date' || /date$/.test(n)) return '2030-01-01';
  if (s.format === 'uri' || s.format === 'url' || /url$/.test(n)) return 'https://example.com/hooks/relais';
  if (s.format === 'uuid' || /uuid/.test(n)) return '00000000-0000-4000-8000-000000000000';
  if (/phone|recipient|number|msisdn|^to$/.test(n)) return PHONE;
  if (/password/.test(n)) return 'a-long-password';
  if (/sender/.test(n)) return 'Relais';
  if (/message|text|body|content/.test(n)) return 'Hello from Relais';
  if (/name|username|title/.test(n)) return 'Example';
  if (/token/.test(n)) return '$REFRESH_TOKEN';
  const min = s.minLength ?? 0;
  const word = 'example';
  return min > word.length ? word.padEnd(min, 'x') : word.slice(0, s.maxLength ?? word.length);
}

/** An example value for a schema: its example, default or first allowed value, else one made up. */
export function exampleOf(s: Schema | undefined, name = '', depth = 0): unknown {
  if (!s || depth > 5) return null;
  if (s.examples?.length) return s.examples[0];
  if (s.example !== undefined) return s.example;
  if (s.const !== undefined) return s.const;
  if (s.default !== undefined) return s.default;
  if (s.enum?.length) return s.enum[0];
  const union = s.anyOf ?? s.oneOf;
  if (union?.length) return exampleOf(union.find((u) => u.type !== 'null') ?? union[0], name, depth);
  if (s.allOf?.length) return exampleOf(s.allOf[0], name, depth);
  const type = Array.isArray(s.type) ? s.type.find((t) => t !== 'null') : s.type;
  switch (type ?? (s.properties ? 'object' : undefined)) {
    case 'string': return stringExample(s, name);
    case 'integer':
    case 'number': return Math.max(1, s.minimum ?? 1, s.exclusiveMinimum !== undefined ? s.exclusiveMinimum + 1 : 1);
    case 'boolean': return true;
    case 'array': {
      const one = exampleOf(s.items, name.replace(/s$/, ''), depth + 1);
      return Array.from({ length: Math.max(1, s.minItems ?? 1) }, () => one);
    }
    case 'object': {
      const props = Object.entries(s.properties ?? {});
      const required = props.filter(([k]) => s.required?.includes(k));
      const chosen = required.length ? required : props;
      return Object.fromEntries(chosen.map(([k, v]) => [k, exampleOf(v, k, depth + 1)]));
    }
    default: return null;
  }
}

// --- curl ---------------------------------------------------------------------------------------

const shellSingle = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
const envName = (param: string): string => param.replace(/[^A-Za-z0-9]+/g, '_').toUpperCase();

/** A curl command for an operation, against `origin`. */
export function curlFor(e: Entry, origin: string, needsAuth: boolean): string {
  const path = e.path.replace(/\{([^}]+)\}/g, (_, p: string) => `$${envName(p)}`);
  const query = (e.op.parameters ?? [])
    .filter((p) => p.in === 'query' && p.required)
    .map((p) => `${encodeURIComponent(p.name)}=${encodeURIComponent(String(exampleOf(p.schema, p.name)))}`);
  const url = `${origin}${path}${query.length ? `?${query.join('&')}` : ''}`;
  const lines = [`curl${e.method === 'get' ? '' : ` -X ${e.method.toUpperCase()}`} "${url.replace(/(["\\`])/g, '\\$1')}"`];
  if (needsAuth) lines.push('-H "Authorization: Bearer $TOKEN"');
  const schema = bodySchema(e.op);
  if (schema) {
    lines.push('-H "Content-Type: application/json"');
    const example = exampleOf(schema);
    const compact = JSON.stringify(example);
    lines.push(`-d ${shellSingle(compact.length <= 72 ? compact : JSON.stringify(example, null, 2))}`);
  }
  return lines.join(' \\\n  ');
}

const bodySchema = (op: Operation): Schema | undefined => op.requestBody?.content?.['application/json']?.schema;

// --- The page -----------------------------------------------------------------------------------

const opId = (e: Entry): string => `op-${e.method}-${e.path.replace(/[{}]/g, '').replace(/[^A-Za-z0-9]+/g, '-').replace(/^-|-$/g, '')}`;

function schemaTable(s: Schema): HTMLElement {
  if (!s.properties) return codeBlock(JSON.stringify(s, null, 2), 'json');
  const rows = Object.entries(s.properties).map(([name, prop]) => [
    h('code', null, name),
    typeOf(prop),
    s.required?.includes(name) ? 'required' : 'optional',
    constraints(prop).join('; '),
  ]);
  return table(['field', 'type', '', 'rules'], rows, { class: 'schema' });
}

function operationView(e: Entry, doc: OpenApi, endpoints: Record<string, string>): HTMLElement {
  const { op } = e;
  const needsAuth = !(Array.isArray(op.security) && op.security.length === 0) && (doc.security?.length ?? 0) > 0;
  const permission = op['x-permission'];
  const params = op.parameters ?? [];
  const schema = bodySchema(op);
  const key = `${e.method.toUpperCase()} ${e.path.replace(/\{[^}]*\}/g, '{}')}`;
  const reference = endpoints[key] ?? TAGS[e.tag]?.page;
  const facts: [string, Child][] = [
    ['Credential', needsAuth ? 'Authorization: Bearer — an access token from a login, or an API key' : 'none: public'],
    ['Permission', permission ? h('code', null, permission) : needsAuth ? 'any valid credential' : '—'],
  ];
  if (reference) facts.push(['Reference', h('a', { href: reference }, endpoints[key] ? 'this operation in the reference' : `the ${TAGS[e.tag]?.name ?? e.tag} reference`)]);
  return h('details', { class: 'op', id: opId(e), 'data-search': `${e.method} ${e.path} ${op.summary ?? ''} ${permission ?? ''} ${e.tag}`.toLowerCase() },
    h('summary', null,
      h('span', { class: `method method-${e.method}` }, e.method.toUpperCase()),
      h('code', { class: 'op-path' }, e.path),
      h('span', { class: 'op-summary' }, op.summary ?? ''),
      needsAuth
        ? h('span', { class: 'badge', title: 'needs a credential' }, permission ?? 'auth')
        : h('span', { class: 'badge badge-public', title: 'no credential needed' }, 'public')),
    h('div', { class: 'op-body' },
      h('dl', { class: 'facts' }, facts.map(([k, v]) => [h('dt', null, k), h('dd', null, v)])),
      params.length
        ? [h('h4', null, 'Parameters'), table(['name', 'in', '', 'type', 'rules'], params.map((p) => [
            h('code', null, p.name), p.in, p.required ? 'required' : 'optional', typeOf(p.schema), constraints(p.schema).join('; '),
          ]), { class: 'schema' })]
        : null,
      schema
        ? [h('h4', null, 'Body (application/json)'), schemaTable(schema),
            h('details', { class: 'raw-schema' }, h('summary', null, 'JSON schema'), codeBlock(JSON.stringify(schema, null, 2), 'json'))]
        : null,
      h('h4', null, 'Example'),
      codeBlock(curlFor(e, location.origin, needsAuth), 'sh')));
}

function entriesOf(doc: OpenApi): Entry[] {
  const out: Entry[] = [];
  for (const [path, item] of Object.entries(doc.paths ?? {})) {
    for (const [method, op] of Object.entries(item)) {
      if (!METHODS.includes(method) || !op || typeof op !== 'object') continue;
      out.push({ method, path, op, tag: op.tags?.[0] ?? 'other' });
    }
  }
  return out;
}

function render(host: HTMLElement, doc: OpenApi, endpoints: Record<string, string>): void {
  const entries = entriesOf(doc);
  const tags = [...new Set(entries.map((e) => e.tag))].sort((a, b) => {
    const ia = ORDER.indexOf(a);
    const ib = ORDER.indexOf(b);
    return (ia < 0 ? ORDER.length : ia) - (ib < 0 ? ORDER.length : ib) || a.localeCompare(b);
  });
  const filter = h('input', { type: 'search', id: 'op-filter', placeholder: 'Filter: path, summary, permission…', 'aria-label': 'Filter the operations', autocomplete: 'off' });
  const shown = h('span', { class: 'muted' });
  const sections = tags.map((tag) => {
    const mine = entries.filter((e) => e.tag === tag);
    const count = h('span', { class: 'count' }, String(mine.length));
    const info = TAGS[tag];
    const section = h('section', { class: 'tag-group', id: `tag-${tag}`, 'data-tag': tag },
      h('h2', null, info?.name ?? tag, ' ', count),
      info?.page ? h('p', { class: 'muted' }, 'Reference: ', h('a', { href: info.page }, info.page.replace(/\.html.*$/, ''))) : null,
      mine.map((e) => operationView(e, doc, endpoints)));
    return { section, count, ops: [...section.querySelectorAll<HTMLDetailsElement>('details.op')] };
  });
  const update = () => {
    const q = filter.value.trim().toLowerCase();
    let total = 0;
    for (const s of sections) {
      let n = 0;
      for (const op of s.ops) {
        const hit = !q || (op.dataset.search ?? '').includes(q);
        op.hidden = !hit;
        if (hit) n++;
      }
      s.count.textContent = String(n);
      s.section.hidden = n === 0;
      total += n;
    }
    shown.textContent = `${total} of ${entries.length} operations`;
  };
  filter.addEventListener('input', update);
  const expand = h('button', { type: 'button', class: 'secondary' }, 'Expand all');
  expand.addEventListener('click', () => {
    const open = expand.textContent === 'Expand all';
    for (const s of sections) for (const op of s.ops) if (!op.hidden) op.open = open;
    expand.textContent = open ? 'Collapse all' : 'Expand all';
  });
  mount(host,
    h('p', { class: 'muted' }, `${doc.info?.title ?? 'OpenAPI document'}, version ${doc.info?.version ?? '?'}: `,
      tags.map((tag, i) => [i ? ' · ' : '', h('a', { href: `#tag-${tag}` }, TAGS[tag]?.name ?? tag), ` (${entries.filter((e) => e.tag === tag).length})`])),
    h('div', { class: 'op-tools' }, filter, expand, shown),
    h('p', { class: 'muted small' }, 'Set the credential once, then paste the examples:'),
    codeBlock('export TOKEN=\'paste an access token or an API key here\'', 'sh'),
    sections.map((s) => s.section));
  update();
  openFromHash();
}

/** Opens and shows the operation the address names (#op-post-api-messages-send). */
function openFromHash(): void {
  const id = decodeURIComponent(location.hash.slice(1));
  if (!id) return;
  const el = document.getElementById(id);
  if (el instanceof HTMLDetailsElement) el.open = true;
  el?.scrollIntoView();
}

async function main(): Promise<void> {
  const host = document.getElementById('operations-list');
  if (!host) return;
  try {
    const res = await fetch('/api/openapi.json', { headers: { accept: 'application/json' }, credentials: 'same-origin' });
    if (!res.ok) throw new Error(`GET /api/openapi.json answered ${res.status}`);
    const doc = (await res.json()) as OpenApi;
    // Which heading of the reference documents each operation (written by the build); optional.
    const endpoints = await fetch('endpoints.json').then((r) => (r.ok ? r.json() as Promise<Record<string, string>> : {}), () => ({}));
    render(host, doc, endpoints);
    window.addEventListener('hashchange', openFromHash);
  } catch (e) {
    mount(host, h('p', { class: 'error', role: 'alert' }, `Could not read the OpenAPI document: ${e instanceof Error ? e.message : String(e)}`));
  }
}

void main();
