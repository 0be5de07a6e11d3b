/**
 * Isolation matrix (issue 12, attack suite), generated from the running daemon's route table
 * (/api/openapi.json): two tenants, A and B, each with one of everything made through the API.
 * - every route with a path id: B (its token, its API key, its admin sub-account) with A's id
 *   answers 404 in the dialect's shape, and A's resource reads the same afterwards (B's own id,
 *   as a control, is not a 404);
 * - every route that needs a caller: 401 without credentials and with a bad one;
 * - every /api/admin route: 403 for an account's token, its API key, and its admin sub-account;
 * - a viewer sub-account: 403 on every route whose permission it does not hold, and nothing changed;
 * - every list: B's answers never carry A's names, numbers or emails;
 * - ids of A's named in B's bodies (contacts, groups, segments, templates, sender IDs) reach none
 *   of A's numbers.
 */
import assert from 'node:assert/strict';
import { before, after, test } from 'node:test';
import { adminToken, call, PASSWORD } from '../support/api.js';
import { startGateway, startSimulator, waitFor, type Gateway } from '../support/harness.js';
import type { SmscSimulator } from '../../src/smpp/simulator/simulator.js';
import {
  ATTACK_CONFIG, errorShapeProblem, exampleOf, fill, idFor, isAdmin, kindOf, login, ok, ownedKind, routeTable, seedResources, tenant,
  type Kind, type Resources, type Route, type Tenant,
} from './support.js';

let sim: SmscSimulator;
let gw: Gateway;
let routes: Route[];
let A: Tenant;
let B: Tenant;
let resA: Resources;
let resB: Resources;
let admin: string;
/** A token of B's sub-account of role admin: B's third way in. */
let bSub: string;

before(async () => {
  sim = await startSimulator({ systemId: 'airtel', password: 'pw' });
  gw = await startGateway([{ name: 'airtel', binds: [{ port: sim.port }] }], ATTACK_CONFIG);
  routes = await routeTable(gw);
  A = await tenant(gw, 'alpha@example.com', 'Alpha');
  B = await tenant(gw, 'bravo@example.com', 'Bravo');
  resA = await seedResources(gw, A, 'AlphaMark', 100);
  resB = await seedResources(gw, B, 'BravoMark', 200);
  admin = await adminToken(gw);
  await ok(gw, 'POST', '/api/sub-accounts', { token: B.token, body: { name: 'Bravo admin sub', email: 'bravo.admin@example.com', password: PASSWORD, role: 'admin' } });
  bSub = await login(gw, 'bravo.admin@example.com');
});

after(async () => {
  await gw.cleanup();
  await sim.stop();
});

/** A body the route accepts, naming the caller's own rows where it names any. */
const bodyOf = (route: Route, caller: Resources) =>
  (route.body ? exampleOf(route.body, '', { 'contact_ids[]': caller.ids.contact, percentage: 100, 'permissions[]': 'view_history' }) : undefined);

/** Fields that change when the owner only reads (a key's last use). */
function stable(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(stable);
  if (v === null || typeof v !== 'object') return v;
  return Object.fromEntries(Object.entries(v).filter(([k]) => k !== 'last_used_at').map(([k, x]) => [k, stable(x)]));
}

