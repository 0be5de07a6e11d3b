/**
 * Route-table fuzz (issue 12, attack suite). The routes come from the running daemon's own
 * /api/openapi.json — every operation of every dialect and the admin API — plus the operations
 * endpoints (not in the document). For each one a bounded, seeded batch of hostile requests:
 * bodies mutated from the documented schema (wrong types, huge strings, deep nesting within the
 * body limit, arrays for objects, `__proto__` / `constructor` keys, 1e309, -0, "NaN", unicode
 * edge cases, bytes that are not UTF-8, invalid JSON, other content types, empty bodies), path
 * ids (0, -1, 1.0, 0x10, 1e0, %00, very long, ../, uuids, another tenant's), query strings
 * (repeated keys, arrays, huge values, bad dates) and headers (other Authorization schemes, very
 * long or forged tokens), as the account's token, its API key, an admin (admin routes) and
 * anonymously, over node:http (so nothing is normalized on the way). Every answer: no 5xx, an
 * error in the shape of the dialect that owns the path, and the daemon still answers /healthz.
 *
 * The seed is printed; RELAIS_FUZZ_SEED=<n> replays a run, RELAIS_FUZZ_ROUNDS=<n> multiplies it.
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { adminToken, call } from '../support/api.js';
import type { Gateway } from '../support/harness.js';
import {
  asCallResult, errorShapeProblem, exampleOf, fill, idFor, isAdmin, login, ownedKind, ownerOf, rawRequest, rng, routeTable, seedResources, tenant, withAttackGateway,
  type JsonSchema, type Resources, type Rng, type Route, type Tenant,
} from './support.js';

const SEED = process.env.RELAIS_FUZZ_SEED ? Number(process.env.RELAIS_FUZZ_SEED) : 20_261_201;
const ROUNDS = Math.max(1, Number(process.env.RELAIS_FUZZ_ROUNDS ?? 1));

/** A piece of JSON text written as is (1e309, a lone surrogate escape, deep nesting). */
class Raw {
  constructor(readonly text: string) {}
}

function toJson(v: unknown): string {
  if (v instanceof Raw) return v.text;
  if (Array.isArray(v)) return `[${v.map(toJson).join(',')}]`;
  if (v !== null && typeof v === 'object') return `{${Object.entries(v).map(([k, x]) => `${JSON.stringify(k)}:${toJson(x)}`).join(',')}}`;
  return JSON.stringify(v) ?? 'null';
}

const deepArray = (n: number) => new Raw('['.repeat(n) + ']'.repeat(n));
const deepObject = (n: number) => new Raw('{"a":'.repeat(n) + '1' + '}'.repeat(n));

/** Values no field expects. */
function hostileValue(r: Rng): unknown {
  const values: (() => unknown)[] = [
    () => new Raw('1e309'), () => new Raw('-1e309'), () => new Raw('-0'), () => new Raw('1e-400'), () => new Raw('9007199254740993'),
    () => new Raw('123456789012345678901234567890'), () => 'NaN', () => 'Infinity', () => '-0', () => '1e309', () => 0, () => -1, () => 2 ** 31, () => -(2 ** 53),
    () => 3.5, () => true, () => false, () => null, () => ({}), () => [], () => [[]], () => [null], () => [{}], () => ({ a: { b: [1, 'x', null] } }),
    () => '', () => ' ', () => 'x'.repeat(100_000), () => 'é'.repeat(30_000), () => new Raw('"\\ud800"'), () => new Raw('"a\\udc00b"'),
    () => '\u0000', () => 'a\u0000b', () => '\u202etxt.exe', () => '\ufeffBOM', () => '\u2028\u2029', () => '👨‍👩‍👧‍👦'.repeat(200), () => 'e\u0301'.repeat(500),
    () => '\ufffd', () => '＋２４１６２０００００００１', () => '٠١٢٣٤٥٦٧٨٩', () => '+24162000001\n', () => "' OR '1'='1", () => '"; DROP TABLE messages; --',
    () => '{{7*7}}${7*7}', () => '<script>alert(1)</script>', () => '../../etc/passwd', () => "=cmd|' /C calc'!A0", () => 'http://127.0.0.1:22/',
    () => 'http://[::ffff:127.0.0.1]/', () => 'http://169.254.169.254/latest/meta-data/', () => 'file:///etc/passwd', () => 'javascript:alert(1)',
    () => Array.from({ length: 20_000 }, () => '+24162000001'), () => Array.from({ length: 10_001 }, (_, i) => i + 1), () => deepArray(64),
    () => ['a', 1, true, null, {}, []], () => '2020-13-45T25:61:61Z', () => '-271821-04-20T00:00:00Z', () => '99999-01-01',
  ];
  return r.pick(values)();
}

