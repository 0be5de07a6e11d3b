/**
 * The SendWave Pro v2.1 API (../shared/seeds/001) over real HTTP, against a real daemon and real
 * SMSC simulators: documented shapes and messages, auth, isolation, validation, credits, limits.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parse } from 'csv-parse/sync';
import { accountIdOf, adminToken, approveSender, call, fund, PASSWORD, registerAndLogin } from '../support/api.js';
import { startGateway, startSimulator, waitFor, type Gateway } from '../support/harness.js';
import { ACCOUNT_PERMISSIONS } from '../../src/services/policy.js';
import type { SmscSimulator } from '../../src/smpp/simulator/simulator.js';

interface Ctx { gw: Gateway; airtel: SmscSimulator; moov: SmscSimulator }

/** Two operators, airtel (+24162) and moov (+24177), each on its own simulator; everything stopped after. */
async function withGateway(extra: Record<string, unknown>, fn: (c: Ctx) => Promise<void>): Promise<void> {
  const airtel = await startSimulator({ systemId: 'airtel', password: 'pw' });
  const moov = await startSimulator({ systemId: 'moov', password: 'pw' });
  let gw: Gateway | undefined;
  try {
    gw = await startGateway([{ name: 'airtel', binds: [{ port: airtel.port }] }, { name: 'moov', binds: [{ port: moov.port }] }], extra);
    await fn({ gw, airtel, moov });
  } finally {
    await gw?.cleanup();
    await Promise.all([airtel.stop(), moov.stop()]);
  }
}

const messageRows = (gw: Gateway, accountId: number) =>
  gw.store.db.selectFrom('messages').select(['id', 'recipient', 'status', 'sender', 'cost']).where('account_id', '=', accountId).orderBy('id').execute();

/** A registered, logged-in, funded account. */
async function user(gw: Gateway, email: string, credits = 0): Promise<{ token: string; id: number }> {
  const token = await registerAndLogin(gw, email);
  const id = await accountIdOf(gw, token);
  if (credits) await fund(gw, id, credits);
  return { token, id };
}

const send = (gw: Gateway, token: string, body: unknown, headers?: Record<string, string>) => call(gw, 'POST', '/api/messages/send', { token, body, ...(headers ? { headers } : {}) });
const UNAUTHENTICATED = { message: 'Unauthenticated.' };
const FORBIDDEN = { message: "Cette action n'est pas autorisée." };

test('register → login → me → logout; the logged-out token is refused; French messages in UTF-8', async () => {
  await withGateway({}, async ({ gw }) => {
    const reg = await call(gw, 'POST', '/api/auth/register', { body: { name: 'John Doe', email: 'john@example.com', password: PASSWORD, password_confirmation: PASSWORD } });
    assert.equal(reg.status, 201);
    assert.match(reg.headers.get('content-type')!, /^application\/json; charset=utf-8$/);
    assert.equal(reg.json.message, 'Inscription réussie');
    assert.ok(reg.text.includes('Inscription r\u00e9ussie') && !reg.text.includes('\ufffd') && !reg.text.includes('√©'));
    const id = reg.json.data.user.id;
    assert.deepEqual(reg.json.data.user, { id, name: 'John Doe', email: 'john@example.com' });
    assert.equal(typeof reg.json.data.token, 'string');

    const login = await call(gw, 'POST', '/api/auth/login', { body: { email: 'john@example.com', password: PASSWORD } });
    assert.equal(login.status, 200);
    assert.equal(login.json.message, 'Connexion réussie');
    assert.deepEqual(login.json.data.user, { id, name: 'John Doe', email: 'john@example.com' });
    const token = login.json.data.token as string;
    assert.notEqual(token, reg.json.data.token);

    const me = await call(gw, 'GET', '/api/auth/me', { token });
    assert.equal(me.status, 200);
    assert.deepEqual(me.json.data, { id, name: 'John Doe', email: 'john@example.com', role: 'user', status: 'active', balance: 0, default_sender_id: null, created_at: me.json.data.created_at, permissions: me.json.data.permissions });
    assert.deepEqual(me.json.data.permissions, [...ACCOUNT_PERMISSIONS].sort(), "an account's own login holds every account right, no operator one");
    assert.match(me.json.data.created_at, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);

    const out = await call(gw, 'POST', '/api/auth/logout', { token });
    assert.equal(out.status, 200);
    assert.deepEqual(out.json, { message: 'Déconnexion réussie' });
    const after = await call(gw, 'GET', '/api/auth/me', { token });
    assert.equal(after.status, 401);
    assert.deepEqual(after.json, UNAUTHENTICATED);
    // Logging out one token leaves the other session alone.
    assert.equal((await call(gw, 'GET', '/api/auth/me', { token: reg.json.data.token })).status, 200);
    // No token, a garbage token: 401 in the same shape.
    for (const t of [undefined, 'not-a-jwt']) {
      const r = await call(gw, 'GET', '/api/auth/me', { token: t });
      assert.equal(r.status, 401);
      assert.deepEqual(r.json, UNAUTHENTICATED);
    }

    const dup = await call(gw, 'POST', '/api/auth/register', { body: { name: 'Other', email: 'JOHN@example.com', password: PASSWORD } });
    assert.equal(dup.status, 422);
    assert.deepEqual(dup.json.errors, { email: ['The email has already been taken.'] });
    assert.equal(typeof dup.json.message, 'string');

    const bad = await call(gw, 'POST', '/api/auth/register', { body: { name: 'X', email: 'not-an-email', password: 'short' } });
    assert.equal(bad.status, 422);
    assert.deepEqual(Object.keys(bad.json.errors).sort(), ['email', 'password']);

    const wrong = await call(gw, 'POST', '/api/auth/login', { body: { email: 'john@example.com', password: 'wrong-password' } });
    assert.equal(wrong.status, 401);
    assert.equal(typeof wrong.json.message, 'string');
    assert.equal(wrong.json.data, undefined);
  });
});

