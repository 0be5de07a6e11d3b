/**
 * Two nodes on one PostgreSQL share what one process used to keep in memory: rate limits (SendWave
 * groups and Mifumo's per-operation limits, with their X-RateLimit-* headers), the failed-login
 * guard, revocation of tokens and keys and suspensions, Idempotency-Keys, the blacklist (API and
 * MO opt-out), and webhook subscriptions. Two real daemons on the same database and schema, each
 * with its own HTTP port, both configured with the same simulated operator; everything is asked
 * over HTTP, one node doing and the other checking. Runs only against PostgreSQL
 * (RELAIS_TEST_DATABASE_URL); SQLite is one node, covered by the other tests.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { approveSender, call, fund, PASSWORD, adminToken } from '../support/api.js';
import { startGateway, startSimulator, tempDir, testDatabase, waitFor, type Gateway } from '../support/harness.js';
import type { SmscSimulator } from '../../src/smpp/simulator/simulator.js';

const DATABASE_URL = process.env.RELAIS_TEST_DATABASE_URL;
/** What "within about a second" may take on a loaded test machine: the poll, the query, the request. */
const PROPAGATION_MS = 2000;

if (!DATABASE_URL) {
  test('state shared by two nodes on one PostgreSQL', (t) => {
    t.skip('RELAIS_TEST_DATABASE_URL is not set: two nodes need a shared PostgreSQL (scripts/pg-cluster.sh start DIR)');
  });
} else {
  let sim: SmscSimulator;
  let a: Gateway;
  let b: Gateway;
  let tmp: { dir: string; cleanup: () => void };

  const LIMITS = {
    // Every test logs in from 127.0.0.1: the anonymous budget is not what is tested here.
    auth_per_minute: 10_000,
    default_per_minute: 10_000,
    send_per_minute: 8,
    mifumo: { balance_per_minute: 4, unauthenticated_per_hour: 10_000 },
  };

  before(async () => {
    tmp = tempDir();
    sim = await startSimulator({ systemId: 'airtel', password: 'pw' });
    // One database config, the same url and schema, for both nodes.
    const database = testDatabase(join(tmp.dir, 'relais.db'));
    const extra = (node: string) => ({
      database, cluster: { node_id: node },
      rate_limits: LIMITS,
      auth: { login_failures: { per_client: 3, per_login: 50, window: 300 } },
      webhooks: { allow_private_networks: true, retry_initial: 0.1, retry_max: 0.5 },
    });
    const operators = [{ name: 'airtel', binds: [{ port: sim.port }] }];
    // One after the other: the first migrates the schema and creates the first admin.
    a = await startGateway(operators, extra('node-a'), join(tmp.dir, 'a.db'));
    b = await startGateway(operators, extra('node-b'), join(tmp.dir, 'b.db'));
    assert.equal(a.store.backend, 'postgres');
    assert.equal(a.store.schema, b.store.schema);
  });

  after(async () => {
    await Promise.allSettled([a?.cleanup(), b?.cleanup()]);
    await sim?.stop();
    tmp?.cleanup();
  });

  let accounts = 0;
  /** A new account (created on node A) and an access token for it, logged in on `on`. */
  async function account(on: Gateway = a): Promise<{ id: number; email: string; token: string }> {
    const email = `cluster${++accounts}-${process.pid}@relais.test`;
    const created = await a.accounts.create({ name: email, email, password: PASSWORD });
    const login = await call(on, 'POST', '/api/auth/login', { body: { email, password: PASSWORD } });
    assert.equal(login.status, 200, login.text);
    return { id: created.id, email, token: login.json.data.token as string };
  }

  /** Polls `check` until true; returns how long it took, failing past PROPAGATION_MS. */
  async function within(what: string, check: () => Promise<boolean>): Promise<number> {
    const started = Date.now();
    await waitFor(check, PROPAGATION_MS, what);
    return Date.now() - started;
  }

  /** Far enough from the end of the current minute for a few requests to share its window. */
  async function startOfWindow(): Promise<void> {
    const into = Date.now() % 60_000;
    if (into > 45_000) await sleep(60_000 - into + 200);
  }

  // SendWave's send group: a request is counted before its body is read, so an empty body (422)
  // spends the budget as a send would, without sending anything.
  const trySend = (node: Gateway, token: string) => call(node, 'POST', '/api/messages/send', { token, body: {} });

  test('rate limits: two nodes together allow the configured limit, and the headers count both', async () => {
    await startOfWindow();
    const { token } = await account();
    const limit = LIMITS.send_per_minute;
    const seen: { node: string; status: number; remaining: string | null; limit: string | null }[] = [];
    for (let i = 0; i < 2 * limit; i++) {
      const node = i % 2 === 0 ? a : b;
      const r = await trySend(node, token);
      seen.push({ node: node === a ? 'a' : 'b', status: r.status, remaining: r.headers.get('x-ratelimit-remaining'), limit: r.headers.get('x-ratelimit-limit') });
    }
    const allowed = seen.filter((s) => s.status === 422);
    assert.equal(allowed.length, limit, JSON.stringify(seen));
    assert.deepEqual(allowed.map((s) => Number(s.remaining)), Array.from({ length: limit }, (_, i) => limit - 1 - i));
    assert.ok(seen.slice(limit).every((s) => s.status === 429 && s.remaining === '0' && s.limit === String(limit)), JSON.stringify(seen));
  });

  test('rate limits: concurrent requests split across the nodes never pass the limit together', async () => {
    await startOfWindow();
    const { token } = await account();
    const limit = LIMITS.send_per_minute;
    const answers = await Promise.all(Array.from({ length: 4 * limit }, (_, i) => trySend(i % 2 ? a : b, token)));
    assert.equal(answers.filter((r) => r.status === 422).length, limit);
    assert.equal(answers.filter((r) => r.status === 429).length, 3 * limit);
  });

  test("rate limits: Mifumo's per-operation limit is shared too (429 RATE_LIMIT_EXCEEDED on the other node)", async () => {
    await startOfWindow();
    const { token } = await account();
    const limit = LIMITS.mifumo.balance_per_minute;
    for (let i = 0; i < limit; i++) {
      const r = await call(i % 2 ? b : a, 'GET', '/api/messaging/sms/balance/', { token });
      assert.equal(r.status, 200, r.text);
      assert.deepEqual([r.headers.get('x-ratelimit-limit'), r.headers.get('x-ratelimit-remaining')], [String(limit), String(limit - 1 - i)]);
    }
    for (const node of [a, b]) {
      const limited = await call(node, 'GET', '/api/messaging/sms/balance/', { token });
      assert.deepEqual([limited.status, limited.json.error_code], [429, 'RATE_LIMIT_EXCEEDED']);
      assert.ok(Number(limited.headers.get('retry-after')) >= 1);
    }
    // Another operation keeps its own budget.
    const other = await call(b, 'GET', '/api/messaging/contacts/', { token });
    assert.equal(other.status, 200, other.text);
  });

  test('failed logins are counted across the nodes: the fourth try is refused on either, even with the right password', async () => {
    const { email } = await account();
    for (const node of [a, b, a]) {
      const r = await call(node, 'POST', '/api/auth/login', { body: { email, password: 'wrong-password' } });
      assert.equal(r.status, 401, r.text);
    }
    for (const node of [b, a]) {
      const r = await call(node, 'POST', '/api/auth/login', { body: { email, password: PASSWORD } });
      assert.equal(r.status, 429, r.text);
      assert.ok(Number(r.headers.get('retry-after')) >= 1);
    }
  });

  test('a logout on one node is refused on the other within about a second', async () => {
    const { token } = await account();
    assert.equal((await call(b, 'GET', '/api/auth/me', { token })).status, 200);
    assert.equal((await call(a, 'POST', '/api/auth/logout', { token })).status, 200);
    assert.equal((await call(a, 'GET', '/api/auth/me', { token })).status, 401);
    await within('the token refused on node B', async () => (await call(b, 'GET', '/api/auth/me', { token })).status === 401);
  });

  test('an API key revoked or regenerated on one node is refused on the other within about a second', async () => {
    const { token } = await account();
    const created = await call(a, 'POST', '/api/api-keys', { token, body: { name: 'k1' } });
    assert.equal(created.status, 201, created.text);
    const key = created.json.data.key as string;
    assert.equal((await call(b, 'GET', '/api/auth/me', { token: key })).status, 200);
    assert.equal((await call(a, 'DELETE', `/api/api-keys/${created.json.data.id}`, { token })).status, 200);
    await within('the revoked key refused on node B', async () => (await call(b, 'GET', '/api/auth/me', { token: key })).status === 401);

    const second = await call(b, 'POST', '/api/api-keys', { token, body: { name: 'k2' } });
    const old = second.json.data.key as string;
    assert.equal((await call(a, 'GET', '/api/auth/me', { token: old })).status, 200);
    const regenerated = await call(b, 'POST', `/api/api-keys/${second.json.data.id}/regenerate`, { token });
    assert.equal(regenerated.status, 200, regenerated.text);
    await within('the old secret refused on node A', async () => (await call(a, 'GET', '/api/auth/me', { token: old })).status === 401);
    assert.equal((await call(a, 'GET', '/api/auth/me', { token: regenerated.json.data.key })).status, 200);
  });

  test("a suspension on one node refuses the account's tokens and keys on the other at once", async () => {
    const { id, token } = await account();
    const key = (await call(a, 'POST', '/api/api-keys', { token, body: { name: 'k' } })).json.data.key as string;
    for (const credential of [token, key]) assert.equal((await call(b, 'GET', '/api/auth/me', { token: credential })).status, 200);
    const admin = await adminToken(a);
    assert.equal((await call(a, 'POST', `/api/admin/accounts/${id}/suspend`, { token: admin })).status, 200);
    for (const credential of [token, key]) assert.equal((await call(b, 'GET', '/api/auth/me', { token: credential })).status, 403);
    assert.equal((await call(b, 'POST', `/api/admin/accounts/${id}/activate`, { token: admin })).status, 200);
    assert.equal((await call(a, 'GET', '/api/auth/me', { token })).status, 200);
  });

  test("a sub-account suspended on one node has its token refused on the other within about a second", async () => {
    const owner = await account();
    const email = `sub${accounts}-${process.pid}@relais.test`;
    const sub = await call(a, 'POST', '/api/sub-accounts', { token: owner.token, body: { name: 'Sub', email, password: PASSWORD, role: 'viewer' } });
    assert.equal(sub.status, 201, sub.text);
    const login = await call(b, 'POST', '/api/auth/login', { body: { email, password: PASSWORD } });
    assert.equal(login.status, 200, login.text);
    const token = login.json.data.token as string;
    assert.equal((await call(b, 'GET', '/api/auth/me', { token })).status, 200);
    assert.equal((await call(a, 'POST', `/api/sub-accounts/${sub.json.data.id}/suspend`, { token: owner.token })).status, 200);
    await within('the sub-account refused on node B', async () => [401, 403].includes((await call(b, 'GET', '/api/auth/me', { token })).status));
  });

  test('the same Idempotency-Key sent to both nodes at once sends once; both answer with the same result', async () => {
    // Seven sends of the eight the send group allows a minute.
    const { id, token } = await account();
    await fund(a, id, 100_000);
    await approveSender(a, token, 'CLUSTER');
    const balanceBefore = await a.credits.balanceOf(id);
    const recipients = ['+24162100001', '+24162100002'];
    const KEYS = 3;
    for (let i = 0; i < KEYS; i++) {
      const request = { token, headers: { 'idempotency-key': `cluster-${i}` }, body: { recipients, message: `hello ${i}`, sender_id: 'CLUSTER' } };
      const [ra, rb] = await Promise.all([call(a, 'POST', '/api/messages/send', request), call(b, 'POST', '/api/messages/send', request)]);
      assert.equal(ra.status, 200, ra.text);
      assert.equal(rb.status, 200, rb.text);
      assert.deepEqual(ra.json.data.message_ids, rb.json.data.message_ids);
      assert.equal(ra.json.data.message_ids.length, 2);
    }
    const sent = await a.store.db.selectFrom('messages').select('id').where('account_id', '=', id).execute();
    assert.equal(sent.length, KEYS * recipients.length, 'one send per key');
    const balanceAfter = await a.credits.balanceOf(id);
    const costs = await a.store.db.selectFrom('credit_transactions').select('amount').where('account_id', '=', id).where('reason', '=', 'send').execute();
    assert.equal(costs.length, KEYS, 'one debit per key');
    assert.equal(balanceBefore - balanceAfter, -costs.reduce((s, r) => s + r.amount, 0));
    // A different request with a used key is refused on the other node.
    const reused = await call(b, 'POST', '/api/messages/send', { token, headers: { 'idempotency-key': 'cluster-0' }, body: { recipients, message: 'something else', sender_id: 'CLUSTER' } });
    assert.equal(reused.status, 422, reused.text);
  });

  test('a number blacklisted or removed on one node is seen by the other within about a second', async () => {
    const { id, token } = await account();
    const phone = '+24162200001';
    const check = async (node: Gateway) => (await call(node, 'POST', '/api/blacklist/check', { token, body: { phone_number: phone } })).json.is_blacklisted as boolean;
    assert.equal(await check(b), false);
    const added = await call(a, 'POST', '/api/blacklist', { token, body: { phone_number: phone, reason: 'asked' } });
    assert.equal(added.status, 201, added.text);
    await within('node B sees the entry', () => check(b));
    await fund(a, id, 1000);
    await approveSender(a, token, 'BLOCKED');
    const refused = await call(b, 'POST', '/api/messages/send', { token, body: { recipients: [phone, '+24162200002'], message: 'promo', sender_id: 'BLOCKED' } });
    assert.equal(refused.status, 200, refused.text);
    assert.deepEqual(refused.json.data.failures.map((f: { recipient: string }) => f.recipient), [phone]);
    assert.equal((await call(b, 'DELETE', `/api/blacklist/${added.json.data.id}`, { token })).status, 200);
    await within('node A sees the removal', async () => !(await check(a)));
  });

  test('an MO opt-out received by whichever node holds the bind blacklists the number on both', async () => {
    const { token } = await account();
    await waitFor(() => [...a.binds, ...b.binds].some((x) => x.state === 'bound'), 10_000, 'a bound session');
    await sim.injectMo({ from: '24162300001', to: '1234', text: 'STOP' });
    await waitFor(async () => (await a.store.db.selectFrom('blacklist').select('id').where('phone', '=', '+24162300001').execute()).length === 1, 10_000, 'the opt-out stored');
    for (const node of [a, b]) {
      await within('the opt-out seen', async () => {
        const r = await call(node, 'POST', '/api/blacklist/check', { token, body: { phone_number: '+24162300001' } });
        return r.json.is_blacklisted === true && r.json.scope === 'global';
      });
    }
  });

  test('a webhook created, changed or deleted on one node is used by the other within about a second', async () => {
    const { id, token } = await account();
    const hits: { event: string; phone: string }[] = [];
    const server: Server = createServer((req, res) => {
      let raw = '';
      req.on('data', (d) => (raw += d));
      req.on('end', () => {
        const body = JSON.parse(raw);
        hits.push({ event: body.event, phone: body.data?.phone_number });
        res.end('ok');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
    let n = 0;
    /** Blacklists a new number on node B; returns how many deliveries it queued for the account. */
    const eventOnB = async (): Promise<{ phone: string; queued: number }> => {
      const phone = `+2416240${String(++n).padStart(4, '0')}`;
      const r = await call(b, 'POST', '/api/blacklist', { token, body: { phone_number: phone } });
      assert.equal(r.status, 201, r.text);
      const rows = await b.store.db.selectFrom('webhook_deliveries').select('id').where('account_id', '=', id).where('body', 'like', `%${phone}%`).execute();
      return { phone, queued: rows.length };
    };
    try {
      const created = await call(a, 'POST', '/api/webhooks', { token, body: { name: 'hook', url, events: ['blacklist.added'] } });
      assert.equal(created.status, 201, created.text);
      const hook = created.json.data.id as number;
      let phone = '';
      await within('node B emits to the new webhook', async () => {
        const e = await eventOnB();
        phone = e.phone;
        return e.queued === 1;
      });
      await waitFor(() => hits.some((h) => h.event === 'blacklist.added' && h.phone === phone), 10_000, 'the event delivered');

      // No longer subscribed to blacklist.added: node B stops queueing it.
      assert.equal((await call(a, 'PUT', `/api/webhooks/${hook}`, { token, body: { events: ['contact.created'] } })).status, 200);
      await within('node B follows the change', async () => (await eventOnB()).queued === 0);
      // Subscribed again, then deleted.
      assert.equal((await call(a, 'PUT', `/api/webhooks/${hook}`, { token, body: { events: ['blacklist.added'] } })).status, 200);
      await within('node B follows the change back', async () => (await eventOnB()).queued === 1);
      assert.equal((await call(a, 'DELETE', `/api/webhooks/${hook}`, { token })).status, 200);
      await within('node B drops the deleted webhook', async () => (await eventOnB()).queued === 0);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
}
