/**
 * Mifumo SMS full reference (seed 003) replayed against running daemons: every example request
 * as written, every documented answer's shape and status, registration under both activation
 * policies (the SMS code read back from the SMSC simulator), the DRF pages, billing, the error
 * format, the rate-limit headers, and the sections only its contents name.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { cliActor } from '../../src/services/policy.js';
import { call } from '../support/api.js';
import { waitFor } from '../support/harness.js';
import { mifumoAccount, type MifumoAccount } from './mifumo.js';
import { SEEDS, documentedEndpoints, examples, readSeed, type Example } from './seeds.js';
import { Coverage, assertShape, replay, startConformance, type Conformance } from './support.js';

const doc = readSeed(SEEDS.mifumoReference);
const all = examples(doc, '/api');
const coverage = new Coverage(documentedEndpoints(doc, '/api'));
function example(method: string, path: string): Example {
  const e = all.find((x) => x.method === method && x.path === path);
  assert.ok(e, `no example for ${method} ${path}`);
  coverage.hit(method, path);
  return e;
}
const documented = (e: Example) => e.responses[0]!.json;

let c: Conformance;
let verifying: Conformance;
let acct: MifumoAccount;

before(async () => {
  [c, verifying] = await Promise.all([startConformance(), startConformance({ auth: { activation: 'sms_code' } })]);
  acct = await mifumoAccount(c.gw, 'reference@relais.test', { senders: ['MIFUMO'] });
});
after(async () => {
  await Promise.all([c.stop(), verifying.stop()]);
});

test('register/ as documented: with SMS activation, the documented answer, the code texted through the binds, verify-phone/, then login/', async () => {
  const ex = example('POST', '/api/auth/register/');
  const r = await replay(verifying.gw, ex);
  assertShape(r.json, documented(ex));
  const doc201 = documented(ex) as Record<string, unknown>;
  for (const k of ['email_verification_sent', 'sms_verification_sent', 'account_active', 'requires_activation', 'activation_required', 'tokens', 'message']) {
    assert.deepEqual(r.json[k], doc201[k], k);
  }
  assert.deepEqual([r.json.user.is_active, r.json.user.phone_number, r.json.user.timezone], [false, '+255614853618', 'Africa/Dar_es_Salaam']);
  const body = ex.body as { email: string; password: string; phone_number: string };
  const early = await call(verifying.gw, 'POST', '/api/auth/login/', { body: { email: body.email, password: body.password } });
  assert.deepEqual([early.status, early.json.error_code], [403, 'ACCOUNT_NOT_ACTIVE']);
  await waitFor(() => verifying.sim.received.some((m) => m.destination.endsWith('255614853618')), 10_000, 'the verification SMS');
  const code = /(\d{6})/.exec(verifying.sim.received.find((m) => m.destination.endsWith('255614853618'))!.text)![1]!;
  const wrong = await call(verifying.gw, 'POST', '/api/auth/verify-phone/', { body: { phone_number: body.phone_number, code: code === '000000' ? '111111' : '000000' } });
  assert.deepEqual([wrong.status, wrong.json.error_code], [401, 'INVALID_VERIFICATION_CODE']);
  const ok = await call(verifying.gw, 'POST', '/api/auth/verify-phone/', { body: { phone_number: body.phone_number, code } });
  assert.equal(ok.status, 200, ok.text);
  assert.deepEqual([ok.json.user.is_active, typeof ok.json.tokens.access], [true, 'string']);
  const login = await replay(verifying.gw, example('POST', '/api/auth/login/'));
  assertShape(login.json, documented(example('POST', '/api/auth/login/')));
  assert.equal(login.json.user.phone_verified, true);
  // SendWave's register carries no phone: under SMS activation it would skip the check, so it is refused.
  const bypass = await call(verifying.gw, 'POST', '/api/auth/register', { body: { name: 'No Phone', email: 'nophone@example.com', password: 'password123', password_confirmation: 'password123' } });
  assert.equal(bypass.status, 403, bypass.text);
  assert.match(bypass.json.message, /verify-phone/);
  assert.equal((await call(verifying.gw, 'POST', '/api/auth/login', { body: { email: 'nophone@example.com', password: 'password123' } })).status, 401, 'no account was made');
});

test('register/ with immediate activation answers tokens at once; a taken email and mismatched passwords are field errors', async () => {
  const ex = example('POST', '/api/auth/register/');
  const r = await replay(c.gw, ex);
  assertShape(r.json, documented(ex), { nullable: [] });
  assert.deepEqual([r.json.account_active, r.json.requires_activation, typeof r.json.tokens.access, typeof r.json.tokens.refresh], [true, false, 'string', 'string']);
  const again = await call(c.gw, 'POST', '/api/auth/register/', { body: ex.body });
  assert.deepEqual([again.status, Object.keys(again.json.details)], [400, ['email']]);
  const mismatch = await call(c.gw, 'POST', '/api/auth/register/', { body: { ...(ex.body as object), email: 'other@example.com', password_confirm: 'nope-nope' } });
  assert.deepEqual([mismatch.status, Object.keys(mismatch.json.details)], [400, ['password_confirm']]);
  const national = await call(c.gw, 'POST', '/api/auth/register/', { body: { ...(ex.body as object), email: 'third@example.com', phone_number: '0614853618' } });
  assert.deepEqual([national.status, national.json.error_code], [400, 'INVALID_PHONE_FORMAT']);
});

test('login/, token/refresh/ and logout/: the documented bodies and answers; a logged-out token stops working', async () => {
  const login = await call(c.gw, 'POST', '/api/auth/login/', { body: { email: 'reference@relais.test', password: 'SecurePassword123!' } });
  const refreshEx = example('POST', '/api/auth/token/refresh/');
  const refreshed = await replay(c.gw, refreshEx, { body: { refresh: login.json.tokens.refresh } });
  assertShape(refreshed.json, documented(refreshEx));
  const placeholder = await replay(c.gw, refreshEx, { expect: 401 });
  assert.equal(placeholder.json.error_code, 'INVALID_TOKEN');
  const logoutEx = example('POST', '/api/auth/logout/');
  const out = await replay(c.gw, logoutEx, { token: refreshed.json.access });
  assert.deepEqual(out.json, documented(logoutEx));
  const after = await call(c.gw, 'GET', '/api/messaging/sms/balance/', { token: refreshed.json.access });
  assert.equal(after.status, 401);
});

test('messaging: sms/send/ (201, uuid, cost and currency), sms/balance/, sms/stats/ as documented', async () => {
  const sendEx = example('POST', '/api/messaging/sms/send/');
  const sent = await replay(c.gw, sendEx, { token: acct.access });
  assertShape(sent.json, documented(sendEx));
  assert.deepEqual([sent.json.data.recipient, sent.json.data.sender_id, sent.json.data.status, sent.json.data.currency], ['+255614853618', 'MIFUMO', 'queued', 'XAF']);
  assert.ok(sent.json.data.cost > 0);
  const balanceEx = example('GET', '/api/messaging/sms/balance/');
  const balance = await replay(c.gw, balanceEx, { token: acct.access });
  assertShape(balance.json, documented(balanceEx));
  const statsEx = example('GET', '/api/messaging/sms/stats/');
  await waitFor(async () => (await call(c.gw, 'GET', '/api/messaging/sms/stats/', { token: acct.access })).json.stats.total_sent >= 1, 10_000, 'the send counted');
  const stats = await replay(c.gw, statsEx, { token: acct.access });
  assertShape(stats.json, documented(statsEx));
});

test('contacts/: create with phone_e164 and attributes, then the documented DRF page with search, tags and page_size ≤ 100', async () => {
  const createEx = example('POST', '/api/messaging/contacts/');
  const created = await replay(c.gw, createEx, { token: acct.access, expect: 201 });
  const listEx = example('GET', '/api/messaging/contacts/');
  assertShape(created.json, (documented(listEx) as { results: unknown[] }).results[0]);
  assert.deepEqual(created.json.attributes, (createEx.body as { attributes: unknown }).attributes);
  const list = await replay(c.gw, listEx, { token: acct.access });
  assertShape(list.json, documented(listEx), { nullable: ['next'] });
  const tagged = await call(c.gw, 'GET', '/api/messaging/contacts/?tags=VIP,Other&search=John&page=1&page_size=100', { token: acct.access });
  assert.deepEqual(tagged.json.results.map((x: { phone_e164: string }) => x.phone_e164), ['+255614853618']);
  const tooBig = await call(c.gw, 'GET', '/api/messaging/contacts/?page_size=101', { token: acct.access });
  assert.deepEqual([tooBig.status, Object.keys(tooBig.json.details)], [400, ['page_size']]);
  const errorFormat = /### Standard Error Response Format\s*```json\s*\n([\s\S]*?)\n```/.exec(doc)!;
  const format = JSON.parse(errorFormat[1]!) as { details: { field_name: unknown } };
  assertShape(tooBig.json, { ...format, details: { page_size: format.details.field_name } }); // field_name stands for the field
});

test('campaigns/: create with recipients, segments and contacts as documented; list with filters; start it and it sends', async () => {
  const createEx = example('POST', '/api/messaging/campaigns/');
  const created = await replay(c.gw, createEx, { token: acct.access, expect: 201 });
  assert.deepEqual([created.json.name, created.json.recipients], [(createEx.body as { name: string }).name, (createEx.body as { recipients: string[] }).recipients]);
  const listEx = example('GET', '/api/messaging/campaigns/');
  const list = await replay(c.gw, listEx, { token: acct.access });
  assert.deepEqual(Object.keys(list.json), ['count', 'next', 'previous', 'results']);
  const filtered = await call(c.gw, 'GET', `/api/messaging/campaigns/?status=${created.json.status}&search=Holiday`, { token: acct.access });
  assert.deepEqual(filtered.json.results.map((x: { id: number }) => x.id), [created.json.id]);
  const contact = await call(c.gw, 'POST', '/api/messaging/contacts/', { token: acct.access, body: { name: 'Zawadi', phone_e164: '+255700000009', tags: ['VIP'] } });
  const mixed = await call(c.gw, 'POST', '/api/messaging/campaigns/', { token: acct.access, body: { name: 'Mixed', message: 'Hi', recipients: ['+255712345678'], contact_ids: [contact.json.id] } });
  assert.equal(mixed.status, 201, mixed.text);
  assert.deepEqual(mixed.json.contact_ids, [contact.json.id], 'contacts are named by their uuid');
  const started = await call(c.gw, 'POST', `/api/messaging/campaigns/${mixed.json.id}/start/`, { token: acct.access });
  assert.deepEqual([started.status, started.json.data.status, started.json.data.total_recipients], [200, 'running', 2]);
  await waitFor(async () => (await call(c.gw, 'GET', `/api/messaging/campaigns/${mixed.json.id}/`, { token: acct.access })).json.status === 'completed', 15_000, 'campaign completed');
  const other = await mifumoAccount(c.gw, 'reference-other@relais.test');
  const foreign = await call(c.gw, 'GET', `/api/messaging/campaigns/${mixed.json.id}/`, { token: other.access });
  assert.deepEqual([foreign.status, foreign.json.error_code], [404, 'NOT_FOUND']);
});

test('billing: the packages the operator sells, a purchase of one; the document\'s uuid names no package here', async () => {
  await c.gw.services.billing.createPackage(cliActor(), { name: 'Starter Package', sms_count: 1000, bonus_sms: 0, price: 5000, currency: 'XAF', validity_days: 30, is_active: true });
  const listEx = example('GET', '/api/billing/sms/packages/');
  const list = await replay(c.gw, listEx, { token: acct.access });
  assertShape(list.json, documented(listEx), { nullable: [] });
  const purchaseEx = example('POST', '/api/billing/sms/purchase/');
  const unknown = await replay(c.gw, purchaseEx, { token: acct.access, expect: 404 });
  assert.equal(unknown.json.error_code, 'NOT_FOUND');
  const bought = await replay(c.gw, purchaseEx, { token: acct.access, body: { ...(purchaseEx.body as object), package_id: list.json.results[0].id }, expect: 201 });
  assert.deepEqual([bought.json.data.status, bought.json.data.provider, bought.json.data.payment_method], ['pending', 'mpesa', 'mobile_money']);
});

test('rate-limit headers on every answer; sections only the contents name answer over the same services', async () => {
  const r = await call(c.gw, 'GET', '/api/messaging/sms/balance/', { token: acct.access });
  for (const h of ['x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-reset']) assert.ok(r.headers.get(h), h);
  for (const path of ['/api/messaging/templates/', '/api/messaging/sender-ids/', '/api/messaging/dashboard/', '/api/tenants/current/', '/api/notifications/']) {
    const x = await call(c.gw, 'GET', path, { token: acct.access });
    assert.equal(x.status, 200, `${path}: ${x.text}`);
  }
  const template = await call(c.gw, 'POST', '/api/messaging/templates/', { token: acct.access, body: { name: 'Hello', content: 'Hello {name}' } });
  assert.equal(template.status, 201, template.text);
  const sender = await call(c.gw, 'POST', '/api/messaging/sender-ids/', { token: acct.access, body: { sender_id: 'NEWNAME' } });
  assert.deepEqual([sender.status, sender.json.status], [201, 'pending']);
});

test('every endpoint the document names was replayed', () => {
  coverage.assertComplete();
});