/** What A (its own token) reads of one kind of its resources, and whether its target key still works. */
async function read(kind: Kind, t: Tenant = A, r: Resources = resA): Promise<unknown> {
  const get = async (path: string) => {
    const res = await call(gw, 'GET', path, { token: t.token });
    return { status: res.status, body: stable(res.json) };
  };
  switch (kind) {
    case 'apiKey': return { keys: await get('/api/api-keys'), settings: await get('/api/auth/settings/'), works: (await call(gw, 'GET', '/api/auth/me', { token: r.targetKey })).status };
    case 'message': return [await get(`/api/messages/${r.ids.message}`), await get(`/api/integration/v1/sms/status/${r.messageUuid}/`)];
    case 'contact': return [await get(`/api/contacts/${r.ids.contact}`), await get(`/api/integration/v1/contacts/${r.contactUuid}/`)];
    case 'group': return [await get('/api/contact-groups'), await get(`/api/contact-groups/${r.ids.group}/contacts`)];
    case 'campaign': return get(`/api/campaigns/${r.ids.campaign}`);
    case 'subAccount': return get(`/api/sub-accounts/${r.ids.subAccount}`);
    case 'template': return get(`/api/templates/${r.ids.template}`);
    case 'blacklist': return get('/api/blacklist');
    case 'webhook': return [await get(`/api/webhooks/${r.ids.webhook}`), await get('/api/auth/settings/')];
    case 'audit': return get(`/api/audit-logs/${r.ids.audit}`);
    case 'segment': return get(`/api/integration/v1/contacts/segments/${r.ids.segment}/`);
  }
}

const KINDS: Kind[] = ['apiKey', 'message', 'contact', 'group', 'campaign', 'subAccount', 'template', 'blacklist', 'webhook', 'audit', 'segment'];

async function snapshot(): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = { balance: (await call(gw, 'GET', '/api/balance', { token: A.token })).json };
  for (const k of KINDS) out[k] = await read(k);
  return out;
}

const describe = (route: Route) => `${route.method} ${route.path}`;

test('another tenant\'s id answers 404 in the dialect\'s shape on every route with a path id, and changes nothing', async () => {
  const targeted = routes.filter((r) => !isAdmin(r) && ownedKind(r) !== null);
  const withIds = routes.filter((r) => r.params.length && !isAdmin(r));
  assert.deepEqual(withIds.filter((r) => ownedKind(r) === null).map(describe), ['POST /api/packages/{id}/purchase'], 'every path id but a package names a tenant\'s row');
  assert.deepEqual([...new Set(targeted.map((r) => kindOf(r)))].sort(), [...KINDS].sort(), 'every kind of resource is aimed at');
  const before = await snapshot();
  const wrong: string[] = [];
  for (const [i, route] of targeted.entries()) {
    const kind = ownedKind(route)!;
    const expected = await read(kind);
    const res = await call(gw, route.method, fill(route.path, { id: idFor(route, resA) }), { token: [B.token, B.key, bSub][i % 3], body: bodyOf(route, resB) });
    const problem = res.status !== 404 ? `answered ${res.status}` : errorShapeProblem(route.tag, res) ?? (route.tag === 'mifumo' && res.json.error_code !== 'NOT_FOUND' ? `error_code ${res.json.error_code}` : null);
    if (problem) wrong.push(`${describe(route)}: ${problem}: ${res.text.slice(0, 200)}`);
    assert.deepEqual(await read(kind), expected, `${describe(route)} with A's ${kind} changed it (answered ${res.status})`);
  }
  assert.deepEqual(wrong, [], `B reached A's rows:\n${wrong.join('\n')}`);
  assert.deepEqual(await snapshot(), before, 'A reads everything as before');
});

test('control: B\'s own ids on the same routes are found (the ids above had the right form)', async () => {
  // Routes that end a row (DELETE, revoke) last, and not checked: a second revocation of the same key is a 404 by design.
  const ending = (r: Route) => r.method === 'DELETE' || /\/revoke\/$/.test(r.path);
  const targeted = routes.filter((r) => !isAdmin(r) && ownedKind(r) !== null && !ending(r));
  const wrong: string[] = [];
  for (const route of targeted) {
    const res = await call(gw, route.method, fill(route.path, { id: idFor(route, resB) }), { token: B.token, body: bodyOf(route, resB) });
    if (res.status === 404 || res.status === 422 || res.status >= 500) wrong.push(`${describe(route)}: ${res.status} ${res.text.slice(0, 200)}`);
  }
  assert.deepEqual(wrong, [], `B's own rows were not reached:\n${wrong.join('\n')}`);
});