function randomJson(r: Rng, depth = 3): unknown {
  const k = r.int(depth > 0 ? 7 : 4);
  if (k === 0) return r.chance(0.5) ? r.int(1e6) - 5e5 : r.next() * 1e6;
  if (k === 1) return r.pick(['', 'x', 'null', '0', 'true', '[]', '{}', '☃', 'é'.repeat(r.int(50))]);
  if (k === 2) return r.pick([true, false, null]);
  if (k === 3) return hostileValue(r);
  if (k === 4) return Array.from({ length: r.int(5) }, () => randomJson(r, depth - 1));
  return Object.fromEntries(Array.from({ length: r.int(5) }, () => [r.pick(['name', 'id', 'phone', 'recipients', 'message', 'x', '', 'a.b', '0', 'constructor', 'toString', 'hasOwnProperty']), randomJson(r, depth - 1)]));
}

interface Payload {
  label: string;
  body?: Buffer | string;
  contentType?: string;
}

/** Top-level property names of a body schema (and the required ones). */
const propsOf = (s: JsonSchema | null) => ({ names: Object.keys(s?.properties ?? {}), required: s?.required ?? [] });

/** The mutations of a valid body, in turn, each with its own random choices. */
function bodyPayloads(route: Route, r: Rng, n: number): Payload[] {
  const base = route.body ? (exampleOf(route.body) as Record<string, unknown>) : {};
  const { names, required } = propsOf(route.body);
  const field = () => (names.length ? r.pick(names) : r.pick(['name', 'x']));
  const withField = (v: unknown) => ({ ...base, [field()]: v });
  const json = (label: string, v: unknown): Payload => ({ label, body: toJson(v) });
  const kinds: (() => Payload)[] = [
    () => json('valid example', base),
    () => json('a field hostile', withField(hostileValue(r))),
    () => json('a field hostile', withField(hostileValue(r))),
    () => json('a nested value hostile', replaceSomewhere(route.body ? fullExampleOf(route.body) : base, r)),
    () => json('every field given', route.body ? fullExampleOf(route.body) : base),
    () => {
      const b = { ...base };
      delete b[r.pick(required.length ? required : [field()])];
      return json('a required field missing', b);
    },
    () => {
      const inner = toJson(base).slice(1);
      const pollution = r.pick(['"__proto__":{"role":"admin","isAdmin":true}', '"constructor":{"prototype":{"role":"admin"}}', '"__proto__":[]', '"prototype":1']);
      return { label: 'prototype keys', body: `{${pollution}${inner === '}' ? '}' : `,${inner}`}` };
    },
    () => json('random JSON', randomJson(r)),
    () => ({ label: 'not a JSON object', body: r.pick(['', '{', '{"a":}', "{'a':1}", 'NaN', '[1,]', '{"a":1,}', 'null', 'true', '"x"', '123', '[]', '[{}]', '\u0000', '{"a":"\\x"}', '{"a":"\\u12"}', ' '.repeat(1000)]) }),
    () => json('deep nesting', withField(r.pick([deepArray(r.pick([64, 3000, 20_000, 200_000])), deepObject(r.pick([64, 3000, 20_000, 100_000]))]))),
    () => ({ label: 'deep nesting at the root', body: r.pick([deepArray(50_000), deepObject(50_000)]).text }),
    () => json('numbers at the edge', withField(new Raw(r.pick(['1e309', '-1e309', '-0', '1e-400', '9007199254740993', '0.1e1', '1E2', '-9223372036854775809'])))),
    () => json('array for an object', [base]),
    () => ({ label: 'duplicate keys', body: `{${JSON.stringify(field())}:1,${toJson(base).slice(1)}` }),
    () => ({ label: 'bytes that are not UTF-8', body: Buffer.concat([Buffer.from(`{${JSON.stringify(field())}:"a`), Buffer.from(r.pick([[0xff, 0xfe], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80]])), Buffer.from('z"}')]) }),
    () => ({ label: 'other content type', body: r.pick([toJson(base), 'a=1&b=2', '<a>1</a>']), contentType: r.pick(['text/plain', 'application/x-www-form-urlencoded', 'application/xml', 'multipart/form-data', 'multipart/form-data; boundary=x', 'application/json; charset=utf-16', 'application/json; charset=bogus', 'application/octet-stream', '']) }),
    () => json('a huge string', withField('x'.repeat(r.pick([10_000, 300_000])))),
  ];
  if (!route.body && route.method === 'POST') kinds.push(() => multipart(r), () => multipart(r));
  if (r.chance(0.08)) kinds.push(() => ({ label: 'over the body limit', body: `{"x":"${'x'.repeat(2100 * 1024)}"}` }));
  const start = r.int(kinds.length);
  return Array.from({ length: n }, (_, i) => kinds[(start + i) % kinds.length]!());
}