test('registration closed: register answers 403, login of an existing account still works', async () => {
  await withGateway({ auth: { registration: 'closed' } }, async ({ gw }) => {
    const reg = await call(gw, 'POST', '/api/auth/register', { body: { name: 'John', email: 'john@example.com', password: PASSWORD } });
    assert.equal(reg.status, 403);
    assert.equal(typeof reg.json.message, 'string');
    assert.equal(await gw.store.db.selectFrom('accounts').select('id').where('email', '=', 'john@example.com').executeTakeFirst(), undefined);
    await gw.accounts.create({ name: 'Made by admin', email: 'made@example.com', password: PASSWORD });
    assert.equal((await call(gw, 'POST', '/api/auth/login', { body: { email: 'made@example.com', password: PASSWORD } })).status, 200);
  });
});

test('API keys: shown once, work as Bearer, never listed, regenerate and revoke cut the old secret', async () => {
  await withGateway({}, async ({ gw }) => {
    const a = await user(gw, 'a@example.com');
    const created = await call(gw, 'POST', '/api/api-keys', { token: a.token, body: { name: 'ci' } });
    assert.equal(created.status, 201);
    const key = created.json.data.key as string;
    assert.match(key, /^rk_\S{20,}$/);
    assert.equal(created.json.data.prefix, key.slice(0, 10));
    assert.equal(created.json.data.is_active, true);
    const keyId = created.json.data.id;

    const me = await call(gw, 'GET', '/api/auth/me', { token: key });
    assert.equal(me.status, 200);
    assert.equal(me.json.data.id, a.id);

    const list = await call(gw, 'GET', '/api/api-keys', { token: a.token });
    assert.equal(list.status, 200);
    assert.equal(list.json.data.length, 1);
    assert.equal(list.json.data[0].id, keyId);
    assert.equal(list.json.data[0].key, undefined);
    assert.ok(!list.text.includes(key), 'the list must never contain the secret');
    assert.notEqual(list.json.data[0].last_used_at, null);

    // Another account can neither see nor touch the key.
    const b = await user(gw, 'b@example.com');
    assert.deepEqual((await call(gw, 'GET', '/api/api-keys', { token: b.token })).json.data, []);
    assert.equal((await call(gw, 'POST', `/api/api-keys/${keyId}/regenerate`, { token: b.token })).status, 404);
    assert.equal((await call(gw, 'DELETE', `/api/api-keys/${keyId}`, { token: b.token })).status, 404);

    const regen = await call(gw, 'POST', `/api/api-keys/${keyId}/regenerate`, { token: a.token });
    assert.equal(regen.status, 200);
    const key2 = regen.json.data.key as string;
    assert.ok(key2.startsWith('rk_') && key2 !== key);
    const old = await call(gw, 'GET', '/api/auth/me', { token: key });
    assert.equal(old.status, 401);
    assert.deepEqual(old.json, UNAUTHENTICATED);
    assert.equal((await call(gw, 'GET', '/api/auth/me', { token: key2 })).status, 200);

    const revoked = await call(gw, 'DELETE', `/api/api-keys/${keyId}`, { token: a.token });
    assert.equal(revoked.status, 200);
    assert.equal(revoked.json.data.is_active, false);
    const after = await call(gw, 'GET', '/api/auth/me', { token: key2 });
    assert.equal(after.status, 401);
    assert.deepEqual(after.json, UNAUTHENTICATED);
    assert.equal((await call(gw, 'DELETE', `/api/api-keys/${keyId}`, { token: a.token })).status, 404);
    assert.equal((await call(gw, 'POST', `/api/api-keys/${keyId}/regenerate`, { token: a.token })).status, 404);
  });
});

test('tenant isolation: another account\'s message is 404, history and export only show the caller\'s own', async () => {
  await withGateway({}, async ({ gw }) => {
    const a = await user(gw, 'a@example.com', 1000);
    const b = await user(gw, 'b@example.com', 1000);
    const sa = await send(gw, a.token, { recipients: ['+24162000001', '+24162000002'], message: 'for A' });
    const sb = await send(gw, b.token, { recipients: ['+24177000003'], message: 'for B' });
    assert.equal(sa.status, 200);
    assert.equal(sb.status, 200);
    const aIds: number[] = sa.json.data.message_ids;
    const [bId] = sb.json.data.message_ids as number[];

    const foreign = await call(gw, 'GET', `/api/messages/${aIds[0]}`, { token: b.token });
    assert.equal(foreign.status, 404);
    assert.deepEqual(Object.keys(foreign.json), ['message']);
    assert.equal((await call(gw, 'GET', `/api/messages/${aIds[0]}`, { token: a.token })).status, 200);
    assert.equal((await call(gw, 'GET', `/api/messages/${bId}`, { token: a.token })).status, 404);
    for (const id of ['abc', '0', '-1', '1.5', '99999999']) {
      const r = await call(gw, 'GET', `/api/messages/${id}`, { token: a.token });
      assert.equal(r.status, 404, `id ${id}`);
    }

    const history = await call(gw, 'GET', '/api/messages/history', { token: a.token });
    assert.equal(history.status, 200);
    assert.equal(history.json.total, 2);
    assert.deepEqual(history.json.data.map((m: { id: number }) => m.id).sort(), [...aIds].sort());
    assert.ok(history.json.data.every((m: { message: string }) => m.message === 'for A'));
    const bHistory = await call(gw, 'GET', '/api/messages/history', { token: b.token });
    assert.deepEqual(bHistory.json.data.map((m: { id: number }) => m.id), [bId]);

    const csv = await call(gw, 'GET', '/api/messages/export?format=csv', { token: a.token });
    assert.equal(csv.status, 200);
    const rows = parse(csv.text, { columns: true }) as { id: string; message: string }[];
    assert.deepEqual(rows.map((r) => Number(r.id)).sort(), [...aIds].sort());
    assert.ok(!csv.text.includes('for B'));
  });
});