/** The route's path with ids the caller could name: A's own where the route names a tenant's row. */
const pathFor = (route: Route, r: Resources = resA) => fill(route.path, { id: ownedKind(route) ? idFor(route, r) : '1' });

test('every route that needs a caller answers 401 in its dialect\'s shape without credentials, and with a bad one', async () => {
  const guarded = routes.filter((r) => r.auth);
  assert.ok(guarded.length > 100);
  const wrong: string[] = [];
  for (const route of guarded) {
    for (const [label, headers] of [['none', {}], ['a bad token', { authorization: 'Bearer not-a-token' }], ['a bad key', { authorization: 'Bearer rk_not-a-key' }]] as const) {
      const res = await call(gw, route.method, pathFor(route), { headers, body: bodyOf(route, resA) });
      const problem = res.status !== 401 ? `answered ${res.status}` : errorShapeProblem(route.tag, res) ?? (route.tag === 'flow' && !res.headers.get('www-authenticate') ? 'no WWW-Authenticate' : null);
      if (problem) wrong.push(`${describe(route)} with ${label}: ${problem}: ${res.text.slice(0, 160)}`);
    }
  }
  assert.deepEqual(wrong, []);
  // The document says which routes need no caller: exactly the sign-up, login and refresh ones.
  assert.deepEqual(routes.filter((r) => !r.auth).map(describe).sort(), [
    'GET /web/config',
    'POST /api/auth/login', 'POST /api/auth/login/', 'POST /api/auth/register', 'POST /api/auth/register/', 'POST /api/auth/token/refresh/', 'POST /api/auth/verify-phone/',
    'POST /campaigns/api/token/', 'POST /campaigns/api/token/refresh/', 'POST /web/session',
  ]);
});

test('every /api/admin route answers 403 to an account\'s token, its API key and its admin sub-account, and changes nothing', async () => {
  const adminRoutes = routes.filter(isAdmin);
  assert.ok(adminRoutes.length >= 15);
  // Operator permissions are asked only there, and every admin route asks one.
  for (const r of routes) assert.equal(isAdmin(r), (r.permission ?? '').startsWith('operator.'), `${describe(r)} needs ${r.permission}`);
  const sub = await ok(gw, 'POST', '/api/sub-accounts', { token: A.token, body: { name: 'Alpha admin sub', email: 'alpha.admin@example.com', password: PASSWORD, role: 'admin' } });
  assert.equal(sub.data.role, 'admin');
  const subToken = await login(gw, 'alpha.admin@example.com');
  const before = await snapshot();
  const accounts = (await ok(gw, 'GET', '/api/admin/accounts?per_page=100', { token: admin })).data;
  const wrong: string[] = [];
  for (const route of adminRoutes) {
    // Ids of real rows: A's own account, B's sender ID, the first package and order.
    const kind = route.params.length ? kindOf(route) : null;
    const path = fill(route.path, { id: String(kind === 'account' ? A.id : kind === 'senderId' ? resB.senderIdId : kind === 'message' ? resA.ids.message : 1) });
    for (const [who, token] of [['token', A.token], ['API key', A.key], ['admin sub-account', subToken]] as const) {
      const res = await call(gw, route.method, path, { token, body: route.body ? exampleOf(route.body) : undefined });
      if (res.status !== 403 || errorShapeProblem('sendwave', res) || res.json.message !== "Cette action n'est pas autorisée.") wrong.push(`${describe(route)} as ${who}: ${res.status} ${res.text.slice(0, 160)}`);
    }
  }
  assert.deepEqual(wrong, []);
  assert.deepEqual(await snapshot(), before);
  assert.deepEqual((await ok(gw, 'GET', '/api/admin/accounts?per_page=100', { token: admin })).data, accounts, 'no account changed');
  // The operator does reach them (the 403s above were about the caller, not the route).
  for (const route of adminRoutes.filter((r) => r.method === 'GET')) {
    const path = route.params.length ? fill(route.path, { id: String(resA.ids.message) }) : route.query.some((q) => q.name === 'number') ? `${route.path}?number=%2B24162000000` : route.path;
    assert.equal((await call(gw, 'GET', path, { token: admin })).status, 200, describe(route));
  }
});

