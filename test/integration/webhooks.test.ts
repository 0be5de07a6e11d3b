/** Webhooks end to end: real receivers over HTTP, a real daemon, the SMSC simulator. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { call } from '../support/api.js';
import { startGateway, startSimulator, tempDir, testDatabase, waitFor, type Gateway } from '../support/harness.js';

interface Hit { at: number; headers: IncomingHttpHeaders; raw: string; body: any }

/** A webhook receiver: answers with the statuses given in turn (then 200), or hangs. */
async function receiver(behaviour: { statuses?: number[]; hang?: boolean } = {}): Promise<{ url: string; hits: Hit[]; close: () => Promise<void> }> {
  const hits: Hit[] = [];
  const statuses = [...(behaviour.statuses ?? [])];
  const server: Server = createServer((req, res) => {
    let raw = '';
    req.on('data', (d) => (raw += d));
    req.on('end', () => {
      hits.push({ at: Date.now(), headers: req.headers, raw, body: JSON.parse(raw) });
      if (behaviour.hang) return; // never answers
      res.statusCode = statuses.shift() ?? 200;
      res.end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/hook`, hits, close: () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); }) };
}

/** The verification code from the SendWave document, as an integrator would paste it. */
function verifyWebhook(payload: unknown, signature: string, secret: string): boolean {
  const expectedSignature = crypto.createHmac('sha256', secret).update(JSON.stringify(payload)).digest('hex');
  return crypto.timingSafeEqual(Buffer.from(signature), Buffer.from(expectedSignature));
}

const FAST = { webhooks: { allow_private_networks: true, retry_initial: 0.1, retry_max: 0.5 } };

async function account(gw: Gateway, email: string, credits = 1000): Promise<{ id: number; token: string }> {
  const a = await gw.accounts.create({ name: email, email, password: 'password123' });
  await gw.credits.credit({ accountId: a.id, amount: credits, reason: 'topup', reference: 'test' });
  const login = await call(gw, 'POST', '/api/auth/login', { body: { email, password: 'password123' } });
  return { id: a.id, token: login.json.data.token };
}

test('a delivered SMS produces message.sent then message.delivered, signed so the documented Node code verifies it', async () => {
  const sim = await startSimulator({ systemId: 'airtel', password: 'pw', receiptDelayMs: 50 });
  const gw = await startGateway([{ name: 'airtel', binds: [{ port: sim.port }] }], FAST);
  const hook = await receiver();
  try {
    const { token } = await account(gw, 'a@example.com');
    const created = await call(gw, 'POST', '/api/webhooks', { token, body: { name: 'My Integration', url: hook.url, events: ['message.sent', 'message.delivered'] } });
    assert.equal(created.status, 201);
    const secret = created.json.data.secret as string;
    assert.equal(secret.length, 32);
    const sent = await call(gw, 'POST', '/api/messages/send', { token, body: { recipients: ['+24162000001'], message: 'hello' } });
    const id = sent.json.data.message_ids[0];
    await waitFor(() => hook.hits.length >= 2, 10_000, 'two webhook calls');
    assert.deepEqual(hook.hits.map((h) => h.body.event), ['message.sent', 'message.delivered']);
    for (const h of hook.hits) {
      assert.equal(h.headers['x-webhook-event'], h.body.event);
      assert.match(String(h.headers['x-webhook-delivery']), /^[0-9a-f-]{36}$/);
      assert.ok(verifyWebhook(h.body, String(h.headers['x-webhook-signature']), secret), 'signature verifies');
      assert.equal(crypto.createHmac('sha256', secret).update(h.raw).digest('hex'), h.headers['x-webhook-signature']);
      assert.equal(h.body.data.message_id, id);
      assert.match(h.body.timestamp, /^\d{4}-\d{2}-\d{2}T/);
    }
    assert.equal(hook.hits[1]!.body.data.status, 'delivered');
    // A wrong secret does not verify.
    assert.equal(verifyWebhook(hook.hits[0]!.body, String(hook.hits[0]!.headers['x-webhook-signature']), 'x'.repeat(32)), false);
  } finally {
    await gw.cleanup();
    await sim.stop();
    await hook.close();
  }
});

test('a receiver that fails twice then succeeds gets exactly three attempts; logs and stats show them', async () => {
  const sim = await startSimulator({ systemId: 'airtel', password: 'pw' });
  const gw = await startGateway([{ name: 'airtel', binds: [{ port: sim.port }] }], FAST);
  const hook = await receiver({ statuses: [500, 503] });
  try {
    const { token } = await account(gw, 'a@example.com');
    const created = await call(gw, 'POST', '/api/webhooks', { token, body: { name: 'flaky', url: hook.url, events: ['message.sent'], retry_limit: 3, timeout: 5 } });
    const wid = created.json.data.id;
    await call(gw, 'POST', '/api/messages/send', { token, body: { recipients: ['+24162000001'], message: 'hello' } });
    await waitFor(() => hook.hits.length >= 3, 10_000, 'three attempts');
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(hook.hits.length, 3);
    assert.equal(new Set(hook.hits.map((h) => h.headers['x-webhook-delivery'])).size, 1, 'one delivery id across retries');
    const logs = await call(gw, 'GET', `/api/webhooks/${wid}/logs`, { token });
    assert.deepEqual(logs.json.data.map((l: any) => [l.attempt, l.success, l.status_code]).reverse(), [[1, false, 500], [2, false, 503], [3, true, 200]]);
    const failedOnly = await call(gw, 'GET', `/api/webhooks/${wid}/logs?success=false`, { token });
    assert.equal(failedOnly.json.total, 2);
    const stats = await call(gw, 'GET', `/api/webhooks/${wid}/stats`, { token });
    assert.deepEqual({ ...stats.json.data, last_triggered_at: null }, {
      total_triggers: 1, successful: 1, failed: 0, pending: 0, success_rate: 100, last_triggered_at: null, events_by_type: [{ event: 'message.sent', count: 1 }],
    });
    const detail = await call(gw, 'GET', `/api/webhooks/${wid}`, { token });
    assert.equal(detail.json.data.logs.length, 3);
    assert.equal(detail.json.data.secret, undefined, 'the secret is not shown again');
  } finally {
    await gw.cleanup();
    await sim.stop();
    await hook.close();
  }
});

test('a receiver that hangs does not delay another receiver, nor the SMS path', async () => {
  const sim = await startSimulator({ systemId: 'airtel', password: 'pw', receipts: false });
  const gw = await startGateway([{ name: 'airtel', binds: [{ port: sim.port }] }], { webhooks: { ...FAST.webhooks, per_destination: 4 } });
  const slow = await receiver({ hang: true });
  const fast = await receiver();
  try {
    const { token } = await account(gw, 'a@example.com');
    await call(gw, 'POST', '/api/webhooks', { token, body: { name: 'slow', url: slow.url, events: ['message.sent'], timeout: 30, retry_limit: 0 } });
    await call(gw, 'POST', '/api/webhooks', { token, body: { name: 'fast', url: fast.url, events: ['message.sent'] } });
    const sent = await call(gw, 'POST', '/api/messages/send', { token, body: { recipients: Array.from({ length: 20 }, (_, i) => `+241620000${String(i).padStart(2, '0')}`), message: 'hello' } });
    assert.equal(sent.json.data.sent, 20);
    await waitFor(() => fast.hits.length >= 20, 10_000, 'the fast receiver got every event');
    assert.ok(slow.hits.length <= 4, 'the hung receiver holds only its own slots');
    const rows = await gw.rows(sent.json.data.message_ids);
    assert.ok(rows.every((r) => r.status === 'sent'));
  } finally {
    await slow.close();
    await fast.close();
    await gw.cleanup();
    await sim.stop();
  }
});

test('URLs on private, loopback or link-local addresses are refused by default', async () => {
  const sim = await startSimulator({ systemId: 'airtel', password: 'pw' });
  const gw = await startGateway([{ name: 'airtel', binds: [{ port: sim.port }] }]);
  try {
    const { token } = await account(gw, 'a@example.com');
    for (const url of ['http://127.0.0.1:9/x', 'http://localhost:9/x', 'http://10.1.2.3/x', 'http://169.254.169.254/latest/meta-data', 'http://[::1]/x', 'http://[::ffff:127.0.0.1]/x', 'http://[::7f00:1]/x', 'http://[64:ff9b::7f00:1]/x', 'http://[2002:a9fe:a9fe::]/x', 'http://[fe80::1]/x', 'http://192.168.1.10/x', 'ftp://example.com/x', 'not a url']) {
      const r = await call(gw, 'POST', '/api/webhooks', { token, body: { name: 'x', url, events: ['message.sent'] } });
      assert.equal(r.status, 422, url);
      assert.ok(r.json.errors.url, url);
    }
    const perSend = await call(gw, 'POST', '/api/messages/send', { token, body: { recipients: ['+24162000001'], message: 'x', webhook_url: 'http://127.0.0.1:9/cb' } });
    assert.equal(perSend.status, 422);
    assert.ok(perSend.json.errors.webhook_url);
    const unknownEvent = await call(gw, 'POST', '/api/webhooks', { token, body: { name: 'x', url: 'https://example.com/x', events: ['nope'] } });
    assert.equal(unknownEvent.status, 422);
    // A public name this box cannot resolve now is accepted (split DNS); delivery checks again.
    const unresolved = await call(gw, 'POST', '/api/webhooks', { token, body: { name: 'x', url: 'https://hooks.acme.invalid/x', events: ['message.sent'] } });
    assert.equal(unresolved.status, 201, unresolved.text);
  } finally {
    await gw.cleanup();
    await sim.stop();
  }
});

test('a per-send webhook_url gets that message\'s events, signed with the account\'s webhook secret', async () => {
  const sim = await startSimulator({ systemId: 'airtel', password: 'pw' });
  const gw = await startGateway([{ name: 'airtel', binds: [{ port: sim.port }] }], FAST);
  const hook = await receiver();
  try {
    const { id, token } = await account(gw, 'a@example.com');
    await call(gw, 'POST', '/api/messages/send', { token, body: { recipients: ['+24162000001'], message: 'cb', webhook_url: hook.url } });
    await call(gw, 'POST', '/api/messages/send', { token, body: { recipients: ['+24162000002'], message: 'no cb' } });
    await waitFor(() => hook.hits.length >= 2, 10_000, 'sent and delivered callbacks');
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(hook.hits.map((h) => [h.body.event, h.body.data.recipient]), [['message.sent', '+24162000001'], ['message.delivered', '+24162000001']]);
    const secret = (await call(gw, 'GET', '/api/webhooks/signing-secret', { token })).json.data.secret as string;
    assert.equal(secret, await gw.accounts.ensureWebhookSecret(id));
    assert.ok(hook.hits.every((h) => verifyWebhook(h.body, String(h.headers['x-webhook-signature']), secret)));
  } finally {
    await gw.cleanup();
    await sim.stop();
    await hook.close();
  }
});

test('webhook CRUD: list, update, toggle, test payload, delete; another account gets 404', async () => {
  const sim = await startSimulator({ systemId: 'airtel', password: 'pw' });
  const gw = await startGateway([{ name: 'airtel', binds: [{ port: sim.port }] }], FAST);
  const hook = await receiver();
  try {
    const a = await account(gw, 'a@example.com');
    const b = await account(gw, 'b@example.com');
    const events = await call(gw, 'GET', '/api/webhooks/events', { token: a.token });
    assert.equal(events.json.data['message.delivered'], 'Message délivré');
    assert.equal(events.json.data['blacklist.added'], 'Numéro ajouté à la liste noire');
    assert.ok(events.json.data['message.received']);
    const created = await call(gw, 'POST', '/api/webhooks', { token: a.token, body: { name: 'h', url: hook.url, events: ['message.sent'], secret: 'my-own-secret-1234567890' } });
    const wid = created.json.data.id;
    assert.equal(created.json.data.secret, 'my-own-secret-1234567890');
    for (const [method, path] of [['GET', `/api/webhooks/${wid}`], ['PUT', `/api/webhooks/${wid}`], ['DELETE', `/api/webhooks/${wid}`], ['POST', `/api/webhooks/${wid}/toggle`], ['POST', `/api/webhooks/${wid}/test`], ['GET', `/api/webhooks/${wid}/logs`], ['GET', `/api/webhooks/${wid}/stats`]] as const) {
      const r = await call(gw, method, path, { token: b.token, body: method === 'PUT' ? { name: 'stolen' } : undefined });
      assert.equal(r.status, 404, `${method} ${path}`);
    }
    assert.deepEqual((await call(gw, 'GET', '/api/webhooks', { token: b.token })).json.data, []);
    const updated = await call(gw, 'PUT', `/api/webhooks/${wid}`, { token: a.token, body: { events: ['message.sent', 'message.failed'], is_active: false } });
    assert.deepEqual([updated.json.data.events, updated.json.data.is_active], [['message.sent', 'message.failed'], false]);
    const toggled = await call(gw, 'POST', `/api/webhooks/${wid}/toggle`, { token: a.token });
    assert.equal(toggled.json.data.is_active, true);
    await call(gw, 'POST', `/api/webhooks/${wid}/test`, { token: a.token });
    await waitFor(() => hook.hits.length >= 1, 5000, 'test delivery');
    assert.deepEqual(hook.hits[0]!.body.data, { message: 'This is a test webhook delivery', webhook_id: wid, webhook_name: 'h' });
    assert.equal(hook.hits[0]!.headers['x-webhook-event'], 'webhook.test');
    assert.ok(verifyWebhook(hook.hits[0]!.body, String(hook.hits[0]!.headers['x-webhook-signature']), 'my-own-secret-1234567890'));
    assert.equal((await call(gw, 'DELETE', `/api/webhooks/${wid}`, { token: a.token })).status, 200);
    assert.equal((await call(gw, 'GET', `/api/webhooks/${wid}`, { token: a.token })).status, 404);
  } finally {
    await gw.cleanup();
    await sim.stop();
    await hook.close();
  }
});

test('audit log: every mutating endpoint is recorded with actor, secrets masked, per account', async () => {
  const sim = await startSimulator({ systemId: 'airtel', password: 'pw' });
  const gw = await startGateway([{ name: 'airtel', binds: [{ port: sim.port }] }], FAST);
  try {
    const a = await account(gw, 'a@example.com');
    const b = await account(gw, 'b@example.com');
    const key = await call(gw, 'POST', '/api/api-keys', { token: a.token, body: { name: 'ci' } });
    const apiKey = key.json.data.key as string;
    const hook = await call(gw, 'POST', '/api/webhooks', { token: apiKey, body: { name: 'h', url: 'http://127.0.0.1:9/x', events: ['message.sent'], secret: 'super-secret-value-123' } });
    await call(gw, 'PUT', `/api/webhooks/${hook.json.data.id}`, { token: a.token, headers: { 'user-agent': 'audit-test/1.0' }, body: { name: 'h2' } });
    await call(gw, 'POST', `/api/webhooks/${hook.json.data.id}/toggle`, { token: a.token });
    await call(gw, 'DELETE', `/api/webhooks/${hook.json.data.id}`, { token: a.token });
    await call(gw, 'POST', '/api/sender-ids', { token: a.token, body: { name: 'ACME' } });
    await call(gw, 'POST', `/api/api-keys/${key.json.data.id}/regenerate`, { token: a.token });
    await call(gw, 'DELETE', `/api/api-keys/${key.json.data.id}`, { token: a.token });
    const list = await call(gw, 'GET', '/api/audit-logs?per_page=100', { token: a.token });
    const actions = list.json.data.map((e: any) => e.action).reverse();
    assert.deepEqual(actions, ['api_key.created', 'webhook.created', 'webhook.updated', 'webhook.toggled', 'webhook.deleted', 'sender_id.requested', 'api_key.regenerated', 'api_key.revoked']);
    const raw = JSON.stringify(list.json);
    assert.ok(!raw.includes('super-secret-value-123') && !raw.includes(apiKey), 'secrets are masked');
    const created = list.json.data.find((e: any) => e.action === 'webhook.created');
    assert.deepEqual([created.actor_type, created.model_type, created.new_values.secret, created.new_values.name], ['api_key', 'App\\Models\\Webhook', '********', 'h']);
    const updated = list.json.data.find((e: any) => e.action === 'webhook.updated');
    assert.deepEqual([updated.old_values.name, updated.new_values.name, updated.user_agent, updated.ip_address !== null], ['h', 'h2', 'audit-test/1.0', true]);
    const one = await call(gw, 'GET', `/api/audit-logs/${created.id}`, { token: a.token });
    assert.equal(one.json.data.action, 'webhook.created');
    assert.equal((await call(gw, 'GET', `/api/audit-logs/${created.id}`, { token: b.token })).status, 404);
    assert.equal((await call(gw, 'GET', '/api/audit-logs', { token: b.token })).json.total, 0);
    const filtered = await call(gw, 'GET', `/api/audit-logs?model_type=Webhook&model_id=${hook.json.data.id}`, { token: a.token });
    assert.equal(filtered.json.total, 4);
    const byAction = await call(gw, 'GET', '/api/audit-logs?action=api_key.created', { token: a.token });
    assert.equal(byAction.json.total, 1);
    const actionsList = await call(gw, 'GET', '/api/audit-logs/actions', { token: a.token });
    assert.ok(actionsList.json.data.includes('webhook.deleted'));
  } finally {
    await gw.cleanup();
    await sim.stop();
  }
});

test('kill -9 between commit and delivery: the event is delivered after restart, with its delivery id', async () => {
  const tmp = tempDir();
  const sim = await startSimulator({ systemId: 'airtel', password: 'pw', receipts: false });
  const hook = await receiver({ statuses: [500] });
  const dbPath = join(tmp.dir, 'relais.db');
  const httpPort = await freePort();
  const configPath = join(tmp.dir, 'relais.yaml');
  // A long retry delay: after the first (failed) attempt the event waits in the outbox.
  // The same database for both daemons: the SQLite file, or the PostgreSQL schema of the PG pass.
  const database = testDatabase(dbPath);
  writeFileSync(configPath, `http: { host: 127.0.0.1, port: ${httpPort} }\ndatabase: ${JSON.stringify(database)}\nnumbering: { country_code: "241" }\nlog: { level: warn }\nwebhooks: { allow_private_networks: true, retry_initial: 600 }\noperators:\n  - { name: airtel, binds: [{ host: 127.0.0.1, port: ${sim.port}, system_id: airtel, password: pw, tps: 100 }] }\nroutes: [{ prefix: "+24162", operator: airtel }]\n`);
  // The account and its webhook, prepared by an in-process daemon on the same file.
  const gw = await startGateway([{ name: 'airtel', binds: [{ port: sim.port }] }], { ...FAST, database }, dbPath);
  const { token } = await account(gw, 'a@example.com');
  await call(gw, 'POST', '/api/webhooks', { token, body: { name: 'h', url: hook.url, events: ['message.sent'] } });
  await gw.cleanup();

  const serve = () => spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', 'serve', '--config', configPath], { stdio: 'ignore' });
  let child = serve();
  try {
    const base = `http://127.0.0.1:${httpPort}`;
    await waitFor(async () => (await fetch(`${base}/readyz`).catch(() => null))?.status === 200, 40_000, 'daemon ready');
    const sent = await fetch(`${base}/api/messages/send`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ recipients: ['+24162000001'], message: 'crash' }) });
    assert.equal(sent.status, 200);
    await waitFor(() => hook.hits.length >= 1, 10_000, 'first (failed) attempt');
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    // Time passes: the retry is due; the daemon comes back on the same database.
    const { openDatabase } = await import('../../src/store/db.js');
    const store = openDatabase({ synchronous: 'normal', schema: 'public', pool_size: 2, ...database } as Parameters<typeof openDatabase>[0]);
    await store.db.updateTable('webhook_deliveries').set({ next_attempt_at: 0 }).where('status', '=', 'pending').execute();
    await store.close();
    child = serve();
    await waitFor(() => hook.hits.length >= 2, 20_000, 'delivery after restart');
    assert.equal(hook.hits[1]!.headers['x-webhook-delivery'], hook.hits[0]!.headers['x-webhook-delivery']);
    assert.equal(hook.hits[1]!.raw, hook.hits[0]!.raw, 'the same event, byte for byte');
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => (child.exitCode === null ? child.once('exit', r) : r(null)));
    await hook.close();
    await sim.stop();
    tmp.cleanup();
  }
});