test('send validation: field errors named, bad JSON 400, nothing queued or charged', async () => {
  await withGateway({}, async ({ gw }) => {
    const a = await user(gw, 'a@example.com', 1000);
    const missing = await send(gw, a.token, {});
    assert.equal(missing.status, 422);
    assert.deepEqual(missing.json.errors, { recipients: ['The recipients field is required.'], message: ['The message field is required.'] });
    assert.equal(typeof missing.json.message, 'string');

    const empty = await send(gw, a.token, { recipients: [], message: 'hi' });
    assert.equal(empty.status, 422);
    assert.deepEqual(Object.keys(empty.json.errors), ['recipients']);

    const tooMany = await send(gw, a.token, { recipients: Array.from({ length: 10_001 }, (_, i) => `+24162${String(i).padStart(6, '0')}`), message: 'hi' });
    assert.equal(tooMany.status, 422);
    assert.deepEqual(tooMany.json.errors, { recipients: ['The recipients field must not have more than 10000 items.'] });

    const abc = await send(gw, a.token, { recipients: ['abc', '+24162000001'], message: 'hi' });
    assert.equal(abc.status, 422);
    assert.deepEqual(Object.keys(abc.json.errors), ['recipients.0']);

    const notString = await send(gw, a.token, { recipients: '+24162000001', message: 'hi' });
    assert.equal(notString.status, 422);
    assert.ok(notString.json.errors.recipients);

    const sender = await send(gw, a.token, { recipients: ['+24162000001'], message: 'hi', sender_id: 'NOPE' });
    assert.equal(sender.status, 422);
    assert.deepEqual(Object.keys(sender.json.errors), ['sender_id']);
    assert.match(sender.json.errors.sender_id[0], /NOPE/);

    for (const rawBody of ['{"recipients": [', 'not json at all']) {
      const bad = await call(gw, 'POST', '/api/messages/send', { token: a.token, rawBody });
      assert.equal(bad.status, 400);
      assert.deepEqual(bad.json, { message: 'The request body is not valid JSON.' });
    }

    assert.deepEqual(await messageRows(gw, a.id), []);
    assert.equal(await gw.credits.balanceOf(a.id), 1000);
  });
});

test('a body over http.body_limit_kb answers 413 in the SendWave shape', async () => {
  await withGateway({ http: { host: '127.0.0.1', port: 0, body_limit_kb: 1 } }, async ({ gw }) => {
    const a = await user(gw, 'a@example.com', 1000);
    const big = await send(gw, a.token, { recipients: Array.from({ length: 200 }, (_, i) => `+24162${String(i).padStart(6, '0')}`), message: 'hi' });
    assert.equal(big.status, 413);
    assert.deepEqual(Object.keys(big.json), ['message']);
    assert.deepEqual(await messageRows(gw, a.id), []);
    assert.equal((await send(gw, a.token, { recipients: ['+24162000001'], message: 'small' })).status, 200);
  });
});

test('402 when the balance is short: nothing debited, nothing queued', async () => {
  await withGateway({}, async ({ gw, airtel, moov }) => {
    const a = await user(gw, 'a@example.com', 10);
    const r = await send(gw, a.token, { recipients: ['+24162000001', '+24177000002'], message: 'Your verification code is: 123456' });
    assert.equal(r.status, 402);
    assert.equal(typeof r.json.message, 'string');
    assert.equal(r.json.required, 40);
    assert.equal(r.json.balance, 10);
    assert.deepEqual(r.json.errors, { balance: [r.json.message] });
    assert.equal(await gw.credits.balanceOf(a.id), 10);
    assert.deepEqual((await call(gw, 'GET', '/api/balance', { token: a.token })).json.data.balance, 10);
    assert.deepEqual(await messageRows(gw, a.id), []);
    const txs = await gw.credits.transactions(a.id);
    assert.deepEqual(txs.map((t) => t.reason), ['topup']);
    await new Promise((res) => setTimeout(res, 200));
    assert.equal(airtel.received.length + moov.received.length, 0);

    // Concurrent sends never take the balance below zero: with 40, two of three 20-sends pass.
    await fund(gw, a.id, 30);
    const burst = await Promise.all([1, 2, 3].map((i) => send(gw, a.token, { recipients: ['+24162000001'], message: `burst ${i}` })));
    assert.deepEqual(burst.map((b) => b.status).sort(), [200, 200, 402]);
    assert.equal(await gw.credits.balanceOf(a.id), 0);
    assert.equal((await messageRows(gw, a.id)).length, 2);
  });
});