/** Every property of the schema, nested ones too (the documented example has only the required ones). */
function fullExampleOf(s: JsonSchema): unknown {
  const full = (x: JsonSchema): JsonSchema => ({
    ...x, required: Object.keys(x.properties ?? {}),
    ...(x.properties ? { properties: Object.fromEntries(Object.entries(x.properties).map(([k, v]) => [k, full(v)])) } : {}),
    ...(x.items ? { items: full(x.items) } : {}),
  });
  return exampleOf(full(s));
}

/** One value somewhere inside (an object's property or an array's item, at any depth) replaced by a hostile one. */
function replaceSomewhere(v: unknown, r: Rng): unknown {
  if (Array.isArray(v) && v.length && r.chance(0.8)) {
    const i = r.int(v.length);
    return v.map((x, j) => (j === i ? replaceSomewhere(x, r) : x));
  }
  if (v !== null && typeof v === 'object' && !(v instanceof Raw) && Object.keys(v).length && r.chance(0.8)) {
    const k = r.pick(Object.keys(v));
    return { ...(v as Record<string, unknown>), [k]: replaceSomewhere((v as Record<string, unknown>)[k], r) };
  }
  return hostileValue(r);
}

/** A multipart upload (the CSV import): a file of random CSV lines or random bytes, whole or broken on the way. */
function multipart(r: Rng): Payload {
  const boundary = `----fuzz${r.int(1e9)}`;
  const cells = ['name', 'phone', '+24162000001', '"quoted, cell"', 'ab"c', '"', '=1+2', '\u0000', '\ud800', 'é'.repeat(300), ';', ',,,,', '\r', '+24177000001', '"""', '@SUM(A1)'];
  const line = () => Array.from({ length: 1 + r.int(6) }, () => r.pick(cells)).join(r.pick([',', ';', '\t']));
  const csv = Array.from({ length: 1 + r.int(40) }, line).join(r.pick(['\n', '\r\n', '\r']));
  const file = r.chance(0.2) ? Buffer.from(Array.from({ length: 2000 }, () => r.int(256))) : Buffer.from(csv);
  const name = r.pick(['file', 'file', 'other', '']);
  const filename = r.pick(['c.csv', '../../etc/passwd', '', 'x'.repeat(500)]);
  const head = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"; filename="${filename}"\r\nContent-Type: text/csv\r\n\r\n`);
  const tail = Buffer.from(r.pick([`\r\n--${boundary}--\r\n`, `\r\n--${boundary}`, '', '\r\n--other--\r\n']));
  const contentType = r.pick([`multipart/form-data; boundary=${boundary}`, 'multipart/form-data', 'multipart/form-data; boundary=wrong']);
  return { label: 'multipart upload', body: Buffer.concat([head, file, tail]), contentType };
}

