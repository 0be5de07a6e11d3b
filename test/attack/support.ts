/**
 * What the attack suites share: a daemon (shipped simulator, real HTTP) with limits raised so the
 * attacks reach the handlers instead of the rate limiter, the route table read from the running
 * daemon's own /api/openapi.json, the error shape each dialect documents, tenants set up through
 * the API, a seeded random source, and raw HTTP for what fetch will not send.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { call, PASSWORD, type CallResult } from '../support/api.js';
import { startGateway, startSimulator, type Gateway } from '../support/harness.js';

const MANY = 1_000_000;

/** Limits out of the way (each has its own tests): an attack should reach validation and the services. */
export const ATTACK_CONFIG = {
  rate_limits: {
    send_per_minute: MANY, default_per_minute: MANY, auth_per_minute: MANY,
    mifumo: { sms_per_minute: MANY, status_per_minute: MANY, reports_per_minute: MANY, balance_per_minute: MANY, contacts_per_hour: MANY, api_per_hour: MANY, unauthenticated_per_hour: MANY },
  },
  auth: { login_failures: { per_client: MANY, per_login: MANY, window: 1 } },
  default_route: 'airtel',
};

export async function withAttackGateway<T>(fn: (gw: Gateway) => Promise<T>, o: { extra?: Record<string, unknown>; logTo?: NodeJS.WritableStream } = {}): Promise<T> {
  const sim = await startSimulator({ systemId: 'airtel', password: 'pw' });
  const gw = await startGateway([{ name: 'airtel', binds: [{ port: sim.port }] }], { ...ATTACK_CONFIG, ...o.extra }, undefined, o.logTo);
  try {
    return await fn(gw);
  } finally {
    await gw.cleanup();
    await sim.stop();
  }
}

// ---- the route table ----

export type DialectName = 'sendwave' | 'mifumo' | 'flow' | 'plain' | 'web';

export interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  enum?: unknown[];
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  format?: string;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  exclusiveMinimum?: number;
  maximum?: number;
  minItems?: number;
  maxItems?: number;
  default?: unknown;
  additionalProperties?: JsonSchema | boolean;
  propertyNames?: JsonSchema;
}

export interface Route {
  method: string;
  /** OpenAPI template, e.g. /api/contacts/{id} */
  path: string;
  tag: DialectName;
  auth: boolean;
  permission: string | null;
  body: JsonSchema | null;
  query: { name: string; schema: JsonSchema }[];
  /** Names of the path parameters ({id}). */
  params: string[];
  summary: string;
}

/** Every operation the running daemon documents, from its own OpenAPI document. */
export async function routeTable(gw: Pick<Gateway, 'url'>): Promise<Route[]> {
  const r = await call(gw, 'GET', '/api/openapi.json');
  assert.equal(r.status, 200, r.text.slice(0, 300));
  const routes: Route[] = [];
  for (const [path, ops] of Object.entries<Record<string, any>>(r.json.paths)) {
    for (const [method, op] of Object.entries<any>(ops)) {
      const parameters: any[] = op.parameters ?? [];
      routes.push({
        method: method.toUpperCase(), path, tag: op.tags[0], auth: !Array.isArray(op.security) || op.security.length > 0,
        permission: op['x-permission'] ?? null, summary: op.summary,
        body: op.requestBody?.content?.['application/json']?.schema ?? null,
        query: parameters.filter((p) => p.in === 'query').map((p) => ({ name: p.name, schema: p.schema ?? {} })),
        params: parameters.filter((p) => p.in === 'path').map((p) => p.name),
      });
    }
  }
  return routes;
}

/** Which dialect answers a path, by the documented rule (compatibility.md, api-sendwave.md). */
export function ownerOf(pathname: string): DialectName {
  if (pathname.startsWith('/campaigns/api/')) return 'flow';
  if (pathname.startsWith('/api/')) return pathname.endsWith('/') ? 'mifumo' : 'sendwave';
  if (pathname.startsWith('/web/')) return 'web';
  return 'plain';
}

