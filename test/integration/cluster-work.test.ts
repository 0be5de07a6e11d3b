/**
 * Background work with two nodes on one PostgreSQL schema: the webhook outbox delivers each event
 * once (deliveries claimed under a lease), a campaign run is expanded into the queue by one node
 * at a time (every recipient queued once; a pause, resume or cancel made on the other node is
 * honoured), and a recurring schedule's slot fires once (the unique key on (campaign, slot)
 * decides; the loser logs nothing). Then the abrupt stops: a node killed with SIGKILL (a child
 * process) while it holds deliveries or a half-expanded run; the other node finishes them once
 * the lease has run out, and not before.
 * Needs RELAIS_TEST_DATABASE_URL (npm test's PostgreSQL pass sets it).
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createServer as httpServer, type Server } from 'node:http';
import { createServer as netServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import type { SmscSimulator } from '../../src/smpp/simulator/simulator.js';
import { FINAL_STATES } from '../../src/store/tables.js';
import { accountIdOf, call, fund, PASSWORD, registerAndLogin } from '../support/api.js';
import { numbers, startGateway, startSimulator, tempDir, waitFor, type Gateway } from '../support/harness.js';

const URL = process.env.RELAIS_TEST_DATABASE_URL;
const SKIP = URL ? false : 'needs PostgreSQL: set RELAIS_TEST_DATABASE_URL (npm test starts a throw-away cluster when it can)';
/** The default lease while both nodes live; a short one where a node is killed, to take over fast. */
const LEASE_S = 10;
const SHORT_LEASE_S = 2;
const EMAIL = 'marketing@example.com';

/** A webhook receiver counting POSTs per delivery id; `hang` holds requests unanswered. */
async function receiver(delayMs = 0): Promise<{ url: string; posts: Map<string, number>; at: Map<string, number[]>; hang: boolean; waiting: number; close(): Promise<void> }> {
  const r = {
    url: '', posts: new Map<string, number>(), at: new Map<string, number[]>(), hang: false, waiting: 0,
    close: () => new Promise<void>((done) => {
      server.closeAllConnections();
      server.close(() => done());
    }),
  };
  const server: Server = httpServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const id = String(req.headers['x-webhook-delivery']);
      r.posts.set(id, (r.posts.get(id) ?? 0) + 1);
      r.at.set(id, [...(r.at.get(id) ?? []), Date.now()]);
      if (r.hang) {
        r.waiting++;
        return; // never answered: the attempt is under way when its node dies
      }
      setTimeout(() => res.end('ok'), delayMs);
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', () => done()));
  r.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  return r;
}

async function freePort(): Promise<number> {
  const srv = netServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const { port } = srv.address() as AddressInfo;
  await new Promise((r) => srv.close(r));
  return port;
}

/** Log lines at warn and above, parsed. */
function logSink(): { stream: Writable; lines: { level: number; msg: string; part?: string }[] } {
  const lines: { level: number; msg: string; part?: string }[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n')) if (line.trim()) lines.push(JSON.parse(line) as never);
      done();
    },
  });
  return { stream, lines };
}

interface Pair {
  sim: SmscSimulator;
  database: Record<string, unknown>;
  extra: Record<string, unknown>;
  operators: Parameters<typeof startGateway>[0];
  /** A node on the shared schema, in this process. */
  node(id: string, opts?: { clock?: () => number; logTo?: NodeJS.WritableStream }): Promise<Gateway>;
  cleanup(): Promise<void>;
}

/** What two nodes share: one SMSC simulator, one PostgreSQL schema, one configuration. */
async function shared(opts: { tps?: number; webhooks?: Record<string, unknown>; lease?: number } = {}): Promise<Pair> {
  const tmp = tempDir('relais-cluster-work-');
  const sim = await startSimulator({ systemId: 'airtel', password: 'pw', receiptDelayMs: 5 });
  const database = { path: join(tmp.dir, 'unused.db'), url: URL, schema: `t_work_${process.pid}_${randomBytes(4).toString('hex')}`, pool_size: 8 };
  const extra = {
    database,
    auth: { jwt_secret: randomBytes(24).toString('hex') },
    webhooks: { allow_private_networks: true, retry_initial: 0.2, retry_max: 1, ...opts.webhooks },
    rate_limits: { send_per_minute: 100_000, default_per_minute: 100_000, auth_per_minute: 10_000 },
  };
  const operators = [{ name: 'airtel', binds: [{ port: sim.port, tps: opts.tps ?? 1000, window: 50 }] }];
  const nodes: Gateway[] = [];
  return {
    sim, database, extra, operators,
    node: async (id, o = {}) => {
      const gw = await startGateway(operators, { ...extra, cluster: { node_id: id, lease: opts.lease ?? LEASE_S }, ...(o.logTo ? { log: { level: 'warn' } } : {}) }, undefined, o.logTo, o.clock ? { clock: o.clock } : {});
      nodes.push(gw);
      return gw;
    },
    cleanup: async () => {
      await Promise.all(nodes.map((n) => n.cleanup()));
      await sim.stop();
      tmp.cleanup();
    },
  };
}