test('a viewer sub-account gets 403 on every route its permissions do not grant, and changes nothing', async () => {
  const viewer = await login(gw, 'alphamark.viewer@example.com');
  const me = await ok(gw, 'GET', '/api/auth/me', { token: viewer });
  assert.equal(me.data.sub_account.role, 'viewer');
  const granted = new Set<string>(me.data.sub_account.effective_permissions);
  assert.deepEqual([...granted].sort(), ['view_analytics', 'view_balance', 'view_history']);
  const before = await snapshot();
  const wrong: string[] = [];
  let refused = 0;
  for (const route of routes.filter((r) => r.auth && r.permission && !isAdmin(r))) {
    const res = await call(gw, route.method, pathFor(route), { token: viewer, body: bodyOf(route, resA) });
    if (granted.has(route.permission!)) {
      if (res.status === 403) wrong.push(`${describe(route)} (${route.permission}, granted): 403`);
      continue;
    }
    refused++;
    const problem = res.status !== 403 ? `answered ${res.status}` : errorShapeProblem(route.tag, res);
    if (problem) wrong.push(`${describe(route)} (needs ${route.permission}): ${problem}: ${res.text.slice(0, 160)}`);
  }
  assert.ok(refused > 80, `${refused} routes refused`);
  assert.deepEqual(wrong, []);
  const after = await snapshot();
  // A viewer holds view_balance, which lets it order a package (POST /api/packages/{id}/purchase): the only write it may make.
  assert.deepEqual(after, before);
});

test('no list or summary B reads carries A\'s names, numbers or email', async () => {
  const lists = routes.filter((r) => r.method === 'GET' && r.auth && !r.params.length && !isAdmin(r));
  assert.ok(lists.length > 30);
  const secrets = [resA.marker, resA.marker.toLowerCase(), ...resA.phones, ...resA.phones.map((p) => p.slice(1)), A.email];
  const leaks: string[] = [];
  for (const route of lists) {
    for (const token of [B.token, B.key]) {
      const res = await call(gw, 'GET', route.path, { token });
      assert.ok(res.status < 500, `${describe(route)}: ${res.status}`);
      const found = secrets.filter((s) => res.text.includes(s));
      if (found.length) leaks.push(`${describe(route)}: ${found.join(', ')}`);
    }
  }
  assert.deepEqual(leaks, []);
  // And B does see its own (the lists are not just empty).
  const own = await call(gw, 'GET', '/api/contacts', { token: B.token });
  assert.ok(own.text.includes(resB.marker));
});

