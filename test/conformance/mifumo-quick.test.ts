/**
 * Mifumo SMS quick reference (seed 002) replayed against a running daemon: its curl command run
 * as written (base URL and key filled in), its payloads sent to the endpoints they document,
 * every endpoint of its tables exercised, the envelope, the error codes, the E.164 rule, the
 * per-send webhook and the rate limits with their headers.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { call } from '../support/api.js';
import { assertEnvelope, mifumoAccount, type MifumoAccount } from './mifumo.js';
import { SEEDS, codeBlocks, documentedEndpoints, parseDocJson, readSeed } from './seeds.js';
import { Coverage, assertShape, rebase, runSample, startConformance, type Conformance } from './support.js';

const doc = readSeed(SEEDS.mifumoQuick);
const V1 = '/api/integration/v1';
const coverage = new Coverage(documentedEndpoints(doc, '/api/integration'));

/** The JSON block that follows a heading or label of the document. */
function jsonAfter(label: string): any {
  const at = doc.indexOf(label);
  assert.ok(at >= 0, `"${label}" is in the document`);
  const m = /```json\s*\n([\s\S]*?)\n```/.exec(doc.slice(at));
  return parseDocJson(m![1]!);
}

let c: Conformance;
let acct: MifumoAccount;

before(async () => {
  c = await startConformance();
  acct = await mifumoAccount(c.gw, 'quick@relais.test');
});
after(async () => {
  await c.stop();
});

const v1 = (method: string, path: string, body?: unknown, key = acct.apiKey) => {
  coverage.hit(method, `${V1}${path.replace(/\/[0-9a-f-]{36}\/|\/\d+\//, '/{id}/').replace(/\?.*$/, '')}`);
  return call(c.gw, method, `${V1}${path}`, { token: key, body });
};