/** The same configuration as `gw`'s, as node `id` in a child process (so it can be SIGKILLed). */
async function spawnNode(gw: Gateway, id: string): Promise<{ child: ChildProcess; url: string; kill(): Promise<void> }> {
  const port = await freePort();
  const { dir } = tempDir('relais-cluster-work-child-');
  const configPath = join(dir, `${id}.json`);
  writeFileSync(configPath, JSON.stringify({ ...gw.config, http: { ...gw.config.http, port }, cluster: { ...gw.config.cluster, node_id: id }, log: { level: 'error' } }));
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', 'serve', '--config', configPath], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (d: Buffer) => process.stderr.write(`[${id}] ${d}`));
  child.stderr!.on('data', (d: Buffer) => process.stderr.write(`[${id}] ${d}`));
  const url = `http://127.0.0.1:${port}`;
  await waitFor(async () => (await fetch(`${url}/healthz`).catch(() => null))?.ok === true, 60_000, `${id} answers`);
  return {
    child, url,
    kill: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGKILL');
        await exited;
      }
    },
  };
}

async function login(gw: Pick<Gateway, 'url'>): Promise<string> {
  const r = await call(gw, 'POST', '/api/auth/login', { body: { email: EMAIL, password: PASSWORD } });
  assert.equal(r.status, 200, r.text);
  return r.json.data.token as string;
}

/** Messages of a campaign per recipient: any recipient queued twice shows up here. */
async function perRecipient(gw: Gateway, campaignId: number): Promise<{ total: number; distinct: number }> {
  const row = await gw.store.db.selectFrom('messages').where('campaign_id', '=', campaignId)
    .select((eb) => [eb.fn.countAll<number>().as('total'), eb.fn.count<number>('recipient').distinct().as('distinct')]).executeTakeFirstOrThrow();
  return { total: Number(row.total), distinct: Number(row.distinct) };
}

const runOf = (gw: Gateway, campaignId: number) => gw.store.db.selectFrom('campaign_runs').selectAll().where('campaign_id', '=', campaignId).orderBy('id').execute();