test('rate limit: the 4th send of 3/minute is 429 with Retry-After; every answer carries the limit headers', async () => {
  await withGateway({ rate_limits: { send_per_minute: 3, default_per_minute: 120, auth_per_minute: 20 } }, async ({ gw }) => {
    const a = await user(gw, 'a@example.com', 1000);
    const remaining: number[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await send(gw, a.token, { recipients: ['+24162000001'], message: `n${i}` });
      assert.equal(r.status, 200);
      assert.equal(r.headers.get('x-ratelimit-limit'), '3');
      remaining.push(Number(r.headers.get('x-ratelimit-remaining')));
    }
    assert.deepEqual(remaining, [2, 1, 0]);
    const fourth = await send(gw, a.token, { recipients: ['+24162000001'], message: 'n3' });
    assert.equal(fourth.status, 429);
    assert.deepEqual(fourth.json, { message: 'Too Many Attempts.' });
    assert.ok(Number(fourth.headers.get('retry-after')) >= 1 && Number(fourth.headers.get('retry-after')) <= 120);
    assert.equal(fourth.headers.get('x-ratelimit-limit'), '3');
    assert.equal(fourth.headers.get('x-ratelimit-remaining'), '0');
    assert.equal((await messageRows(gw, a.id)).length, 3);
    assert.equal(await gw.credits.balanceOf(a.id), 1000 - 3 * 20);

    // Other groups have their own budget and headers.
    const me1 = await call(gw, 'GET', '/api/auth/me', { token: a.token });
    const me2 = await call(gw, 'GET', '/api/balance', { token: a.token });
    assert.equal(me1.status, 200);
    assert.equal(me1.headers.get('x-ratelimit-limit'), '120');
    assert.ok(Number(me2.headers.get('x-ratelimit-remaining')) < Number(me1.headers.get('x-ratelimit-remaining')));
    const login = await call(gw, 'POST', '/api/auth/login', { body: { email: 'a@example.com', password: PASSWORD } });
    assert.equal(login.headers.get('x-ratelimit-limit'), '20');
    assert.ok(login.headers.get('x-ratelimit-remaining') !== null);
    // Another account is not throttled by A's sends.
    const b = await user(gw, 'b@example.com', 100);
    assert.equal((await send(gw, b.token, { recipients: ['+24162000001'], message: 'b' })).status, 200);
  });
});

test('the seed\'s examples: send to airtel + moov, analyze three numbers', async () => {
  await withGateway({}, async ({ gw, airtel, moov }) => {
    const a = await user(gw, 'a@example.com', 1000);
    const r = await send(gw, a.token, { recipients: ['+24162000001', '+24177000002'], message: 'Your verification code is: 123456' });
    assert.equal(r.status, 200);
    const ids = r.json.data.message_ids as number[];
    assert.equal(ids.length, 2);
    assert.ok(ids.every((id) => Number.isInteger(id)));
    assert.deepEqual(r.json, {
      message: 'Envoi terminé',
      data: {
        total: 2, sent: 2, failed: 0, sms_count: 1, total_cost: 40, by_operator: { airtel: 1, moov: 1, unknown: 0 },
        message_ids: ids, failures: [], warnings: [], sender_id: 'Relais', scheduled_at: null, balance: 960,
      },
    });
    assert.equal(await gw.credits.balanceOf(a.id), 960);
    await gw.waitFinal(ids);
    assert.deepEqual(airtel.received.map((m) => [m.destination, m.text]), [['24162000001', 'Your verification code is: 123456']]);
    assert.deepEqual(moov.received.map((m) => [m.destination, m.text]), [['24177000002', 'Your verification code is: 123456']]);

    const an = await call(gw, 'POST', '/api/messages/analyze', { token: a.token, body: { phone_numbers: ['+24162000001', '+24177000002', '0777000003'] } });
    assert.equal(an.status, 200);
    assert.deepEqual(an.json, {
      message: 'Analyse effectuée',
      data: {
        total: 3, airtel_count: 1, moov_count: 2, unknown_count: 0,
        details: [
          { phone: '+24162000001', normalized: '+24162000001', operator: 'airtel', is_valid: true },
          { phone: '+24177000002', normalized: '+24177000002', operator: 'moov', is_valid: true },
          { phone: '0777000003', normalized: '+241777000003', operator: 'moov', is_valid: true },
        ],
      },
    });
    assert.equal(airtel.received.length + moov.received.length, 2, 'analyze sends nothing');
  });
});

test('per-recipient failures are counted and listed, and only the accepted recipient is charged', async () => {
  await withGateway({}, async ({ gw, airtel, moov }) => {
    await gw.blacklist.add({ accountId: 0, phone: '+24162000009', reason: 'x', source: 'admin', at: Date.now() });
    const a = await user(gw, 'a@example.com', 1000);
    const r = await send(gw, a.token, { recipients: ['+24162000001', '+33612345678', '+24162000009'], message: 'hello' });
    assert.equal(r.status, 200);
    const d = r.json.data;
    assert.equal(d.total, 3);
    assert.equal(d.sent, 1);
    assert.equal(d.failed, 2);
    assert.equal(d.total_cost, 20);
    assert.equal(d.message_ids.length, 1);
    assert.deepEqual(d.failures.map((f: { recipient: string; error: string }) => [f.recipient, f.error]), [['+33612345678', 'no_route'], ['+24162000009', 'blacklisted']]);
    assert.ok(d.failures.every((f: { reason: string }) => typeof f.reason === 'string' && f.reason.length > 0));
    // Every recipient counts once by operator (the blacklisted one routes to airtel), unroutable ones as unknown.
    assert.deepEqual(d.by_operator, { airtel: 2, moov: 0, unknown: 1 });
    assert.equal(await gw.credits.balanceOf(a.id), 980);
    const rows = await messageRows(gw, a.id);
    assert.deepEqual(rows.map((m) => [m.id, m.recipient, m.cost]), [[d.message_ids[0], '+24162000001', 20]]);
    await gw.waitFinal(d.message_ids);
    assert.deepEqual(airtel.received.map((m) => m.destination), ['24162000001']);
    assert.equal(moov.received.length, 0);
  });
});

