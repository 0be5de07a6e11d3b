/**
 * FLOW SMS (seed 000) replayed against a running daemon: every documented endpoint with the
 * document's own example, the answers checked against the documented ones, DRF's errors, and the
 * document's Python and JavaScript samples run as written with only API_BASE_URL changed.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { call } from '../support/api.js';
import { SEEDS, codeBlocks, documentedEndpoints, examples, readSeed, type Example } from './seeds.js';
import { Coverage, assertShape, integrator, rebase, replay, runSample, startConformance, type Conformance } from './support.js';

const doc = readSeed(SEEDS.flow);
const BASE = '/campaigns/api';
const all = examples(doc, BASE);
const example = (method: string, path: string): Example => {
  const e = all.find((x) => x.method === method && x.path === `${BASE}${path}`);
  assert.ok(e, `no example for ${method} ${path} in the document`);
  return e;
};
// The document's own placeholders are the account's credentials: nothing of the samples changes but the URL.
const USERNAME = 'votre_nom_utilisateur';
const PASSWORD = 'votre_mot_de_passe';

let c: Conformance;
const coverage = new Coverage(documentedEndpoints(doc, BASE));

before(async () => {
  c = await startConformance();
  await integrator(c.gw, { email: 'flow@relais.test', username: USERNAME, password: PASSWORD, senders: ['NomSenderID', 'MonSenderID'], credits: 1_000_000 });
});
after(async () => {
  await c.stop();
});

async function tokens(): Promise<{ access: string; refresh: string }> {
  const r = await replay(c.gw, example('POST', '/token/'));
  coverage.hit('POST', `${BASE}/token/`);
  assertShape(r.json, example('POST', '/token/').responses[0]!.json);
  return r.json;
}

test('token/ and token/refresh/: the documented bodies give the documented pairs; refresh and access tokens are not interchangeable', async () => {
  const pair = await tokens();
  assert.match(pair.access, /^eyJ/);
  const refreshEx = example('POST', '/token/refresh/');
  const literal = await replay(c.gw, refreshEx, { expect: 401 }); // the document's placeholder is no token
  assert.equal(typeof literal.json.detail, 'string');
  const refreshed = await replay(c.gw, refreshEx, { body: { refresh: pair.refresh } });
  coverage.hit('POST', `${BASE}/token/refresh/`);
  assert.deepEqual(Object.keys(refreshed.json), ['access']);
  const withRefresh = await call(c.gw, 'GET', `${BASE}/senderids/`, { token: pair.refresh });
  assert.equal(withRefresh.status, 401, 'a refresh token is not an access token');
  assert.match(withRefresh.headers.get('www-authenticate') ?? '', /^Bearer/);
  const accessAsRefresh = await call(c.gw, 'POST', `${BASE}/token/refresh/`, { body: { refresh: pair.access } });
  assert.equal(accessAsRefresh.status, 401);
  const byEmail = await call(c.gw, 'POST', `${BASE}/token/`, { body: { username: 'flow@relais.test', password: PASSWORD } });
  assert.equal(byEmail.status, 200, 'the email works as the username');
  const wrong = await call(c.gw, 'POST', `${BASE}/token/`, { body: { username: USERNAME, password: 'nope' } });
  assert.deepEqual([wrong.status, wrong.json], [401, { detail: 'No active account found with the given credentials' }]);
});

test('send-sms/: the documented request answers the documented body, sent with the SMSC ids, each message with its contact', async () => {
  const { access } = await tokens();
  const ex = example('POST', '/send-sms/');
  const r = await replay(c.gw, ex, { token: access });
  coverage.hit('POST', `${BASE}/send-sms/`);
  assertShape(r.json, ex.responses[0]!.json);
  const body = ex.body as { sender_id: string; message: string; phone_numbers: string[] };
  assert.equal(r.json.success, true);
  assert.equal(r.json.messages_sent, body.phone_numbers.length);
  assert.deepEqual([r.json.messages_failed, r.json.failed_messages], [0, []]);
  assert.deepEqual(r.json.messages.map((m: { contact: { phone_number: string } }) => m.contact.phone_number), body.phone_numbers);
  for (const m of r.json.messages) {
    assert.equal(m.content, body.message);
    assert.ok(['sent', 'delivered'].includes(m.status), `the answer waited for submit_sm_resp: ${m.status}`);
    assert.equal(typeof m.message_id, 'string');
    assert.equal(typeof m.contact.id, 'number');
  }
  // The same numbers again: the same contacts, found rather than created.
  const again = await replay(c.gw, ex, { token: access });
  assert.deepEqual(again.json.messages.map((m: { contact: { id: number } }) => m.contact.id), r.json.messages.map((m: { contact: { id: number } }) => m.contact.id));
  assert.notEqual(again.json.campaign_id, r.json.campaign_id, 'each call is a campaign');
});

test('send-sms/: a scheduled send answers at once, queued; a bad number is a failed message with its reason', async () => {
  const { access } = await tokens();
  const later = new Date(Date.now() + 3_600_000).toISOString();
  const scheduled = await call(c.gw, 'POST', `${BASE}/send-sms/`, { token: access, body: { sender_id: 'NomSenderID', message: 'Plus tard', phone_numbers: ['+33612345678'], schedule_time: later } });
  assert.equal(scheduled.status, 200, scheduled.text);
  assertShape(scheduled.json, example('POST', '/send-sms/').responses[0]!.json, { nullable: ['messages[].sent_at', 'messages[].message_id'] });
  assert.deepEqual([scheduled.json.messages[0].status, scheduled.json.messages[0].message_id, scheduled.json.messages[0].sent_at], ['queued', null, null]);

  const mixed = await call(c.gw, 'POST', `${BASE}/send-sms/`, { token: access, body: { sender_id: 'NomSenderID', message: 'Bonjour', phone_numbers: ['+33612345678', 'abc'] } });
  assert.equal(mixed.status, 200, mixed.text);
  assert.deepEqual([mixed.json.success, mixed.json.messages_sent, mixed.json.messages_failed], [true, 1, 1]);
  assert.equal(mixed.json.failed_messages[0].phone_number, 'abc');
  assert.equal(typeof mixed.json.failed_messages[0].reason, 'string');
});

test('send-sms/ refusals are DRF field errors under FLOW names, and change nothing', async () => {
  const { access } = await tokens();
  const send = (body: unknown) => call(c.gw, 'POST', `${BASE}/send-sms/`, { token: access, body });
  const empty = await send({ sender_id: 'NomSenderID', message: 'x', phone_numbers: [] });
  assert.deepEqual([empty.status, empty.json], [400, { phone_numbers: ['This list may not be empty.'] }]);
  const missing = await send({ phone_numbers: ['+33612345678'] });
  assert.deepEqual([missing.status, Object.keys(missing.json).sort()], [400, ['message', 'sender_id']]);
  assert.deepEqual(missing.json.message, ['This field is required.']);
  const unapproved = await send({ sender_id: 'Inconnu', message: 'x', phone_numbers: ['+33612345678'] });
  assert.deepEqual([unapproved.status, Object.keys(unapproved.json)], [400, ['sender_id']]);
  const nobody = await send({ sender_id: 'NomSenderID', message: 'x', phone_numbers: ['abc', '12'] });
  assert.deepEqual([nobody.status, Object.keys(nobody.json)], [400, ['phone_numbers']]);
  const badDate = await send({ sender_id: 'NomSenderID', message: 'x', phone_numbers: ['+33612345678'], schedule_time: 'demain' });
  assert.deepEqual([badDate.status, Object.keys(badDate.json)], [400, ['schedule_time']]);
  const anonymous = await call(c.gw, 'POST', `${BASE}/send-sms/`, { body: { sender_id: 'NomSenderID', message: 'x', phone_numbers: ['+33612345678'] } });
  assert.deepEqual([anonymous.status, anonymous.json], [401, { detail: 'Authentication credentials were not provided.' }]);
  assert.match(anonymous.headers.get('www-authenticate') ?? '', /^Bearer/);
  const unknown = await call(c.gw, 'GET', `${BASE}/nothing-here/`, { token: access });
  assert.deepEqual([unknown.status, unknown.json], [404, { detail: 'Not found.' }]);
});

test('senderids/ and contacts/: a new sender ID is pending; contacts are a DRF page of the numbers sent to', async () => {
  const { access } = await tokens();
  const created = await replay(c.gw, example('POST', '/senderids/'), { token: access, expect: 201 });
  coverage.hit('POST', `${BASE}/senderids/`);
  assert.deepEqual([created.json.name, created.json.status], [(example('POST', '/senderids/').body as { name: string }).name, 'pending']);
  const list = await replay(c.gw, example('GET', '/senderids/'), { token: access });
  coverage.hit('GET', `${BASE}/senderids/`);
  assert.deepEqual(list.json.map((s: { name: string; status: string }) => [s.name, s.status]).sort(), [['MonSenderID', 'approved'], ['NomSenderID', 'approved'], ['NouveauID', 'pending']]);
  const contacts = await replay(c.gw, example('GET', '/contacts/'), { token: access });
  coverage.hit('GET', `${BASE}/contacts/`);
  assert.deepEqual(Object.keys(contacts.json), ['count', 'next', 'previous', 'results']);
  const phones = contacts.json.results.map((x: { phone_number: string }) => x.phone_number);
  for (const p of (example('POST', '/send-sms/').body as { phone_numbers: string[] }).phone_numbers) assert.ok(phones.includes(p), `${p} is a contact`);
  const paged = await call(c.gw, 'GET', `${BASE}/contacts/?page_size=1`, { token: access });
  assert.equal(paged.json.results?.length, 1, paged.text);
  assert.match(paged.json.next, /\/campaigns\/api\/contacts\/\?page_size=1&page=2$/);
  const beyond = await call(c.gw, 'GET', `${BASE}/contacts/?page=999`, { token: access });
  assert.deepEqual([beyond.status, beyond.json], [404, { detail: 'Invalid page.' }]);
});

test("the document's Python and JavaScript samples run as written, with only API_BASE_URL changed", async () => {
  const [python] = codeBlocks(doc, 'python');
  const [javascript] = codeBlocks(doc, 'javascript');
  assert.ok(python && javascript, 'both samples are in the document');
  const base = `${c.gw.url}/campaigns/api/`;
  const py = await runSample('python', python.replace(/API_BASE_URL = '[^']*'/, `API_BASE_URL = '${base}'`));
  assert.match(py, /'success': True/);
  assert.match(py, /'status': '(sent|delivered)'/);
  const js = await runSample('node', rebase(javascript, c.gw.url));
  assert.match(js, /success: true/);
  assert.match(js, /messages_sent: 1/);
});

test('every endpoint the document names was replayed', () => {
  coverage.assertComplete();
});