const ODD_IDS = [
  '0', '-1', '1.0', '0x10', '1e0', '%00', '%2e%2e%2f', '..%2F..%2Fadmin', '..', 'x'.repeat(3000), '9'.repeat(40), '%ff', '%', '%zz', '1%20', '+1', '01',
  "1'%20OR%20'1'='1", 'null', 'undefined', '%E2%80%AE1', '1;', 'NaN', 'Infinity', '__proto__', 'constructor', '0b7e7c3e-9a52-4b51-8f0e-2a1d5c6e7f80',
  'FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF', '00000000-0000-0000-0000-000000000000', '1,2', '[1]', '%5B1%5D', '9007199254740993', '-0',
];

const ODD_QUERY_VALUES = [
  '', '0', '-1', '1e3', '9'.repeat(400), 'NaN', 'Infinity', 'abc', '-0', '1.5', '0x10', '%ff', '%00', '%', '%zz', '%ED%A0%80', 'x'.repeat(6000), 'true', 'null',
  '2020-13-45', '2020-02-30T25:61:61Z', '99999-01-01', '-271821-04-20', '0000-00-00', 'now', '1e10', "'%20OR%201=1--", '%3Cscript%3E', '%E2%80%AE',
];

function queryStrings(route: Route, r: Rng, n: number): string[] {
  const names = route.query.length ? route.query.map((q) => q.name) : ['page', 'per_page', 'q', 'status', 'x'];
  const forms: (() => string)[] = [
    () => `${r.pick(names)}=${r.pick(ODD_QUERY_VALUES)}`,
    () => `${r.pick(names)}=${r.pick(ODD_QUERY_VALUES)}&${r.pick(names)}=${r.pick(ODD_QUERY_VALUES)}`,
    () => { const k = r.pick(names); return `${k}=1&${k}=2&${k}=3`; },
    () => `${r.pick(names)}[]=1&${r.pick(names)}[]=2`,
    () => `${r.pick(names)}[a][b]=1`,
    () => r.pick(['&&&', '=', 'a', '%', '==1', '__proto__[role]=admin', 'constructor[prototype][x]=1', 'hasOwnProperty=1', `${'k'.repeat(200)}=${'v'.repeat(200)}`]),
    () => names.map((k) => `${k}=${r.pick(ODD_QUERY_VALUES)}`).join('&'),
  ];
  return Array.from({ length: n }, () => r.pick(forms)());
}

type Who = 'token' | 'key' | 'admin' | 'anonymous';

interface Creds {
  token: string;
  key: string;
  admin: string;
}

function authHeader(r: Rng, creds: Creds, who: Who): Record<string, string> {
  if (who === 'anonymous') return {};
  return { authorization: `Bearer ${creds[who]}` };
}