test('a sent message becomes delivered and shows it in history?status=delivered and in /messages/{id} with parts', async () => {
  await withGateway({}, async ({ gw, airtel }) => {
    const a = await user(gw, 'a@example.com', 1000);
    const r = await send(gw, a.token, { recipients: ['+24162000001'], message: 'Delivered please' });
    const [id] = r.json.data.message_ids as number[];
    await waitFor(async () => {
      const h = await call(gw, 'GET', '/api/messages/history?status=delivered', { token: a.token });
      return h.json.data.some((m: { id: number }) => m.id === id);
    }, 10_000, 'delivered in history');
    const h = await call(gw, 'GET', '/api/messages/history?status=delivered', { token: a.token });
    assert.equal(h.json.total, 1);
    assert.equal(h.json.current_page, 1);
    assert.equal(h.json.data[0].status, 'delivered');
    assert.equal((await call(gw, 'GET', '/api/messages/history?status=queued', { token: a.token })).json.total, 0);
    assert.equal((await call(gw, 'GET', '/api/messages/history?status=nonsense', { token: a.token })).status, 422);

    const one = await call(gw, 'GET', `/api/messages/${id}`, { token: a.token });
    assert.equal(one.status, 200);
    const m = one.json.data;
    assert.equal(m.id, id);
    assert.equal(m.status, 'delivered');
    assert.equal(m.recipient, '+24162000001');
    assert.equal(m.message, 'Delivered please');
    assert.equal(m.sms_count, 1);
    assert.equal(m.cost, 20);
    assert.equal(m.error, null);
    assert.equal(m.smsc_message_id, airtel.received[0]!.messageId);
    assert.notEqual(m.sent_at, null);
    assert.notEqual(m.delivered_at, null);
    assert.equal(m.parts.length, 1);
    assert.equal(m.parts[0].part, 1);
    assert.equal(m.parts[0].state, 'DELIVRD');
    assert.notEqual(m.parts[0].receipt_at, null);
  });
});

// The id an API caller sees for a part should be the one the SMSC issued (what operators quote in
// support tickets), as it is for the message. Parts show the internal canonical form instead.
test('/messages/{id} parts show the SMSC\'s own message id, as the message does (decimal-id operator)', async () => {
  const sim = await startSimulator({ systemId: 'airtel', password: 'pw', idFormat: 'decimal' });
  const gw = await startGateway([{ name: 'airtel', binds: [{ port: sim.port }], receipt_id_format: 'decimal' }]);
  try {
    const a = await user(gw, 'a@example.com', 1000);
    const [id] = (await send(gw, a.token, { recipients: ['+24162000001'], message: 'hi' })).json.data.message_ids as number[];
    await gw.waitFinal([id!]);
    const m = (await call(gw, 'GET', `/api/messages/${id}`, { token: a.token })).json.data;
    assert.equal(m.status, 'delivered');
    assert.equal(m.smsc_message_id, sim.received[0]!.messageId);
    assert.equal(m.parts[0].smsc_message_id, sim.received[0]!.messageId);
  } finally {
    await gw.cleanup();
    await sim.stop();
  }
});

test('the CSV export parses back to the same rows as history', async () => {
  await withGateway({}, async ({ gw }) => {
    const a = await user(gw, 'a@example.com', 1000);
    const r1 = await send(gw, a.token, { recipients: ['+24162000001', '+24177000002'], message: 'Bonjour, "Zoé"\nligne 2' });
    const r2 = await send(gw, a.token, { recipients: ['+24162000003'], message: 'plain' });
    const ids = [...r1.json.data.message_ids, ...r2.json.data.message_ids] as number[];
    await gw.waitFinal(ids);

    const history = await call(gw, 'GET', '/api/messages/history', { token: a.token });
    const csv = await call(gw, 'GET', '/api/messages/export?format=csv', { token: a.token });
    assert.equal(csv.status, 200);
    assert.equal(csv.json, null);
    assert.match(csv.headers.get('content-type')!, /^text\/csv/);
    assert.match(csv.headers.get('content-disposition')!, /^attachment; filename="messages-\d{4}-\d{2}-\d{2}\.csv"/);
    const parsed = parse(csv.text, { columns: true }) as Record<string, string>[];
    assert.equal(parsed.length, 3);
    assert.equal(csv.text.split('\n')[0], 'id,recipient,sender_id,message,status,operator,sms_count,encoding,cost,attempts,error,smsc_message_id,scheduled_at,created_at,sent_at,delivered_at');
    type H = { id: number; recipient: string; status: string; message: string; operator: string };
    const fromHistory = (history.json.data as H[]).map((m) => [m.id, m.recipient, m.status, m.message, m.operator]).sort((x, y) => Number(x[0]) - Number(y[0]));
    const fromCsv = parsed.map((m) => [Number(m.id), unescapeCell(m.recipient!), m.status, unescapeCell(m.message!), m.operator]).sort((x, y) => Number(x[0]) - Number(y[0]));
    assert.deepEqual(fromCsv, fromHistory);
    assert.deepEqual(fromCsv.map((x) => x[0]), [...ids].sort((x, y) => x - y));
    assert.ok(fromCsv.every((x) => x[2] === 'delivered'));
    // Filters apply to the export as to history.
    const none = await call(gw, 'GET', '/api/messages/export?format=csv&status=failed', { token: a.token });
    assert.equal((parse(none.text, { columns: true }) as unknown[]).length, 0);
    assert.equal((await call(gw, 'GET', '/api/messages/export?format=xml', { token: a.token })).status, 422);
  });
});

