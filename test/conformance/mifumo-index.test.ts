/**
 * Mifumo SMS documentation index (seed 004) replayed against a running daemon: its curl, Python
 * and Node samples run as written (base URL and key filled in), the settings API (keys shown
 * once, revoked, regenerated; webhooks created, toggled, deleted), the documented events
 * delivered, signed, to a webhook, and the documented error codes.
 */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { after, before, test } from 'node:test';
import { call } from '../support/api.js';
import { waitFor } from '../support/harness.js';
import { assertEnvelope, mifumoAccount, type MifumoAccount } from './mifumo.js';
import { SEEDS, codeBlocks, documentedEndpoints, readSeed } from './seeds.js';
import { Coverage, rebase, runSample, startConformance, type Conformance } from './support.js';

const doc = readSeed(SEEDS.mifumoIndex);
const coverage = new Coverage(documentedEndpoints(doc, '/api/integration/v1'));
const hit = (method: string, path: string) => coverage.hit(method, path);

interface Delivery {
  event: string;
  body: string;
  signature: string;
}

let c: Conformance;
let acct: MifumoAccount;
let receiver: Server;
let receiverUrl: string;
const deliveries: Delivery[] = [];

before(async () => {
  // Webhooks to this test's own receiver on 127.0.0.1: the operator allows private networks here.
  c = await startConformance({ webhooks: { allow_private_networks: true, retry_initial: 0.2 } });
  acct = await mifumoAccount(c.gw, 'index@relais.test', { senders: ['Taarifa-SMS'] });
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      deliveries.push({ event: String(req.headers['x-webhook-event'] ?? ''), body, signature: String(req.headers['x-webhook-signature'] ?? '') });
      res.end('ok');
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as { port: number }).port}/mifumo-hook`;
});
after(async () => {
  await c.stop();
  await new Promise((r) => receiver.close(r));
});

const withKey = (code: string, key = acct.apiKey) => rebase(code, c.gw.url).replaceAll('YOUR_API_KEY', key).replaceAll('YOUR_API_KEY_HERE', key);

test('the curl samples run as written: send, then the status of the MESSAGE_ID it answered', async () => {
  const [send, status] = codeBlocks(doc, 'bash');
  assert.ok(send && status);
  const sent = JSON.parse(await runSample('bash', withKey(send)));
  hit('POST', '/api/integration/v1/sms/send/');
  assertEnvelope(sent, true);
  assert.equal(sent.data.sender_id, 'Taarifa-SMS');
  const got = JSON.parse(await runSample('bash', withKey(status).replace('MESSAGE_ID', sent.data.message_id)));
  hit('GET', '/api/integration/v1/sms/status/{id}/');
  assertEnvelope(got, true);
  assert.equal(got.data.message_id, sent.data.message_id);
  const reports = await call(c.gw, 'GET', '/api/integration/v1/sms/delivery-reports/', { token: acct.apiKey });
  hit('GET', '/api/integration/v1/sms/delivery-reports/');
  assertEnvelope(reports.json, true);
  const balance = await call(c.gw, 'GET', '/api/integration/v1/sms/balance/', { token: acct.apiKey });
  hit('GET', '/api/integration/v1/sms/balance/');
  assertEnvelope(balance.json, true);
});

test('the Python sample runs as written', async () => {
  const [python] = codeBlocks(doc, 'python');
  const out = await runSample('python', withKey(python!));
  assert.match(out, /'success': True/);
  assert.match(out, /'message_id': '[0-9a-f-]{36}'/);
});

test('the Node.js sample runs as written (axios), given the `require` its top-level await needs as a module', async () => {
  const [node] = codeBlocks(doc, 'javascript');
  // The sample awaits at top level, which CommonJS cannot: it runs as an ES module, with
  // `require` provided the one way Node offers there. Nothing of the sample itself changes.
  const preamble = "import { createRequire } from 'node:module';\nconst require = createRequire(import.meta.url);\n";
  const out = await runSample('node-esm', preamble + withKey(node!));
  assert.match(out, /success: true/);
  assert.match(out, /message_id: '[0-9a-f-]{36}'/);
});

test('settings API: a key and its secret shown once; regenerate and revoke stop the old key at once', async () => {
  const settings = await call(c.gw, 'GET', '/api/auth/settings/', { token: acct.access });
  hit('GET', '/api/auth/settings/');
  assertEnvelope(settings.json, true);
  assert.ok(settings.json.data.api_keys.every((k: Record<string, unknown>) => !('api_key' in k) && typeof k.key_prefix === 'string'), 'listings never show a key');
  const created = await call(c.gw, 'POST', '/api/auth/keys/create/', { token: acct.access, body: { name: 'Shop backend' } });
  hit('POST', '/api/auth/keys/create/');
  assert.equal(created.status, 201, created.text);
  const { id, api_key: key, secret_key: secret } = created.json.data;
  assert.deepEqual([typeof key, typeof secret, key.startsWith(created.json.data.key_prefix)], ['string', 'string', true]);
  const balance = () => call(c.gw, 'GET', '/api/integration/v1/sms/balance/', { token: key });
  assert.equal((await balance()).status, 200);
  const regenerated = await call(c.gw, 'POST', `/api/auth/keys/${id}/regenerate/`, { token: acct.access });
  hit('POST', '/api/auth/keys/{id}/regenerate/');
  assert.equal(regenerated.status, 200, regenerated.text);
  const old = await balance();
  assert.deepEqual([old.status, old.json.error_code], [401, 'INVALID_API_KEY']);
  const fresh = regenerated.json.data.api_key as string;
  assert.equal((await call(c.gw, 'GET', '/api/integration/v1/sms/balance/', { token: fresh })).status, 200);
  const revoked = await call(c.gw, 'POST', `/api/auth/keys/${id}/revoke/`, { token: acct.access });
  hit('POST', '/api/auth/keys/{id}/revoke/');
  assert.deepEqual([revoked.status, revoked.json.data.is_active], [200, false]);
  assert.equal((await call(c.gw, 'GET', '/api/integration/v1/sms/balance/', { token: fresh })).status, 401);
  const other = await mifumoAccount(c.gw, 'index-other@relais.test');
  const foreign = await call(c.gw, 'POST', `/api/auth/keys/${id}/revoke/`, { token: other.access });
  assert.deepEqual([foreign.status, foreign.json.error_code], [404, 'NOT_FOUND']);
});

test('webhooks: created for the documented events, they arrive signed; toggled off, nothing arrives; deleted', async () => {
  const malformed = await call(c.gw, 'POST', '/api/auth/webhooks/create/', { token: acct.access, body: { url: 'ftp://example.com/hook' } });
  assert.deepEqual([malformed.status, Object.keys(malformed.json.details)], [400, ['url']]);
  const created = await call(c.gw, 'POST', '/api/auth/webhooks/create/', { token: acct.access, body: { url: receiverUrl, events: ['message.sent', 'message.delivered', 'message.failed'] } });
  hit('POST', '/api/auth/webhooks/create/');
  assert.equal(created.status, 201, created.text);
  const id = created.json.data.id as number;
  const key = await call(c.gw, 'POST', '/api/auth/keys/create/', { token: acct.access, body: { name: 'hooks' } });
  const secret = key.json.data.secret_key as string;
  const hooked = await call(c.gw, 'POST', '/api/integration/v1/sms/send/', { token: acct.apiKey, body: { message: 'Hook me', recipients: ['+255700000123'] } });
  await waitFor(() => ['message.sent', 'message.delivered'].every((e) => deliveries.some((d) => d.event === e && d.body.includes('+255700000123'))), 15_000, 'sent and delivered events');
  for (const d of deliveries.filter((x) => x.body.includes('+255700000123'))) {
    assert.equal(JSON.parse(d.body).data.message_uuid, hooked.json.data.message_id, 'events name the message by the uuid the send answered');
  }
  for (const d of deliveries) assert.equal(d.signature, createHmac('sha256', secret).update(d.body).digest('hex'), 'signed with the secret shown with the key');
  const toggled = await call(c.gw, 'POST', `/api/auth/webhooks/${id}/toggle/`, { token: acct.access });
  hit('POST', '/api/auth/webhooks/{id}/toggle/');
  assert.deepEqual([toggled.status, toggled.json.data.is_active], [200, false]);
  const before = deliveries.length;
  await call(c.gw, 'POST', '/api/integration/v1/sms/send/', { token: acct.apiKey, body: { message: 'Quiet', recipients: ['+255700000124'] } });
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(deliveries.filter((d) => d.body.includes('+255700000124')).length, 0, 'a disabled webhook gets nothing');
  assert.ok(deliveries.length >= before);
  const removed = await call(c.gw, 'DELETE', `/api/auth/webhooks/${id}/delete/`, { token: acct.access });
  hit('DELETE', '/api/auth/webhooks/{id}/delete/');
  assertEnvelope(removed.json, true);
  assert.equal((await call(c.gw, 'POST', `/api/auth/webhooks/${id}/toggle/`, { token: acct.access })).status, 404);
});

test('the documented error codes: AUTHENTICATION_REQUIRED, INVALID_API_KEY, MISSING_MESSAGE, INVALID_PHONE_FORMAT, SMS_SEND_FAILED', async () => {
  const send = (body: unknown, token?: string) => call(c.gw, 'POST', '/api/integration/v1/sms/send/', { token, body });
  const cases: [unknown, string | undefined, number, string][] = [
    [{ message: 'x', recipients: ['+255123456789'] }, undefined, 401, 'AUTHENTICATION_REQUIRED'],
    [{ message: 'x', recipients: ['+255123456789'] }, 'rk_expired', 401, 'INVALID_API_KEY'],
    [{ recipients: ['+255123456789'] }, acct.apiKey, 400, 'MISSING_MESSAGE'],
    [{ message: 'x', recipients: ['255123456789'] }, acct.apiKey, 400, 'INVALID_PHONE_FORMAT'],
  ];
  for (const [body, token, status, code] of cases) {
    const r = await send(body, token);
    assert.deepEqual([r.status, r.json.error_code], [status, code], JSON.stringify(body));
    assertEnvelope(r.json, false);
  }
  await call(c.gw, 'POST', '/api/blacklist', { token: acct.access, body: { phone_number: '+255700000999', reason: 'opted out' } });
  const blocked = await send({ message: 'x', recipients: ['+255700000999'] }, acct.apiKey);
  assert.deepEqual([blocked.status, blocked.json.error_code], [400, 'SMS_SEND_FAILED'], blocked.text);
});

test('every endpoint the document names was exercised', () => {
  coverage.assertComplete();
});