/** Authorization and other headers a client should not send. */
function oddHeaders(r: Rng, creds: Creds): { label: string; headers: Record<string, string> } {
  const t = creds.token;
  const forms: [string, Record<string, string>][] = [
    ['Basic scheme', { authorization: 'Basic dXNlcjpwYXNzd29yZA==' }],
    ['Bearer without token', { authorization: 'Bearer' }],
    ['Bearer and spaces', { authorization: 'Bearer    ' }],
    ['Token scheme', { authorization: `Token ${t}` }],
    ['two tokens', { authorization: `Bearer ${t} ${t}` }],
    ['a very long token', { authorization: `Bearer ${'A'.repeat(8000)}` }],
    ['a very long API key', { authorization: `Bearer rk_${'A'.repeat(8000)}` }],
    ['a forged API key', { authorization: `Bearer rk_${'A'.repeat(43)}` }],
    ['an empty API key', { authorization: 'Bearer rk_' }],
    ['a token with a byte more', { authorization: `Bearer ${t}x` }],
    ['a token in upper case', { authorization: `Bearer ${t.toUpperCase()}` }],
    ['three dots', { authorization: 'Bearer ..' }],
    ['a.b.c', { authorization: 'Bearer a.b.c' }],
    ['half a JWT', { authorization: `Bearer ${t.slice(0, 20)}` }],
    ['latin-1 in the token', { authorization: 'Bearer \u00e9\u00ff' }],
    ['tab separator', { authorization: `Bearer\t${t}` }],
    ['lower-case scheme', { authorization: `bearer ${t}` }],
    ['a huge Idempotency-Key', { authorization: `Bearer ${t}`, 'idempotency-key': 'k'.repeat(7000) }],
    ['a huge X-Request-Id', { authorization: `Bearer ${t}`, 'x-request-id': 'r'.repeat(4000) }],
    ['spoofed X-Forwarded-For', { authorization: `Bearer ${t}`, 'x-forwarded-for': '10.0.0.1, 127.0.0.1', 'x-forwarded-proto': 'javascript' }],
    ['another Host', { authorization: `Bearer ${t}`, host: 'evil.example' }],
    ['Accept CSV', { authorization: `Bearer ${t}`, accept: 'text/csv' }],
    ['a cookie', { authorization: `Bearer ${t}`, cookie: `session=${'c'.repeat(2000)}` }],
  ];
  const [label, headers] = r.pick(forms);
  return { label, headers };
}

interface Attempt {
  label: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: Buffer | string;
  who: Who | 'odd header';
}

function attemptsFor(route: Route, r: Rng, creds: Creds, ids: { own: Resources; other: Resources }): Attempt[] {
  const out: Attempt[] = [];
  const hasBodyMethod = route.method !== 'GET';
  const whoFor = (): Who => (r.chance(0.15) ? 'anonymous' : isAdmin(route) ? (r.chance(0.7) ? 'admin' : 'token') : r.chance(0.5) ? 'token' : 'key');
  const owned = ownedKind(route) !== null;
  const ownId = () => (owned ? idFor(route, ids.own) : '1');
  const pathWith = (id: string, query = '') => `${fill(route.path, { id })}${query ? `?${query}` : ''}`;
  const validBody = route.body ? toJson(exampleOf(route.body)) : undefined;
  const idOf = () => (!route.params.length ? '' : owned && r.chance(0.7) ? ownId() : String(1 + r.int(5)));
  const push = (label: string, path: string, who: Who, body?: Buffer | string, contentType = 'application/json', extra: Record<string, string> = {}) => {
    const headers: Record<string, string> = { accept: 'application/json', ...authHeader(r, creds, who), ...extra };
    if (body !== undefined && contentType) headers['content-type'] = contentType;
    out.push({ label, method: route.method, path, headers, body, who });
  };
  // Bodies.
  const nBodies = route.body ? 18 : hasBodyMethod ? 6 : 2;
  for (const p of bodyPayloads(route, r, nBodies)) push(`body: ${p.label}`, pathWith(idOf()), whoFor(), p.body, p.contentType ?? 'application/json');
  // Path ids.
  if (route.params.length) {
    const candidates = [...ODD_IDS, owned ? idFor(route, ids.other) : '2'];
    for (let i = 0; i < 10; i++) push('path id', pathWith(r.pick(candidates)), whoFor(), validBody);
  }
  // Query strings.
  for (const q of queryStrings(route, r, route.method === 'GET' || route.query.length ? 8 : 2)) push(`query ${q.slice(0, 60)}`, pathWith(idOf(), q), whoFor(), validBody);
  // Headers.
  for (let i = 0; i < 5; i++) {
    const { label, headers } = oddHeaders(r, creds);
    out.push({ label: `header: ${label}`, method: route.method, path: pathWith(idOf()), headers: { accept: 'application/json', ...(validBody ? { 'content-type': 'application/json' } : {}), ...headers }, body: validBody, who: 'odd header' });
  }
  // Another method on the path, and the path with its trailing slash toggled (another dialect's 404).
  const other = r.pick(['GET', 'POST', 'PUT', 'PATCH', 'DELETE'].filter((m) => m !== route.method));
  out.push({ label: 'another method', method: other, path: pathWith(idOf()), headers: { accept: 'application/json', ...authHeader(r, creds, 'token') }, who: 'token' });
  const toggled = route.path.endsWith('/') ? pathWith(idOf()).slice(0, -1) : `${pathWith(idOf())}/`;
  out.push({ label: 'trailing slash toggled', method: route.method, path: toggled, headers: { accept: 'application/json', ...authHeader(r, creds, 'key') }, body: validBody, who: 'key' });
  return out;
}