/** The documented way back from an exported text cell to the stored text: a leading ' was added by the export. */
const unescapeCell = (cell: string): string => (cell.startsWith("'") ? cell.slice(1) : cell);

test('the CSV export defuses formulas (OWASP): text cells starting with = + - @ tab CR (or \') get a leading \', also when a contact\'s name is filled in; numbers untouched', async () => {
  await withGateway({}, async ({ gw }) => {
    const a = await user(gw, 'formula@example.com', 10_000);
    const evil = "=cmd|' /C calc'!A0";
    const contact = await call(gw, 'POST', '/api/contacts', { token: a.token, body: { name: evil, phone: '+24162000009' } });
    assert.equal(contact.status, 201, contact.text);
    const personalized = await send(gw, a.token, { recipients: ['+24162000009'], message: '{nom}, votre commande est prête' });
    assert.equal(personalized.status, 200, personalized.text);
    const bodies = ['=1+1', '@SUM(A1:A2)', '\tTAB', '\rCR first', '-2+3', '+33 6 12', '=HYPERLINK("http://evil.example/?x","clic")', '\uFF1D1+1', 'a=b, rien', "'déjà cité", 'Bonjour'];
    const ids: number[] = [...personalized.json.data.message_ids];
    for (const message of bodies) {
      const r = await send(gw, a.token, { recipients: ['+24177000001'], message });
      assert.equal(r.status, 200, `${JSON.stringify(message)}: ${r.text}`);
      ids.push(...r.json.data.message_ids);
    }
    await gw.waitFinal(ids);

    const csv = await call(gw, 'GET', '/api/messages/export?format=csv', { token: a.token });
    assert.equal(csv.status, 200);
    const rows = parse(csv.text, { columns: true }) as Record<string, string>[];
    assert.deepEqual(rows.map((r) => Number(r.id)), ids, 'one row per message, oldest first');
    assert.deepEqual(rows.map((r) => r.message), [
      `'${evil}, votre commande est prête`,
      "'=1+1", "'@SUM(A1:A2)", "'\tTAB", "'\rCR first", "'-2+3", "'+33 6 12", '\'=HYPERLINK("http://evil.example/?x","clic")', "'\uFF1D1+1",
      'a=b, rien', "''déjà cité", 'Bonjour',
    ]);
    // E.164 numbers start with "+": prefixed too (documented; integrators strip it).
    assert.deepEqual([...new Set(rows.map((r) => r.recipient))], ["'+24162000009", "'+24177000001"]);
    for (const r of rows) {
      assert.match(r.id!, /^\d+$/);
      assert.equal(r.cost, '20');
      assert.equal(r.attempts, '1');
      for (const [column, cell] of Object.entries(r)) assert.doesNotMatch(cell, /^[=+\-@\t\r\uFF1D\uFF0B\uFF0D\uFF20]/, `${column} ${JSON.stringify(cell)}`);
    }
    // Quoted where a separator, a quote or a line break is inside; quotes doubled.
    assert.ok(csv.text.includes(`"'${evil}, votre commande est prête"`), 'the filled-in name, quoted');
    assert.ok(csv.text.includes('"\'=HYPERLINK(""http://evil.example/?x"",""clic"")"'), 'quotes doubled inside a quoted cell');
    assert.ok(csv.text.includes('"\'\rCR first"'), 'a CR cell is quoted');
    // The documented way back gives the stored texts.
    const history = await call(gw, 'GET', '/api/messages/history?per_page=100', { token: a.token });
    const stored = new Map((history.json.data as { id: number; message: string }[]).map((m) => [m.id, m.message]));
    assert.deepEqual(rows.map((r) => unescapeCell(r.message!)), ids.map((id) => stored.get(id)));
  });
});

test('Idempotency-Key: a retried send answers the same and sends once; a different body with the key is 422', async () => {
  await withGateway({}, async ({ gw, airtel, moov }) => {
    const a = await user(gw, 'a@example.com', 1000);
    const body = { recipients: ['+24162000001', '+24177000002'], message: 'once only' };
    const first = await send(gw, a.token, body, { 'Idempotency-Key': 'order-42' });
    const second = await send(gw, a.token, body, { 'Idempotency-Key': 'order-42' });
    assert.equal(first.status, 200);
    assert.equal(second.status, 200);
    assert.equal(second.text, first.text);
    assert.equal(await gw.credits.balanceOf(a.id), 960);
    const rows = await messageRows(gw, a.id);
    assert.deepEqual(rows.map((m) => m.id), first.json.data.message_ids);
    await gw.waitFinal(first.json.data.message_ids);
    await new Promise((res) => setTimeout(res, 200));
    assert.equal(airtel.received.length + moov.received.length, 2);

    const other = await send(gw, a.token, { ...body, message: 'something else' }, { 'Idempotency-Key': 'order-42' });
    assert.equal(other.status, 422);
    assert.ok(other.json.errors.idempotency_key);
    assert.equal((await messageRows(gw, a.id)).length, 2);
    assert.equal(await gw.credits.balanceOf(a.id), 960);

    // The key belongs to the account: another account reusing it sends its own messages.
    const b = await user(gw, 'b@example.com', 1000);
    const bAnswer = await send(gw, b.token, body, { 'Idempotency-Key': 'order-42' });
    assert.equal(bAnswer.status, 200);
    assert.notDeepEqual(bAnswer.json.data.message_ids, first.json.data.message_ids);
    assert.equal(await gw.credits.balanceOf(b.id), 960);
    // Concurrent retries with one key: one send, one debit, the same answer to each.
    const burst = await Promise.all([1, 2, 3].map(() => send(gw, a.token, body, { 'Idempotency-Key': 'burst' })));
    assert.deepEqual(burst.map((x) => x.status), [200, 200, 200]);
    assert.ok(burst.every((x) => x.text === burst[0]!.text));
    assert.equal((await messageRows(gw, a.id)).length, 4);
    assert.equal(await gw.credits.balanceOf(a.id), 920);
    // Without a key, the same body is a new send.
    assert.equal((await send(gw, a.token, body)).status, 200);
    assert.equal((await messageRows(gw, a.id)).length, 6);
  });
});