async function freePort(): Promise<number> {
  const { createServer: netServer } = await import('node:net');
  const srv = netServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const { port } = srv.address() as AddressInfo;
  await new Promise((r) => srv.close(r));
  return port;
}

test('a message that expires in the queue is refunded and reported by message.failed', async () => {
  // The operator's SMSC is down for the whole validity period.
  const gw = await startGateway([{ name: 'airtel', binds: [{ port: 1 }] }], { ...FAST, dispatcher: { validity: 0.5, poll_interval_ms: 10 } });
  const hook = await receiver();
  try {
    const { id, token } = await account(gw, 'a@example.com', 100);
    await call(gw, 'POST', '/api/webhooks', { token, body: { name: 'h', url: hook.url, events: ['message.failed'] } });
    const sent = await call(gw, 'POST', '/api/messages/send', { token, body: { recipients: ['+24162000001'], message: 'late' } });
    assert.equal(sent.json.data.balance, 80);
    const [row] = await gw.waitFinal(sent.json.data.message_ids, 15_000);
    assert.equal(row!.status, 'expired');
    await waitFor(() => hook.hits.length >= 1, 5000, 'message.failed');
    assert.deepEqual([hook.hits[0]!.body.event, hook.hits[0]!.body.data.status, hook.hits[0]!.body.data.recipient], ['message.failed', 'expired', '+24162000001']);
    assert.equal(await gw.credits.balanceOf(id), 100);
  } finally {
    await gw.cleanup();
    await hook.close();
  }
});