/** The operations endpoints and a few paths nobody serves: not in the OpenAPI document, fuzzed all the same. */
const OPS: Route[] = ['/healthz', '/readyz', '/metrics', '/ops/binds', '/api/openapi.json', '/', '/console', '/api', '/api/', '/campaigns/api/', '/campaigns/api/nothing', '/api/admin', '/api/nothing/']
  .map((path) => ({ method: 'GET', path, tag: ownerOf(path), auth: false, permission: null, body: null, query: [], params: [], summary: 'ops' }));

interface Anomaly {
  what: string;
  status: number;
  problem: string;
  text: string;
}

/** Logs in again or makes a new key when a fuzzed logout, revocation or suspension took them away. */
async function keepCredentials(gw: Gateway, who: Tenant, creds: Creds): Promise<void> {
  const me = await call(gw, 'GET', '/api/auth/me', { token: creds.token });
  if (me.status === 403) {
    const id = (await call(gw, 'POST', `/api/admin/accounts/${who.id}/activate`, { token: creds.admin }));
    assert.equal(id.status, 200, `reactivate the fuzzed account: ${id.text}`);
  }
  if (me.status !== 200) creds.token = await login(gw, who.email);
  if ((await call(gw, 'GET', '/api/auth/me', { token: creds.key })).status !== 200) {
    const k = await call(gw, 'POST', '/api/api-keys', { token: creds.token, body: { name: 'fuzz again' } });
    assert.equal(k.status, 201, k.text);
    creds.key = k.json.data.key;
  }
  if ((await call(gw, 'GET', '/api/auth/me', { token: creds.admin })).status !== 200) creds.admin = await adminToken(gw);
}