test('A\'s ids and sender ID named in B\'s bodies reach none of A\'s numbers and send nothing under A\'s name', async () => {
  const sender = resA.marker.slice(0, 11);
  await ok(gw, 'POST', `/api/admin/sender-ids/${resA.senderIdId}/approve`, { token: admin });
  const answers: Record<string, number> = {};
  const attempt = async (label: string, method: string, path: string, body: unknown, token = B.token) => {
    const res = await call(gw, method, path, { token, body });
    assert.ok(res.status < 500, `${label}: ${res.status} ${res.text}`);
    // (A refusal may repeat the sender ID B gave: that is B's own input.)
    const shown = /sender/.test(label) ? res.text.replaceAll(sender, '') : res.text;
    assert.ok(!shown.includes(resA.marker) && !resA.phones.some((p) => res.text.includes(p)), `${label} shows A's data: ${res.text.slice(0, 300)}`);
    answers[label] = res.status;
    return res;
  };
  const membersBefore = (await ok(gw, 'GET', `/api/contact-groups/${resB.ids.group}/contacts`, { token: B.token })).data;
  await attempt('group add A\'s contact', 'POST', `/api/contact-groups/${resB.ids.group}/contacts/add`, { contact_ids: [resA.ids.contact] });
  assert.deepEqual((await ok(gw, 'GET', `/api/contact-groups/${resB.ids.group}/contacts`, { token: B.token })).data, membersBefore);
  const foreign = { contact_ids: [resA.ids.contact], group_ids: [resA.ids.group], segment_ids: [resA.ids.segment] };
  for (const [label, audience] of Object.entries({ contacts: { contact_ids: foreign.contact_ids }, groups: { group_ids: foreign.group_ids }, segments: { segment_ids: foreign.segment_ids } })) {
    const created = await attempt(`campaign with A's ${label}`, 'POST', '/api/campaigns', { name: `B ${label}`, message_content: 'B promo', ...audience });
    if (created.status === 201) await attempt(`start the campaign with A's ${label}`, 'POST', `/api/campaigns/${created.json.data.id}/send`, {});
  }
  await attempt('campaign from A\'s template', 'POST', '/api/campaigns', { name: 'B template', template_id: resA.ids.template, recipients: [resB.phones[1]] });
  await attempt('campaign changed to A\'s template', 'PUT', `/api/campaigns/${resB.ids.campaign}`, { template_id: resA.ids.template });
  const mifumo = await attempt('Mifumo campaign with A\'s contact and segment', 'POST', '/api/messaging/campaigns/', { name: 'B mifumo', message: 'B promo', contact_ids: [resA.contactUuid], segment_ids: [resA.ids.segment] });
  if (mifumo.status === 201) await attempt('start the Mifumo campaign', 'POST', `/api/messaging/campaigns/${mifumo.json.id}/start/`, undefined);
  // A's approved sender ID is A's alone.
  await attempt('SendWave send as A\'s sender', 'POST', '/api/messages/send', { recipients: [resB.phones[1]], message: 'spoof', sender_id: sender });
  await attempt('Mifumo send as A\'s sender', 'POST', '/api/integration/v1/sms/send/', { recipients: [resB.phones[1]], message: 'spoof', sender_id: sender }, B.key);
  await attempt('FLOW send as A\'s sender', 'POST', '/campaigns/api/send-sms/', { sender_id: sender, message: 'spoof', phone_numbers: [resB.phones[1]] });
  await attempt('campaign as A\'s sender', 'POST', '/api/campaigns', { name: 'B spoof', message_content: 'spoof', sender_id: sender, recipients: [resB.phones[1]] });
  // Statistics of A's sub-account, asked by B.
  const stats = await attempt('stats of A\'s sub-account', 'GET', `/api/stats?sub_account_id=${resA.ids.subAccount}`, undefined);
  if (stats.status === 200) assert.equal(stats.json.data.total, 0, `B reads A's sub-account's figures: ${stats.text}`);

  // Whatever was accepted has run: nothing of B's went to A's numbers or under A's name.
  await new Promise((r) => setTimeout(r, 500));
  const mine = await gw.store.db.selectFrom('messages').select(['id', 'recipient', 'sender', 'status']).where('account_id', '=', B.id).execute();
  await gw.waitFinal(mine.map((m) => m.id));
  assert.deepEqual(mine.filter((m) => resA.phones.includes(m.recipient)), [], `B's messages to A's numbers (answers: ${JSON.stringify(answers)})`);
  assert.deepEqual(mine.filter((m) => m.sender === sender), [], `B's messages as A's sender (answers: ${JSON.stringify(answers)})`);
  for (const label of Object.keys(answers).filter((l) => /sender/.test(l))) assert.ok(answers[label]! >= 400, `${label} was accepted: ${answers[label]}`);
});