test('the quick-start curl command runs as written and answers the documented success envelope', async () => {
  const curl = codeBlocks(doc, 'bash').filter((b) => b.includes('curl'));
  assert.equal(curl.length, 1);
  const out = await runSample('bash', rebase(curl[0]!, c.gw.url).replace('YOUR_API_KEY', acct.apiKey));
  const json = JSON.parse(out);
  assertEnvelope(json, true);
  assertShape(json, jsonAfter('### **Success Response**'));
  assert.match(json.data.message_id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
});

test('SMS API: the send payload, then status, delivery reports and balance of what it sent', async () => {
  const sent = await v1('POST', '/sms/send/', jsonAfter('### **Send SMS Payload**'));
  assert.equal(sent.status, 200, sent.text);
  assertEnvelope(sent.json, true);
  assert.deepEqual([sent.json.data.sender_id, sent.json.data.total, sent.json.data.sent], ['MIFUMO', 1, 1]);
  const id = sent.json.data.message_id as string;
  const status = await v1('GET', `/sms/status/${id}/`);
  assert.equal(status.status, 200, status.text);
  assertEnvelope(status.json, true);
  assert.deepEqual([status.json.data.message_id, status.json.data.recipient], [id, '+255123456789']);
  assert.ok(['queued', 'sending', 'sent', 'delivered'].includes(status.json.data.status));
  const reports = await v1('GET', '/sms/delivery-reports/?page_size=5');
  assertEnvelope(reports.json, true);
  assert.ok(reports.json.data.count >= 1);
  assert.ok(reports.json.data.results.some((r: { message_id: string }) => r.message_id === id));
  const balance = await v1('GET', '/sms/balance/');
  assertEnvelope(balance.json, true);
  assert.equal(typeof balance.json.data.balance, 'number');
  assert.ok(balance.json.data.balance < 1_000_000, 'the sends were charged');
  // Someone else's message, a malformed id: both answer 404 in the envelope.
  const other = await mifumoAccount(c.gw, 'quick-other@relais.test');
  for (const [path, key] of [[`/sms/status/${id}/`, other.apiKey], ['/sms/status/not-a-uuid/', acct.apiKey]] as const) {
    const r = await v1('GET', path, undefined, key);
    assert.deepEqual([r.status, r.json.error_code], [404, 'NOT_FOUND']);
  }
});

test('Contacts API: the create payload, then get, update, search and delete by uuid; another account sees none of it', async () => {
  const created = await v1('POST', '/contacts/create/', jsonAfter('### **Create Contact Payload**'));
  assert.equal(created.status, 201, created.text);
  assertEnvelope(created.json, true);
  const contact = created.json.data;
  assert.match(contact.id, /^[0-9a-f-]{36}$/);
  assert.deepEqual([contact.name, contact.phone_number, contact.email, contact.tags], ['John Doe', '+255123456789', 'john@example.com', ['customer']]);
  const got = await v1('GET', `/contacts/${contact.id}/`);
  assert.deepEqual(got.json.data, contact);
  const updated = await v1('PUT', `/contacts/${contact.id}/update/`, { name: 'John Q. Doe', tags: ['customer', 'vip'] });
  assert.deepEqual([updated.status, updated.json.data.name, updated.json.data.tags, updated.json.data.phone_number], [200, 'John Q. Doe', ['customer', 'vip'], '+255123456789']);
  const found = await v1('GET', '/contacts/search/?q=John');
  assert.deepEqual(found.json.data.results.map((x: { id: string }) => x.id), [contact.id]);
  const byTag = await v1('GET', '/contacts/search/?tags=vip,nobody');
  assert.equal(byTag.json.data.count, 1);
  const other = await mifumoAccount(c.gw, 'quick-contacts@relais.test');
  for (const [method, path] of [['GET', `/contacts/${contact.id}/`], ['PUT', `/contacts/${contact.id}/update/`], ['DELETE', `/contacts/${contact.id}/delete/`]] as const) {
    const r = await v1(method, path, method === 'PUT' ? { name: 'x' } : undefined, other.apiKey);
    assert.deepEqual([r.status, r.json.error_code], [404, 'NOT_FOUND'], `${method} ${path} from another account`);
  }
  const duplicate = await v1('POST', '/contacts/create/', { name: 'Again', phone_number: '+255123456789' });
  assert.deepEqual([duplicate.status, duplicate.json.error_code, Object.keys(duplicate.json.details)], [400, 'VALIDATION_ERROR', ['phone_number']]);
  const removed = await v1('DELETE', `/contacts/${contact.id}/delete/`);
  assertEnvelope(removed.json, true);
  const gone = await v1('GET', `/contacts/${contact.id}/`);
  assert.deepEqual([gone.status, gone.json.success, gone.json.error_code], [404, false, 'NOT_FOUND']);
});

test('Segments API: create, get (with how many contacts it selects now), update, delete', async () => {
  await v1('POST', '/contacts/create/', { name: 'Amina', phone_number: '+255700000001', tags: ['customer'], attributes: { city: 'Arusha' } });
  await v1('POST', '/contacts/create/', { name: 'Baraka', phone_number: '+255700000002', tags: ['lead'] });
  const created = await v1('POST', '/contacts/segments/create/', { name: 'Customers in Arusha', filters: { tags: ['customer'], attributes: { city: 'Arusha' } } });
  assert.equal(created.status, 201, created.text);
  const id = created.json.data.id as number;
  const got = await v1('GET', `/contacts/segments/${id}/`);
  assert.deepEqual([got.json.data.name, got.json.data.contact_count], ['Customers in Arusha', 1]);
  const widened = await v1('PUT', `/contacts/segments/${id}/update/`, { filters: { tags: [] } });
  assert.equal(widened.status, 200, widened.text);
  const now = await v1('GET', `/contacts/segments/${id}/`);
  assert.ok(now.json.data.contact_count >= 2, 'a segment is evaluated when used');
  const removed = await v1('DELETE', `/contacts/segments/${id}/delete/`);
  assertEnvelope(removed.json, true);
  assert.equal((await v1('GET', `/contacts/segments/${id}/`)).status, 404);
});

test('the documented error codes, the E.164 rule and the success/error envelopes', async () => {
  const documentedError = jsonAfter('### **Error Response**');
  const noKey = await call(c.gw, 'POST', `${V1}/sms/send/`, { body: { message: 'x', recipients: ['+255123456789'] } });
  assert.deepEqual([noKey.status, noKey.json.error_code], [401, 'AUTHENTICATION_REQUIRED']);
  assertShape(noKey.json, documentedError);
  const badKey = await v1('POST', '/sms/send/', { message: 'x', recipients: ['+255123456789'] }, 'rk_not_a_key');
  assert.deepEqual([badKey.status, badKey.json.error_code, badKey.json.error], [401, 'INVALID_API_KEY', 'INVALID_CREDENTIALS']);
  for (const phone of ['0751234567', '255123456789']) {
    const r = await v1('POST', '/sms/send/', { message: 'x', recipients: [phone] });
    assert.deepEqual([r.status, r.json.error_code, r.json.error], [400, 'INVALID_PHONE_FORMAT', 'INVALID_PHONE'], phone);
    assertEnvelope(r.json, false);
  }
  const noMessage = await v1('POST', '/sms/send/', { recipients: ['+255123456789'] });
  assert.deepEqual([noMessage.status, noMessage.json.error_code], [400, 'MISSING_MESSAGE']);
  const poor = await mifumoAccount(c.gw, 'quick-poor@relais.test', { credits: 0 });
  const broke = await v1('POST', '/sms/send/', { message: 'x', recipients: ['+255123456789'] }, poor.apiKey);
  assert.deepEqual([broke.status, broke.json.error_code], [402, 'INSUFFICIENT_BALANCE']);
});

test('a per-send webhook_url to a public name is accepted even when it does not resolve here; an internal one is refused', async () => {
  const payload = jsonAfter('## 🔗 **Webhooks**');
  const r = await v1('POST', '/sms/send/', payload);
  assert.equal(r.status, 200, r.text);
  assertEnvelope(r.json, true);
  const internal = await v1('POST', '/sms/send/', { ...payload, webhook_url: 'http://127.0.0.1:9/hook' });
  assert.deepEqual([internal.status, Object.keys(internal.json.details)], [400, ['webhook_url']]);
});

test('rate limits: the documented per-operation limit, its headers, then 429 RATE_LIMIT_EXCEEDED', async () => {
  const fresh = await mifumoAccount(c.gw, 'quick-limits@relais.test');
  let last = await v1('GET', '/sms/balance/', undefined, fresh.apiKey);
  assert.deepEqual([last.headers.get('x-ratelimit-limit'), last.headers.get('x-ratelimit-remaining')], ['20', '19']);
  assert.ok(Number(last.headers.get('x-ratelimit-reset')) > 0);
  for (let i = 0; i < 19; i++) last = await v1('GET', '/sms/balance/', undefined, fresh.apiKey);
  assert.equal(last.status, 200);
  const limited = await v1('GET', '/sms/balance/', undefined, fresh.apiKey);
  assert.deepEqual([limited.status, limited.json.error_code], [429, 'RATE_LIMIT_EXCEEDED']);
  assert.ok(Number(limited.headers.get('retry-after')) >= 1);
  const other = await v1('GET', '/contacts/search/', undefined, fresh.apiKey);
  assert.deepEqual([other.status, other.headers.get('x-ratelimit-limit')], [200, '500'], 'another operation has its own budget');
});

test('every endpoint the document names was exercised', () => {
  coverage.assertComplete();
});