test(`every route of every dialect, fuzzed (seed ${SEED}, rounds ${ROUNDS}): no 5xx, no crash, every error in its dialect's shape`, async (t) => {
  console.log(`# fuzz seed ${SEED} (RELAIS_FUZZ_SEED=${SEED} replays it), rounds ${ROUNDS}`);
  t.diagnostic(`fuzz seed ${SEED}`);
  const sink = new PassThrough();
  let errors = '';
  sink.on('data', (d: Buffer) => (errors += d.toString()));
  await withAttackGateway(async (gw) => {
    const routes = await routeTable(gw);
    assert.ok(routes.length > 100, `the OpenAPI document lists ${routes.length} operations`);
    for (const tag of ['sendwave', 'mifumo', 'flow']) assert.ok(routes.some((x) => x.tag === tag), `no ${tag} operation in the document`);
    for (const route of routes) assert.equal(route.tag, ownerOf(route.path), `${route.method} ${route.path}: tagged ${route.tag}, served in ${ownerOf(route.path)}'s shape`);

    const me = await tenant(gw, 'fuzz@example.com', 'Fuzz');
    const other = await tenant(gw, 'other@example.com', 'Other');
    const own = await seedResources(gw, me, 'FuzzOwn', 100);
    const others = await seedResources(gw, other, 'FuzzOther', 200);
    const creds: Creds = { token: me.token, key: me.key, admin: await adminToken(gw) };
    const pack = await call(gw, 'POST', '/api/admin/packages', { token: creds.admin, body: { name: 'Fuzz pack', sms_count: 100, price: 1000, currency: 'XAF' } });
    assert.equal(pack.status, 201, pack.text);
    const r = rng(SEED);
    const anomalies: Anomaly[] = [];
    let sent = 0;
    const started = Date.now();
    for (let round = 0; round < ROUNDS; round++) {
      for (const route of [...routes, ...OPS]) {
        for (const a of attemptsFor(route, r, creds, { own, other: others })) {
          const what = `${a.label} | ${a.method} ${a.path.slice(0, 160)} as ${a.who}`;
          let res;
          try {
            res = asCallResult(await rawRequest(gw, a.method, a.path, a.headers, a.body));
          } catch (err) {
            anomalies.push({ what, status: 0, problem: `no answer: ${(err as Error).message}`, text: '' });
            continue;
          }
          sent++;
          const pathname = a.path.split('?')[0]!;
          const problem = res.status >= 500 ? 'server error' : errorShapeProblem(ownerOf(pathname), res);
          if (problem) anomalies.push({ what, status: res.status, problem, text: res.text.slice(0, 240) });
        }
        const health = await call(gw, 'GET', '/healthz');
        assert.equal(health.status, 200, `after ${route.method} ${route.path}, /healthz answers ${health.status}`);
        await keepCredentials(gw, me, creds);
      }
    }
    const seconds = (Date.now() - started) / 1000;
    t.diagnostic(`${sent} requests to ${routes.length} operations and ${OPS.length} other paths in ${seconds.toFixed(1)} s`);
    const failures = errors.split('\n').filter((l) => l.includes('"request failed"'));
    const report = anomalies.slice(0, 40).map((x) => `  ${x.status} ${x.problem} ← ${x.what}\n      ${x.text}`).join('\n');
    assert.equal(anomalies.length, 0, `${anomalies.length} answers out of ${sent} were wrong (seed ${SEED}):\n${report}\n${failures.slice(0, 3).join('\n').slice(0, 3000)}`);
    assert.deepEqual(failures, [], 'no request failed inside the daemon');
  }, { extra: { log: { level: 'error' } }, logTo: sink });
});

test('a body nested 200 000 deep (1 MB, within the body limit) is refused as a validation error in each dialect, not a 500', async () => {
  await withAttackGateway(async (gw) => {
    const a = await tenant(gw, 'deep@example.com', 'Deep');
    const depth = 200_000;
    for (const [path, dialect] of [['/api/contacts', 'sendwave'], ['/api/integration/v1/contacts/create/', 'mifumo'], ['/campaigns/api/senderids/', 'flow']] as const) {
      for (const body of [deepArray(depth).text, `{"name":${deepObject(depth).text}}`]) {
        const res = asCallResult(await rawRequest(gw, 'POST', path, { authorization: `Bearer ${a.token}`, 'content-type': 'application/json' }, body));
        assert.ok(res.status === 400 || res.status === 422, `${path}: ${res.status} ${res.text.slice(0, 200)}`);
        assert.equal(errorShapeProblem(dialect, res), null, `${path}: ${res.text.slice(0, 200)}`);
      }
    }
  });
});

/** Bytes written as they are on a fresh connection; what came back before it closed (or after `ms`). */
function onSocket(port: number, bytes: string, ms = 400): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let answer = '';
    socket.on('data', (d: Buffer) => (answer += d.toString('latin1')));
    socket.on('error', () => undefined);
    socket.on('close', () => resolve(answer));
    socket.write(Buffer.from(bytes, 'latin1'));
    setTimeout(() => {
      socket.end();
      setTimeout(() => socket.destroy(), 200);
    }, ms);
  });
}