export const isAdmin = (r: Pick<Route, 'path'>): boolean => r.path.startsWith('/api/admin/');

/**
 * What is wrong with an error answer for this dialect (null: nothing). SendWave and the
 * operations endpoints: `{message}`; Mifumo: `{success:false, error_code, …}`; FLOW: `{detail}` or
 * DRF's `{field: ["…"]}`.
 */
export function errorShapeProblem(dialect: DialectName, res: Pick<CallResult, 'status' | 'json' | 'text' | 'headers'>): string | null {
  if (res.status < 400) return null;
  if (!(res.headers.get('content-type') ?? '').includes('application/json')) return `not JSON (${res.headers.get('content-type')})`;
  const b = res.json;
  if (b === null || typeof b !== 'object' || Array.isArray(b)) return 'not a JSON object';
  const stringArrays = (o: Record<string, unknown>) => Object.values(o).every((v) => Array.isArray(v) && v.length > 0 && v.every((s) => typeof s === 'string'));
  switch (dialect) {
    case 'sendwave':
    case 'plain':
    case 'web':
      if (typeof b.message !== 'string' || !b.message) return 'no message string';
      if (b.errors !== undefined && (typeof b.errors !== 'object' || !stringArrays(b.errors))) return 'errors is not {field: [string]}';
      return null;
    case 'mifumo':
      if (b.success !== false) return 'success is not false';
      if (typeof b.error_code !== 'string' || !b.error_code) return 'no error_code string';
      if (typeof b.message !== 'string') return 'no message string';
      return null;
    case 'flow':
      if (typeof b.detail === 'string' && Object.keys(b).length === 1) return null;
      if (b.detail === undefined && Object.keys(b).length > 0 && stringArrays(b)) return null;
      return 'neither {detail} nor {field: [string]}';
  }
}

export function assertErrorShape(dialect: DialectName, res: CallResult, what: string): void {
  const problem = errorShapeProblem(dialect, res);
  assert.equal(problem, null, `${what}: ${res.status} not in ${dialect}'s error shape (${problem}): ${res.text.slice(0, 300)}`);
}

/** The path with its {params} filled. */
export const fill = (template: string, values: Record<string, string>): string => template.replace(/\{(\w+)\}/g, (_, name: string) => values[name] ?? '');

// ---- tenants ----

export interface Tenant {
  email: string;
  password: string;
  id: number;
  token: string;
  key: string;
  keyId: number;
}

/** An account registered and logged in through the SendWave API, with an API key. */
export async function tenant(gw: Pick<Gateway, 'url'>, email: string, name = 'Attack Tenant'): Promise<Tenant> {
  const reg = await call(gw, 'POST', '/api/auth/register', { body: { name, email, password: PASSWORD, password_confirmation: PASSWORD } });
  assert.equal(reg.status, 201, `register ${email}: ${reg.text}`);
  const token = reg.json.data.token as string;
  const key = await call(gw, 'POST', '/api/api-keys', { token, body: { name: 'attack' } });
  assert.equal(key.status, 201, key.text);
  return { email, password: PASSWORD, id: reg.json.data.user.id, token, key: key.json.data.key, keyId: key.json.data.id };
}

/** A fresh access token for the tenant (after a logout or a revocation). */
export async function login(gw: Pick<Gateway, 'url'>, email: string, password = PASSWORD): Promise<string> {
  const r = await call(gw, 'POST', '/api/auth/login', { body: { email, password } });
  assert.equal(r.status, 200, `login ${email}: ${r.text}`);
  return r.json.data.token as string;
}

/** Asserts a 2xx and returns its JSON. */
export async function ok(gw: Pick<Gateway, 'url'>, method: string, path: string, o: Parameters<typeof call>[3]): Promise<any> {
  const r = await call(gw, method, path, o);
  assert.ok(r.status >= 200 && r.status < 300, `${method} ${path}: ${r.status} ${r.text.slice(0, 400)}`);
  return r.json;
}

// ---- randomness ----