test('admin API: 403 for non-admins on every route; binds, routes, credits, suspend', async () => {
  await withGateway({}, async ({ gw }) => {
    const u = await user(gw, 'u@example.com');
    const routes: [string, string, unknown?][] = [
      ['GET', '/api/admin/accounts'], ['POST', `/api/admin/accounts/${u.id}/credits`, { amount: 100 }], ['POST', `/api/admin/accounts/${u.id}/suspend`],
      ['POST', `/api/admin/accounts/${u.id}/activate`], ['GET', '/api/admin/sender-ids'], ['POST', '/api/admin/sender-ids/1/approve'],
      ['POST', '/api/admin/sender-ids/1/reject'], ['GET', '/api/admin/binds'], ['GET', '/api/admin/routes'],
    ];
    for (const [method, path, body] of routes) {
      const r = await call(gw, method, path, { token: u.token, body });
      assert.equal(r.status, 403, `${method} ${path}`);
      assert.deepEqual(r.json, FORBIDDEN, `${method} ${path}`);
      const anon = await call(gw, method, path, { body });
      assert.equal(anon.status, 401, `anonymous ${method} ${path}`);
    }
    assert.equal(await gw.credits.balanceOf(u.id), 0);
    assert.equal((await gw.accounts.get(u.id))!.status, 'active');

    const admin = await adminToken(gw);
    await waitFor(() => gw.binds.every((b) => b.state === 'bound'), 10_000, 'binds bound');
    const binds = await call(gw, 'GET', '/api/admin/binds', { token: admin });
    assert.equal(binds.status, 200);
    assert.deepEqual(binds.json.data.map((b: { operator: string; name: string; state: string }) => [b.operator, b.name, b.state]), [['airtel', 'airtel-1', 'bound'], ['moov', 'moov-1', 'bound']]);
    assert.ok(!binds.text.includes('"pw"'), 'bind passwords are never shown');
    const rt = await call(gw, 'GET', '/api/admin/routes', { token: admin });
    assert.equal(rt.status, 200);
    assert.deepEqual(rt.json, {
      data: [{ operator: 'airtel', failover: 'moov', prefix: '+24162' }, { operator: 'moov', failover: null, prefix: '+24177' }],
      default_route: null,
    });

    const accounts = await call(gw, 'GET', '/api/admin/accounts', { token: admin });
    assert.equal(accounts.status, 200);
    assert.ok(accounts.json.data.some((x: { id: number; email: string }) => x.id === u.id && x.email === 'u@example.com'));
    assert.equal(accounts.json.total, accounts.json.data.length);
    const credit = await call(gw, 'POST', `/api/admin/accounts/${u.id}/credits`, { token: admin, body: { amount: 500 } });
    assert.equal(credit.status, 200);
    assert.deepEqual(credit.json.data, { account_id: u.id, amount: 500, balance: 500 });
    assert.equal((await call(gw, 'POST', `/api/admin/accounts/${u.id}/credits`, { token: admin, body: { amount: 0 } })).status, 422);
    // Balances are integers in the smallest unit: an amount near 2^53 would stop being exact.
    const huge = await call(gw, 'POST', `/api/admin/accounts/${u.id}/credits`, { token: admin, body: { amount: 2 ** 53 - 1 } });
    assert.equal(huge.status, 422, huge.text);
    assert.match(huge.json.errors.amount[0], /not be greater than 1000000000000/);
    assert.equal((await call(gw, 'POST', `/api/admin/accounts/${u.id}/credits`, { token: admin, body: { amount: -(2 ** 53 - 1) } })).status, 422);
    for (let i = 0; i < 3; i++) assert.equal((await call(gw, 'POST', `/api/admin/accounts/${u.id}/credits`, { token: admin, body: { amount: 1_000_000_000_000 } })).status, 200);
    let balance = 0;
    for (let i = 0; i < 3; i++) balance = (await call(gw, 'POST', `/api/admin/accounts/${u.id}/credits`, { token: admin, body: { amount: -1_000_000_000_000 } })).json.data.balance;
    assert.equal(balance, 500, 'a trillion a time, exact');
    assert.equal((await call(gw, 'POST', '/api/admin/accounts/999999/credits', { token: admin, body: { amount: 5 } })).status, 404);

    const susp = await call(gw, 'POST', `/api/admin/accounts/${u.id}/suspend`, { token: admin });
    assert.equal(susp.status, 200);
    assert.equal(susp.json.data.status, 'suspended');
    const refused = await call(gw, 'GET', '/api/auth/me', { token: u.token });
    assert.equal(refused.status, 403);
    assert.equal(typeof refused.json.message, 'string');
    assert.equal((await send(gw, u.token, { recipients: ['+24162000001'], message: 'x' })).status, 403);
    assert.equal((await call(gw, 'POST', '/api/auth/login', { body: { email: 'u@example.com', password: PASSWORD } })).status, 403);
    const act = await call(gw, 'POST', `/api/admin/accounts/${u.id}/activate`, { token: admin });
    assert.equal(act.json.data.status, 'active');
    assert.equal((await call(gw, 'GET', '/api/auth/me', { token: u.token })).status, 200);
  });
});