test('webhooks: 200 messages sent through two nodes, every event POSTed exactly once, the work shared', { skip: SKIP }, async (t) => {
  // Few slots per node and a receiver that takes its time: the deliveries are spread over both.
  const pair = await shared({ webhooks: { concurrency: 4, per_destination: 4 } });
  const hook = await receiver(15);
  try {
    const a = await pair.node('node-a');
    const token = await registerAndLogin(a, EMAIL, 'Marketing');
    await fund(a, await accountIdOf(a, token), 1_000_000);
    const created = await call(a, 'POST', '/api/webhooks', { token, body: { name: 'events', url: hook.url, events: ['message.sent', 'message.delivered'] } });
    assert.equal(created.status, 201, created.text);
    const b = await pair.node('node-b');
    const ids: number[] = [];
    for (const [i, gw] of [a, b, a, b].entries()) {
      const sent = await call(gw, 'POST', '/api/messages/send', { token, body: { recipients: numbers(50, '+24162', i * 50), message: `batch ${i}` } });
      assert.equal(sent.status, 200, sent.text);
      ids.push(...(sent.json.data.message_ids as number[]));
    }
    assert.equal(ids.length, 200);
    await a.waitFinal(ids, 60_000);
    const delivered = (await a.rows(ids)).filter((r) => r.status === 'delivered').length;
    assert.equal(delivered, 200);
    await waitFor(async () => Number((await a.store.db.selectFrom('webhook_deliveries').select((eb) => eb.fn.countAll<number>().as('n')).where('status', '=', 'success').executeTakeFirstOrThrow()).n) === 400, 60_000, '400 deliveries done');
    const rows = await a.store.db.selectFrom('webhook_deliveries').select(['delivery_id', 'status', 'attempts', 'claimed_by']).execute();
    assert.equal(rows.length, 400, 'message.sent and message.delivered for each of 200 messages');
    await new Promise((r) => setTimeout(r, 500)); // any late duplicate would arrive now
    assert.equal(hook.posts.size, 400);
    const twice = [...hook.posts].filter(([, n]) => n !== 1);
    if (twice.length) {
      const dup = new Set(twice.map(([d]) => d));
      t.diagnostic(JSON.stringify(rows.filter((r) => dup.has(r.delivery_id))));
      t.diagnostic(JSON.stringify(twice.map(([d]) => hook.at.get(d))));
      const logs = await a.store.db.selectFrom('webhook_logs').selectAll().where('delivery_id', 'in', [...dup]).execute();
      t.diagnostic(JSON.stringify(logs));
    }
    assert.deepEqual(twice, [], 'each delivery POSTed exactly once');
    assert.ok(rows.every((r) => r.status === 'success' && r.attempts === 1));
    const byNode = Object.fromEntries(['node-a', 'node-b'].map((n) => [n, rows.filter((r) => r.claimed_by === n).length]));
    t.diagnostic(`deliveries per node: ${JSON.stringify(byNode)}`);
    assert.equal(byNode['node-a']! + byNode['node-b']!, 400);
    assert.ok(byNode['node-a']! > 0 && byNode['node-b']! > 0, `both nodes delivered: ${JSON.stringify(byNode)}`);
  } finally {
    await pair.cleanup();
    await hook.close();
  }
});

test('recurring schedule with two nodes on an injected clock: each slot runs once, the loser logs nothing; a run missed while both were down fires once when both start', { skip: SKIP }, async () => {
  const pair = await shared();
  let now = Date.parse('2026-12-02T07:59:00Z'); // 08:59 in Libreville (UTC+1)
  const clock = () => now;
  const logs = logSink();
  try {
    let [a, b] = [await pair.node('node-a', { clock, logTo: logs.stream }), await pair.node('node-b', { clock, logTo: logs.stream })];
    const token = await registerAndLogin(a, EMAIL, 'Marketing');
    await fund(a, await accountIdOf(a, token), 100_000);
    const created = await call(a, 'POST', '/api/campaigns', { token, body: { name: 'Daily', message_content: 'Bonjour', recipients: ['+24162000001', '+24162000002'] } });
    assert.equal(created.status, 201, created.text);
    const id = created.json.data.id as number;
    const scheduled = await call(b, 'POST', `/api/campaigns/${id}/schedule`, { token, body: { frequency: 'daily', time: '09:00', timezone: 'Africa/Libreville' } });
    assert.equal(scheduled.status, 200, scheduled.text);
    const checkBoth = () => Promise.all([a, b, a, b, a, b].map((n) => n.background.scheduler.check()));
    const slots = async () => (await runOf(a, id)).map((r) => r.slot);
    const status = async () => (await a.store.repos.campaigns.byId(id))!.status;

    await checkBoth();
    assert.deepEqual(await slots(), [], 'not yet 09:00 local');
    now = Date.parse('2026-12-02T08:00:20Z');
    await checkBoth();
    assert.deepEqual(await slots(), [Date.parse('2026-12-02T08:00:00Z')], 'one run for the slot, six checks on two nodes');
    await waitFor(async () => (await status()) === 'scheduled', 20_000, 'the run done');
    now = Date.parse('2026-12-03T08:00:05Z');
    await checkBoth();
    assert.equal((await slots()).length, 2, 'the next day, once');
    await waitFor(async () => (await status()) === 'scheduled', 20_000, 'the second run done');

    // Both down through the 4th at 09:00; both up again at 11:30 local, at the same moment.
    await a.cleanup();
    await b.cleanup();
    now = Date.parse('2026-12-04T10:30:00Z');
    [a, b] = await Promise.all([pair.node('node-a', { clock, logTo: logs.stream }), pair.node('node-b', { clock, logTo: logs.stream })]);
    assert.deepEqual((await slots()).slice(2), [Date.parse('2026-12-04T08:00:00Z')], 'caught up at start, once');
    await checkBoth();
    assert.equal((await slots()).length, 3, 'never twice');
    await waitFor(async () => Number((await a.store.db.selectFrom('messages').select((eb) => eb.fn.countAll<number>().as('n')).where('campaign_id', '=', id).where('status', '=', 'delivered').executeTakeFirstOrThrow()).n) === 6, 20_000, 'three runs of two');
    const loud = logs.lines.filter((l) => l.level >= 50 || /scheduled run|campaign/i.test(l.msg));
    assert.deepEqual(loud, [], 'no node logged an error about the schedule');
  } finally {
    await pair.cleanup();
  }
});