/** mulberry32: small, fast, and the same sequence for the same seed on every machine. */
export function rng(seed: number): Rng {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (n) => Math.floor(next() * n),
    pick: (xs) => xs[Math.floor(next() * xs.length)]!,
    chance: (p) => next() < p,
  };
}

export interface Rng {
  next(): number;
  int(n: number): number;
  pick<T>(xs: readonly T[]): T;
  chance(p: number): boolean;
}

// ---- raw HTTP ----

export interface RawResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/** A request through node:http, for bodies as bytes and headers fetch refuses to send. */
export function rawRequest(gw: Pick<Gateway, 'url'>, method: string, path: string, headers: Record<string, string>, body?: Buffer | string): Promise<RawResult> {
  const u = new URL(gw.url);
  // node:http sends a GET's or DELETE's body without a length unless told: say it, or the body reads as the next request.
  const length = body === undefined ? {} : { 'content-length': String(Buffer.byteLength(body)) };
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, method, path, headers: { ...length, ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.setTimeout(10_000, () => req.destroy(new Error(`${method} ${path}: no answer in 10 s`)));
    req.end(body);
  });
}

/** A raw answer as a CallResult, for the shape check. */
export function asCallResult(r: RawResult): CallResult {
  let json: any = null;
  try {
    json = JSON.parse(r.text);
  } catch {
    json = null;
  }
  const headers = new Headers();
  for (const [k, v] of Object.entries(r.headers)) if (v !== undefined) headers.set(k, Array.isArray(v) ? v.join(', ') : v);
  return { status: r.status, headers, json, text: r.text };
}

// ---- valid bodies, from the documented schemas ----

/** Values for the patterns the route table documents; a new pattern fails here until it is given one. */
const PATTERNS: Record<string, string> = {
  '^[A-Z]{3}$': 'XAF',
  '^\\+[1-9]\\d{7,14}$': '+24162999001',
  '^\\+?[\\d\\s\\-().]{3,24}$': '+24162999001',
  '^([01]\\d|2[0-3]):[0-5]\\d$': '09:30',
  '^\\d{4}-\\d{2}-\\d{2}$': '2031-01-15',
  '^\\d{1,15}$': '1',
  '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$': '0b7e7c3e-9a52-4b51-8f0e-2a1d5c6e7f80',
};

/** Strings whose rule the JSON schema cannot say (zod refinements): known by the field's name. */
function stringByName(field: string): string | null {
  const name = field.replace(/\[\]$/, '');
  if (/^(phone|phone_number|phone_e164|recipient|phone_numbers|recipients)$/.test(name)) return '+24162999001';
  if (/url$/.test(name)) return 'https://203.0.113.10/hook';
  if (/(_at|_time|date|date_from|date_to)$/.test(name)) return '2031-01-15T10:00:00Z';
  if (name === 'timezone') return 'Africa/Libreville';
  if (name === 'events') return 'contact.deleted';
  if (name === 'email') return 'someone@example.com';
  if (name === 'password') return 'password123';
  return null;
}

/**
 * A value the schema accepts: required properties only, plus the first optional one when
 * nothing is required (so an update names something). `name` is the property it is for (an
 * array's items are `name[]`); `hints` gives values by property name (the caller's own ids).
 */
export function exampleOf(s: JsonSchema, name = '', hints: Record<string, unknown> = {}): unknown {
  if (name in hints) return hints[name];
  if (s.default !== undefined && s.type !== 'object') return s.default;
  if (s.enum) return s.enum[0];
  const alt = s.anyOf ?? s.oneOf;
  if (alt) return exampleOf(alt.find((x) => x.type !== 'null') ?? alt[0]!, name, hints);
  const type = Array.isArray(s.type) ? s.type.find((t) => t !== 'null') : s.type;
  switch (type) {
    case 'object': {
      const props = s.properties ?? {};
      const required = s.required ?? [];
      const names = required.length ? required : Object.keys(props).slice(0, 1);
      return Object.fromEntries(names.map((n) => [n, exampleOf(props[n] ?? {}, n, hints)]));
    }
    case 'array': {
      const n = Math.max(1, s.minItems ?? 0);
      return Array.from({ length: n }, () => exampleOf(s.items ?? {}, `${name}[]`, hints));
    }
    case 'integer':
    case 'number':
      return Math.max(1, s.minimum ?? 1, s.exclusiveMinimum !== undefined ? Number(s.exclusiveMinimum) + 1 : 1);
    case 'boolean':
      return true;
    case 'string': {
      if (s.pattern && s.format !== 'email') {
        const v = PATTERNS[s.pattern];
        if (v === undefined) throw new Error(`no example for the pattern ${s.pattern} (field ${name}): add one to PATTERNS`);
        return v;
      }
      const byName = stringByName(name);
      if (byName !== null) return byName;
      const min = s.minLength ?? 1;
      return min > 12 ? 'x'.repeat(min) : 'Attack test';
    }
    default:
      return 'Attack test';
  }
}