test('sender IDs: pending until approved, then used as the source address; rejected ones cannot send', async () => {
  await withGateway({}, async ({ gw, airtel }) => {
    const u = await user(gw, 'u@example.com', 1000);
    const admin = await adminToken(gw);
    const req = await call(gw, 'POST', '/api/sender-ids', { token: u.token, body: { name: 'ACME' } });
    assert.equal(req.status, 201);
    assert.equal(req.json.data.status, 'pending');
    const sid = req.json.data.id;
    const pendingSend = await send(gw, u.token, { recipients: ['+24162000001'], message: 'x', sender_id: 'ACME' });
    assert.equal(pendingSend.status, 422);
    assert.match(pendingSend.json.errors.sender_id[0], /pending/);

    const pending = await call(gw, 'GET', '/api/admin/sender-ids?status=pending', { token: admin });
    assert.equal(pending.status, 200);
    assert.deepEqual(pending.json.data.map((s: { id: number; account_id: number; name: string; status: string }) => [s.id, s.account_id, s.name, s.status]), [[sid, u.id, 'ACME', 'pending']]);

    const ok = await call(gw, 'POST', `/api/admin/sender-ids/${sid}/approve`, { token: admin });
    assert.equal(ok.status, 200);
    assert.equal(ok.json.data.status, 'approved');
    assert.deepEqual((await call(gw, 'GET', '/api/admin/sender-ids?status=pending', { token: admin })).json.data, []);
    assert.equal((await call(gw, 'GET', '/api/auth/me', { token: u.token })).json.data.default_sender_id, 'ACME');

    const sent = await send(gw, u.token, { recipients: ['+24162000001'], message: 'from ACME', sender_id: 'ACME' });
    assert.equal(sent.status, 200);
    assert.equal(sent.json.data.sender_id, 'ACME');
    await gw.waitFinal(sent.json.data.message_ids);
    assert.deepEqual(airtel.received.map((m) => [m.source, m.text]), [['ACME', 'from ACME']]);

    const rej = await call(gw, 'POST', '/api/sender-ids', { token: u.token, body: { name: 'PROMO' } });
    const rejected = await call(gw, 'POST', `/api/admin/sender-ids/${rej.json.data.id}/reject`, { token: admin });
    assert.equal(rejected.status, 200);
    assert.equal(rejected.json.data.status, 'rejected');
    const refused = await send(gw, u.token, { recipients: ['+24162000001'], message: 'x', sender_id: 'PROMO' });
    assert.equal(refused.status, 422);
    assert.match(refused.json.errors.sender_id[0], /rejected/);
    const mine = await call(gw, 'GET', '/api/sender-ids', { token: u.token });
    assert.deepEqual(mine.json.data.map((s: { name: string; status: string }) => [s.name, s.status]), [['ACME', 'approved'], ['PROMO', 'rejected']]);

    // Another account cannot send with ACME, even though it is approved for u.
    const other = await user(gw, 'o@example.com', 1000);
    assert.equal((await send(gw, other.token, { recipients: ['+24162000001'], message: 'x', sender_id: 'ACME' })).status, 422);
    // approveSender helper: the whole flow through HTTP.
    await approveSender(gw, other.token, 'OTHER', admin);
    assert.equal((await send(gw, other.token, { recipients: ['+24162000002'], message: 'y', sender_id: 'OTHER' })).status, 200);
  });
});

test('a scheduled send waits in the queue until scheduled_at, then is delivered', async () => {
  await withGateway({}, async ({ gw, airtel }) => {
    const a = await user(gw, 'a@example.com', 1000);
    const at = Date.now() + 2000;
    const r = await send(gw, a.token, { recipients: ['+24162000001'], message: 'later', scheduled_at: new Date(at).toISOString() });
    assert.equal(r.status, 200);
    assert.equal(r.json.data.scheduled_at, new Date(at).toISOString().replace(/\.\d{3}Z$/, 'Z'));
    const [id] = r.json.data.message_ids as number[];
    await new Promise((res) => setTimeout(res, 1000));
    assert.equal(airtel.received.length, 0);
    const [row] = await gw.rows([id!]);
    assert.equal(row!.status, 'queued');
    assert.notEqual((await call(gw, 'GET', `/api/messages/${id}`, { token: a.token })).json.data.scheduled_at, null);
    const [final] = await gw.waitFinal([id!], 10_000);
    assert.equal(final!.status, 'delivered');
    assert.equal(airtel.received.length, 1);
    assert.ok(airtel.received[0]!.at >= at - 100, 'not submitted before scheduled_at');
  });
});

test('/api/openapi.json is an OpenAPI 3.1 document with the send path', async () => {
  await withGateway({}, async ({ gw }) => {
    const r = await call(gw, 'GET', '/api/openapi.json');
    assert.equal(r.status, 200);
    const doc = JSON.parse(r.text);
    assert.equal(doc.openapi, '3.1.0');
    assert.ok(doc.paths['/api/messages/send']?.post, 'POST /api/messages/send documented');
    assert.ok(doc.paths['/api/messages/send'].post.requestBody);
    assert.ok(doc.paths['/api/messages/{id}']?.get);
    assert.ok(doc.paths['/api/admin/binds']?.get);
  });
});