test('malformed HTTP on the socket (lengths that lie, smuggling, bad chunks, folded or huge headers, garbage; pipelining) is refused without a crash, and logged as JSON, not on stderr', async () => {
  const out = new PassThrough();
  let logs = '';
  out.on('data', (d: Buffer) => (logs += d.toString()));
  const printed: string[] = [];
  const stderr = console.error;
  console.error = (...args: unknown[]) => void printed.push(args.map(String).join(' '));
  try {
    await withAttackGateway(async (gw) => {
      const port = Number(new URL(gw.url).port);
      const a = await tenant(gw, 'socket@example.com', 'Socket');
      const auth = `Authorization: Bearer ${a.token}\r\n`;
      const json = 'Content-Type: application/json\r\n';
      const cases: [string, string, RegExp][] = [
        ['a Content-Length longer than the body, then the client leaves', `POST /api/contacts HTTP/1.1\r\nHost: x\r\n${auth}${json}Content-Length: 100\r\n\r\n{"name":"a"}`, /^(HTTP\/1\.1 400 |$)/],
        ['a Content-Length shorter than the body', `POST /api/contacts HTTP/1.1\r\nHost: x\r\n${auth}${json}Content-Length: 5\r\n\r\n{"name":"a","phone":"+24162000001"}`, /^HTTP\/1\.1 400 /],
        ['Content-Length with Transfer-Encoding', `POST /api/contacts HTTP/1.1\r\nHost: x\r\n${auth}${json}Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`, /^HTTP\/1\.1 400 /],
        ['two Content-Lengths', `POST /api/contacts HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}`, /^HTTP\/1\.1 400 /],
        ['a negative Content-Length', `POST /api/contacts HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n`, /^HTTP\/1\.1 400 /],
        ['a chunk size that is not hex', `POST /api/contacts HTTP/1.1\r\nHost: x\r\n${auth}${json}Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n`, /^HTTP\/1\.1 400 /],
        ['a header without a colon', `GET /api/auth/me HTTP/1.1\r\nHost: x\r\nbroken header\r\n\r\n`, /^HTTP\/1\.1 400 /],
        ['a folded Authorization header', `GET /api/auth/me HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer\r\n ${a.token}\r\n\r\n`, /^HTTP\/1\.1 400 /],
        ['a 20 KB header', `GET /api/auth/me HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`, /^HTTP\/1\.1 431 /],
        ['raw bytes in the path', `GET /api/contacts/\xe9\xff HTTP/1.1\r\nHost: x\r\n${auth}\r\n`, /^HTTP\/1\.1 400 /],
        ['an unknown method', `BREW /api/auth/me HTTP/1.1\r\nHost: x\r\n\r\n`, /^HTTP\/1\.1 400 /],
        ['TRACE', `TRACE /api/contacts HTTP/1.1\r\nHost: x\r\n\r\n`, /^HTTP\/1\.1 405 [\s\S]*"message":"The TRACE method is not supported for this route\."/],
        ['an HTTP/2 preface', 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', /^HTTP\/1\.1 400 /],
        ['a TLS hello', '\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03', /^HTTP\/1\.1 400 /],
        ['CONNECT', 'CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: x\r\n\r\n', /^$/],
        ['three requests pipelined', `GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /api/auth/me HTTP/1.1\r\nHost: x\r\n\r\nGET /api/nothing/ HTTP/1.1\r\nHost: x\r\n\r\n`, /^HTTP\/1\.1 200 [\s\S]*HTTP\/1\.1 401 [\s\S]*"message":"Unauthenticated\."[\s\S]*HTTP\/1\.1 404 [\s\S]*"error_code":"NOT_FOUND"/],
      ];
      for (const [what, bytes, expected] of cases) {
        const answer = await onSocket(port, bytes);
        assert.match(answer, expected, `${what}: ${answer.slice(0, 300)}`);
        assert.equal((await call(gw, 'GET', '/healthz')).status, 200, `after ${what}`);
      }
      assert.equal((await call(gw, 'GET', '/api/auth/me', { token: a.token })).status, 200);
    }, { extra: { log: { level: 'debug' } }, logTo: out });
  } finally {
    console.error = stderr;
  }
  assert.deepEqual(printed, [], 'nothing printed outside the JSON log');
  assert.match(logs, /"msg":"http connection error"/);
  assert.ok(!logs.includes('Bearer'), 'no request bytes in the log');
});