// ---- a tenant's resources, made through the API ----

export type Kind = 'apiKey' | 'message' | 'contact' | 'group' | 'campaign' | 'subAccount' | 'template' | 'blacklist' | 'webhook' | 'audit' | 'segment';
/** What only the operator owns (admin routes) or what every account shares (packages on sale). */
export type SharedKind = 'account' | 'senderId' | 'globalBlacklist' | 'package' | 'order';

/** The kind of row a path's {id} names, from the segment before it; a new kind of path fails here until it is named. */
export function kindOf(route: Pick<Route, 'path'>): Kind | SharedKind {
  const before = /\/([\w-]+)\/\{id\}/.exec(route.path)?.[1];
  const admin = route.path.startsWith('/api/admin/');
  const kinds: Record<string, Kind | SharedKind> = {
    'api-keys': 'apiKey', keys: 'apiKey', messages: 'message', status: 'message', contacts: 'contact', 'contact-groups': 'group',
    campaigns: 'campaign', 'sub-accounts': 'subAccount', templates: 'template', blacklist: admin ? 'globalBlacklist' : 'blacklist',
    webhooks: 'webhook', 'audit-logs': 'audit', segments: 'segment', packages: 'package', accounts: 'account', 'sender-ids': 'senderId', orders: 'order',
  };
  const kind = before === undefined ? undefined : kinds[before];
  if (!kind) throw new Error(`${route.path}: no resource kind for its {id}; name it in kindOf`);
  return kind;
}

export interface Resources {
  /** A string found in every name this tenant gave, and nowhere else. */
  marker: string;
  phones: string[];
  ids: Record<Kind, number>;
  contactUuid: string;
  messageUuid: string;
  senderIdId: number;
  /** The second API key's secret (the one the matrix aims at; `Tenant.key` keeps working for the tenant). */
  targetKey: string;
}

const SHARED: readonly string[] = ['account', 'senderId', 'globalBlacklist', 'package', 'order'] satisfies SharedKind[];

/** The tenant-owned kind a route's {id} names; null when it has none, or names what is not a tenant's. */
export function ownedKind(route: Pick<Route, 'path' | 'params'>): Kind | null {
  if (!route.params.length) return null;
  const kind = kindOf(route);
  return SHARED.includes(kind) ? null : (kind as Kind);
}

/** The id as the route's dialect writes it: Mifumo names contacts and messages by uuid. */
export function idFor(route: Pick<Route, 'path' | 'tag'>, r: Resources): string {
  const kind = kindOf(route) as Kind;
  if (route.tag === 'mifumo' && kind === 'contact') return r.contactUuid;
  if (route.tag === 'mifumo' && kind === 'message') return r.messageUuid;
  const id = r.ids[kind];
  if (id === undefined) throw new Error(`${route.path}: no ${kind} made for the tenant`);
  return String(id);
}

/**
 * One of everything a tenant owns, made through the API as the tenant: contacts (SendWave and
 * Mifumo), a group, a template, a draft campaign, webhooks (SendWave and Mifumo), a sub-account,
 * a blacklist entry, a second API key, a segment, a sender ID request, messages (SendWave and
 * Mifumo, waited for until final), and so audit rows. `phoneBase`: 6 digits after +24162, unique
 * to the tenant. Funds the account through the harness (an operator's top-up).
 */