test('a 12 000-recipient campaign expanded while two nodes run: every recipient queued exactly once; pause, resume and cancel made on the other node are honoured', { skip: SKIP }, async (t) => {
  const pair = await shared({ tps: 200 });
  try {
    const [a, b] = [await pair.node('node-a'), await pair.node('node-b')];
    const token = await registerAndLogin(a, EMAIL, 'Marketing');
    const accountId = await accountIdOf(a, token);
    await fund(a, accountId, 10_000_000);
    const N = 12_000;
    const created = await call(a, 'POST', '/api/campaigns', { token, body: { name: 'Big', message_content: 'Promo', recipients: numbers(N) } });
    assert.equal(created.status, 201, created.text);
    const id = created.json.data.id as number;
    // Both runners pass as often as they can while node A starts the run.
    let hammering = true;
    const hammer = (async () => {
      while (hammering) {
        await Promise.all([a.background.runner.tick(), b.background.runner.tick()]);
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    const started = await call(a, 'POST', `/api/campaigns/${id}/send`, { token });
    assert.equal(started.status, 200, started.text);
    // Paused through node B as soon as the first chunk is in (node A holds the run).
    await waitFor(async () => ((await runOf(a, id))[0]?.expanded ?? 0) > 0, 30_000, 'the first chunk');
    const paused = await call(b, 'POST', `/api/campaigns/${id}/pause`, { token });
    assert.equal(paused.status, 200, paused.text);
    const atPause = { run: (await runOf(a, id))[0]!, messages: await perRecipient(a, id) };
    await new Promise((r) => setTimeout(r, 1000));
    const later = { run: (await runOf(a, id))[0]!, messages: await perRecipient(a, id) };
    t.diagnostic(`run at pause: phase ${atPause.run.phase}, ${atPause.run.expanded}/${N} expanded, held by ${atPause.run.claimed_by}`);
    assert.equal(later.run.expanded, atPause.run.expanded, 'no chunk expanded while paused');
    assert.deepEqual(later.messages, atPause.messages, 'no message of it added while paused');
    const resumed = await call(b, 'POST', `/api/campaigns/${id}/resume`, { token });
    assert.equal(resumed.status, 200, resumed.text);
    await waitFor(async () => (await runOf(a, id))[0]!.phase === 'done', 60_000, 'expansion done');
    hammering = false;
    await hammer;
    const counts = await perRecipient(a, id);
    assert.deepEqual(counts, { total: N, distinct: N }, 'every recipient queued exactly once');

    // Cancelled through node B: nothing left waiting, and what was never submitted refunded.
    const cancelled = await call(b, 'POST', `/api/campaigns/${id}/cancel`, { token });
    assert.equal(cancelled.status, 200, cancelled.text);
    await waitFor(async () => (await a.store.repos.campaigns.waiting(id)) === 0, 20_000, 'nothing waiting');
    const charged = await a.store.db.selectFrom('messages').select((eb) => eb.fn.sum<number>('cost').as('cost')).where('campaign_id', '=', id).where('status', '!=', 'cancelled').executeTakeFirstOrThrow();
    assert.equal(await a.credits.balanceOf(accountId), 10_000_000 - Number(charged.cost ?? 0), 'the balance pays exactly for the messages not cancelled');
  } finally {
    await pair.cleanup();
  }
});

test('a node killed with SIGKILL while holding webhook deliveries and a half-expanded campaign run: the other node finishes both after the lease, not before', { skip: SKIP }, async (t) => {
  const pair = await shared({ tps: 200, lease: SHORT_LEASE_S, webhooks: { per_destination: 32 } });
  const hook = await receiver();
  let b: Awaited<ReturnType<typeof spawnNode>> | null = null;
  try {
    const a0 = await pair.node('node-a');
    const token = await registerAndLogin(a0, EMAIL, 'Marketing');
    const accountId = await accountIdOf(a0, token);
    await fund(a0, accountId, 10_000_000);
    // Node A only prepared the database: it is stopped, so node B alone claims the deliveries.
    await a0.cleanup();
    b = await spawnNode(a0, 'node-b');
    const tokenB = await login(b);
    assert.equal((await call(b, 'POST', '/api/webhooks', { token: tokenB, body: { name: 'contacts', url: hook.url, events: ['contact.created'] } })).status, 201);
    hook.hang = true;
    for (let i = 0; i < 20; i++) assert.equal((await call(b, 'POST', '/api/contacts', { token: tokenB, body: { name: `C${i}`, phone: numbers(1, '+24162', 500 + i)[0] } })).status, 201);
    await waitFor(() => hook.waiting === 20, 20_000, 'node B attempting all 20 deliveries');

    // And a campaign node B expands: it is killed after its first chunk.
    const N = 25_000;
    const created = await call(b, 'POST', '/api/campaigns', { token: tokenB, body: { name: 'Huge', message_content: 'Promo', recipients: numbers(N) } });
    assert.equal(created.status, 201, created.text);
    const id = created.json.data.id as number;
    // The other node: a full node, whose runner must not take the run while node B holds it.
    const watcher = await pair.node('node-watch-only');
    const started = fetch(`${b.url}/api/campaigns/${id}/send`, { method: 'POST', headers: { authorization: `Bearer ${tokenB}`, 'content-type': 'application/json' }, body: '{}' }).catch(() => null);
    await waitFor(async () => ((await runOf(watcher, id))[0]?.expanded ?? 0) > 0, 120_000, 'node B expanding');
    await b.kill();
    const killedAt = Date.now();
    hook.hang = false;
    await started;
    const atKill = (await runOf(watcher, id))[0]!;
    t.diagnostic(`node B killed with ${atKill.expanded}/${N} expanded (run held by ${atKill.claimed_by} until ${atKill.lease_until! - killedAt} ms after the kill)`);
    assert.equal(atKill.claimed_by, 'node-b');
    assert.ok(atKill.phase === 'expanding' && atKill.expanded < N, 'killed mid-expansion');
    const claims = await watcher.store.db.selectFrom('webhook_deliveries').select(['delivery_id', 'claimed_by', 'lease_until']).execute();
    assert.equal(claims.length, 20);
    assert.ok(claims.every((c) => c.claimed_by === 'node-b' && c.lease_until! > killedAt - 100), 'node B held every delivery');
    const leaseEnd = Math.min(...claims.map((c) => c.lease_until!));

    // The other node finishes both, and nothing twice in the queue.
    await waitFor(async () => (await runOf(watcher, id))[0]!.phase === 'done', 60_000, 'the run finished by the other node');
    const run = (await runOf(watcher, id))[0]!;
    assert.equal(run.claimed_by, 'node-watch-only', 'taken over');
    assert.deepEqual(await perRecipient(watcher, id), { total: N, distinct: N }, 'every recipient queued exactly once');
    await waitFor(async () => (await watcher.store.db.selectFrom('webhook_deliveries').select('status').where('status', '=', 'success').execute()).length === 20, 20_000, 'the deliveries done');
    const done = await watcher.store.db.selectFrom('webhook_deliveries').select(['delivery_id', 'claimed_by', 'attempts']).execute();
    assert.ok(done.every((d) => d.claimed_by === 'node-watch-only' && d.attempts === 1), 'delivered by the other node; the cut attempt was never recorded');
    for (const d of done) {
      const times = hook.at.get(d.delivery_id)!;
      assert.equal(times.length, 2, 'POSTed by node B (cut by the kill), then once by the other node');
      assert.ok(times[1]! >= leaseEnd - 5, `not taken before node B's lease ran out (${times[1]! - leaseEnd} ms)`);
    }
    t.diagnostic(`deliveries retried ${Math.min(...done.map((d) => hook.at.get(d.delivery_id)![1]!)) - killedAt} ms after the kill; run taken over, ${N - atKill.expanded} recipients expanded by the other node`);
  } finally {
    await b?.kill();
    await pair.cleanup();
    await hook.close();
  }
});