export async function seedResources(gw: Gateway, t: Tenant, marker: string, phoneBase: number): Promise<Resources> {
  const token = t.token;
  const phones = [0, 1, 2].map((i) => `+24162${String(phoneBase + i).padStart(6, '0')}`);
  await gw.credits.credit({ accountId: t.id, amount: 1000, reason: 'topup', reference: 'attack' });
  const contact = (await ok(gw, 'POST', '/api/contacts', { token, body: { name: `${marker} contact`, phone: phones[0], email: `${marker.toLowerCase()}@example.com`, tags: [marker] } })).data;
  const mContact = (await ok(gw, 'POST', '/api/integration/v1/contacts/create/', { token: t.key, body: { name: `${marker} mifumo`, phone_number: phones[1], tags: [marker] } })).data;
  const group = (await ok(gw, 'POST', '/api/contact-groups', { token, body: { name: `${marker} group` } })).data;
  await ok(gw, 'POST', `/api/contact-groups/${group.id}/contacts/add`, { token, body: { contact_ids: [contact.id] } });
  const template = (await ok(gw, 'POST', '/api/templates', { token, body: { name: `${marker} template`, content: `Hello {nom} ${marker}`, is_public: true } })).data;
  const segment = (await ok(gw, 'POST', '/api/integration/v1/contacts/segments/create/', { token, body: { name: `${marker} segment`, tags: [marker] } })).data;
  const campaign = (await ok(gw, 'POST', '/api/campaigns', { token, body: { name: `${marker} campaign`, message_content: `Promo ${marker}`, contact_ids: [contact.id], group_ids: [group.id], segment_ids: [segment.id] } })).data;
  // Subscribed to an event this suite never causes: its logs stay as they are.
  const webhook = (await ok(gw, 'POST', '/api/webhooks', { token, body: { name: `${marker} webhook`, url: `https://203.0.113.10/${marker}`, events: ['contact.deleted'], secret: `${marker}-webhook-secret-0123456789` } })).data;
  await ok(gw, 'POST', '/api/auth/webhooks/create/', { token, body: { url: `https://203.0.113.11/${marker}`, events: ['sub_account.suspended'], name: `${marker} mifumo hook` } });
  const sub = (await ok(gw, 'POST', '/api/sub-accounts', { token, body: { name: `${marker} viewer`, email: `${marker.toLowerCase()}.viewer@example.com`, password: PASSWORD, role: 'viewer' } })).data;
  const blacklist = (await ok(gw, 'POST', '/api/blacklist', { token, body: { phone_number: phones[2], reason: `${marker} blacklist` } })).data;
  const key2 = (await ok(gw, 'POST', '/api/api-keys', { token, body: { name: `${marker} target key` } })).data;
  const sender = (await ok(gw, 'POST', '/api/sender-ids', { token, body: { name: marker.slice(0, 11) } })).data;
  const sent = (await ok(gw, 'POST', '/api/messages/send', { token, body: { recipients: [phones[0]], message: `Bonjour ${marker}` } })).data;
  const mSent = (await ok(gw, 'POST', '/api/integration/v1/sms/send/', { token: t.key, body: { recipients: [phones[1]], message: `Habari ${marker}` } })).data;
  const messageId = sent.message_ids[0] as number;
  const mine = await gw.store.db.selectFrom('messages').select('id').where('account_id', '=', t.id).execute();
  await gw.waitFinal(mine.map((m) => m.id));
  const audit = (await ok(gw, 'GET', '/api/audit-logs?per_page=1', { token })).data[0];
  return {
    marker, phones, contactUuid: mContact.id, messageUuid: mSent.message_id, senderIdId: sender.id, targetKey: key2.key,
    ids: {
      apiKey: key2.id, message: messageId, contact: contact.id, group: group.id, campaign: campaign.id, subAccount: sub.id,
      template: template.id, blacklist: blacklist.id, webhook: webhook.id, audit: audit.id, segment: segment.id,
    },
  };
}
