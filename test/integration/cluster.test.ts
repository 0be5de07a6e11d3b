/**
 * Two nodes on one PostgreSQL database: node A in this process, node B a child process (so it
 * can be killed with SIGKILL), the same configuration, one operator with two binds, each to its
 * own SMSC simulator (what a simulator received survives every kill). Asserted: each bind held
 * by one node at a time (never two sessions at one SMSC), the traffic carried by both nodes, no
 * message submitted twice and no bind over its TPS; then node B killed mid-run: node A takes
 * its bind over within seconds and finishes every message, duplicates within one window.
 * Needs RELAIS_TEST_DATABASE_URL (npm test's PostgreSQL pass sets it).
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import type { SmscSimulator } from '../../src/smpp/simulator/simulator.js';
import { FINAL_STATES } from '../../src/store/tables.js';
import { accountIdOf, call, fund, registerAndLogin } from '../support/api.js';
import { numbers, startGateway, startSimulator, tempDir, waitFor, type Gateway } from '../support/harness.js';

const URL = process.env.RELAIS_TEST_DATABASE_URL;
const SKIP = URL ? false : 'needs PostgreSQL: set RELAIS_TEST_DATABASE_URL (npm test starts a throw-away cluster when it can)';
const LEASE_S = 2;
const TPS = 100;
const WINDOW = 10;

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const { port } = srv.address() as { port: number };
  await new Promise((r) => srv.close(r));
  return port;
}

const exited = (child: ChildProcess) => new Promise<void>((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve())));

interface Cluster {
  a: Gateway;
  b: ChildProcess;
  bUrl: string;
  sims: SmscSimulator[];
  /** The most sessions each simulator had bound at once, sampled every 10 ms. */
  maxSessions: number[];
  close(): Promise<void>;
}

async function startCluster(): Promise<Cluster> {
  const tmp = tempDir('relais-cluster-');
  const sims = [await startSimulator({ systemId: 'airtel', password: 'pw', respDelayMs: 2 }), await startSimulator({ systemId: 'airtel', password: 'pw', respDelayMs: 2 })];
  const maxSessions = sims.map(() => 0);
  const sampler = setInterval(() => sims.forEach((s, i) => (maxSessions[i] = Math.max(maxSessions[i]!, s.boundSessions()))), 10);
  const database = { path: join(tmp.dir, 'unused.db'), url: URL, schema: `t_cluster_${process.pid}_${randomBytes(4).toString('hex')}`, pool_size: 8 };
  const extra = { database, rate_limits: { send_per_minute: 100_000, default_per_minute: 100_000 } };
  const operators = [{ name: 'airtel', binds: sims.map((s) => ({ port: s.port, tps: TPS, window: WINDOW })) }];
  const a = await startGateway(operators, { ...extra, cluster: { node_id: 'node-a', lease: LEASE_S } });
  // Node B: the same configuration, as a file, in its own process.
  const bPort = await freePort();
  const configPath = join(tmp.dir, 'node-b.json');
  writeFileSync(configPath, JSON.stringify({ ...a.config, http: { ...a.config.http, port: bPort }, cluster: { node_id: 'node-b', lease: LEASE_S }, log: { level: 'warn' } }));
  const b = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', 'serve', '--config', configPath], { stdio: ['ignore', 'inherit', 'pipe'] });
  b.stderr!.on('data', (d: Buffer) => process.stderr.write(`[node-b] ${d}`));
  const bUrl = `http://127.0.0.1:${bPort}`;
  await waitFor(async () => (await fetch(`${bUrl}/healthz`).catch(() => null))?.ok === true, 60_000, 'node B answers');
  return {
    a, b, bUrl, sims, maxSessions,
    close: async () => {
      clearInterval(sampler);
      if (b.exitCode === null && b.signalCode === null) b.kill('SIGKILL');
      await exited(b);
      await a.cleanup();
      await Promise.all(sims.map((s) => s.stop()));
      tmp.cleanup();
    },
  };
}

/** Recipients each simulator accepted, how many times. */
function acceptedAt(sims: readonly SmscSimulator[]): Map<string, number> {
  const seen = new Map<string, number>();
  for (const s of sims) for (const r of s.received) if (r.status === 0) seen.set(r.destination, (seen.get(r.destination) ?? 0) + 1);
  return seen;
}

async function unfinished(gw: Gateway): Promise<number> {
  const row = await gw.store.db.selectFrom('messages').select((eb) => eb.fn.countAll<number>().as('n')).where('status', 'not in', [...FINAL_STATES]).executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Sends `to` in requests of 100 recipients through the node at `url`. */
async function sendAll(url: string, token: string, to: string[]): Promise<void> {
  for (let i = 0; i < to.length; i += 100) {
    const res = await call({ url }, 'POST', '/api/messages/send', { token, body: { recipients: to.slice(i, i + 100), message: 'cluster run' } });
    assert.equal(res.status, 200, res.text);
  }
}

test('two nodes on one PostgreSQL: each bind held by one node, both carry the traffic, nothing sent twice, no bind over its TPS; a node killed with SIGKILL has its bind and its messages taken over', { skip: SKIP, timeout: 180_000 }, async () => {
  const c = await startCluster();
  try {
    const { a, sims } = c;
    // Each node takes its fair share: one bind each, one session per SMSC.
    await waitFor(() => sims.every((s) => s.boundSessions() === 1) && a.binds.filter((b) => b.state === 'bound').length === 1, 20_000, 'one bind bound on each node');

    const token = await registerAndLogin(a, 'cluster@example.com');
    await fund(a, await accountIdOf(a, token), 10_000_000);
    // The token (signed with the secret kept in the shared database) works on node B too.
    const first = numbers(600, '+24162', 0);
    await Promise.all([sendAll(a.url, token, first.slice(0, 300)), sendAll(c.bUrl, token, first.slice(300))]);
    await waitFor(async () => (await unfinished(a)) === 0, 60_000, 'the first 600 messages final').catch(async (err: unknown) => {
      console.log('# cluster: not final:', JSON.stringify(await a.store.db.selectFrom('messages').select(['status', 'claimed_by', (eb) => eb.fn.countAll<number>().as('n')]).groupBy(['status', 'claimed_by']).execute()), JSON.stringify(await a.store.db.selectFrom('bind_leases').selectAll().execute()));
      throw err;
    });
    const states = await a.store.db.selectFrom('messages').select(['status', 'claimed_by']).execute();
    assert.equal(states.filter((m) => m.status === 'delivered').length, 600);
    const byNode = new Set(states.map((m) => m.claimed_by));
    assert.deepEqual([...byNode].sort(), ['node-a', 'node-b'], 'both nodes claimed and sent messages');
    console.log(`# cluster: phase 1 sessions at most ${c.maxSessions.join('/')}, submits in one second at most ${sims.map((s) => s.stats.maxSubmitsInOneSecond).join('/')}, sessions ${sims.map((s) => s.stats.sessions).join('/')}`);
    const seen = acceptedAt(sims);
    assert.equal(seen.size, 600, 'every message reached an SMSC');
    assert.equal([...seen.values()].filter((n) => n > 1).length, 0, 'no message submitted twice');
    assert.ok(sims.every((s) => s.received.length > 0), 'both binds carried traffic');
    for (const s of sims) assert.ok(s.stats.maxSubmitsInOneSecond <= TPS * 1.1, `a bind stayed within its TPS (${s.stats.maxSubmitsInOneSecond} in one second, TPS ${TPS})`);
    assert.deepEqual(c.maxSessions, [1, 1], 'never two sessions of one bind at once');

    // Node B is killed mid-run: node A takes over its bind and finishes everything.
    const second = numbers(2000, '+24162', 1000);
    const sending = sendAll(a.url, token, second);
    const bSim = sims.findIndex((s) => s.boundSessions() === 1 && !a.binds.some((b) => b.state === 'bound' && b.cfg.port === s.port));
    assert.ok(bSim >= 0, "node B's SMSC is known");
    await waitFor(() => sims[bSim]!.received.length > 150, 30_000, "node B's bind sending");
    c.b.kill('SIGKILL');
    const killedAt = Date.now();
    await exited(c.b);
    await waitFor(() => a.binds.every((b) => b.state === 'bound'), 20_000, 'node A holds both binds');
    const takeoverMs = Date.now() - killedAt;
    await sending;
    await waitFor(async () => (await unfinished(a)) === 0, 90_000, 'every message final after the kill');
    const after = acceptedAt(sims);
    const delivered = await a.store.db.selectFrom('messages').select((eb) => eb.fn.countAll<number>().as('n')).where('status', '=', 'delivered').executeTakeFirstOrThrow();
    assert.equal(Number(delivered.n), 2600, 'every message delivered');
    assert.equal(after.size, 2600, 'every message reached an SMSC');
    const duplicates = [...after.values()].filter((n) => n > 1).length;
    console.log(`# cluster: takeover ${takeoverMs} ms after SIGKILL (lease ${LEASE_S} s); ${duplicates} message(s) submitted twice (window ${WINDOW})`);
    assert.ok(takeoverMs < LEASE_S * 1000 + 5000, `bind taken over within seconds (${takeoverMs} ms)`);
    assert.ok(duplicates <= WINDOW, `duplicates within one window of the killed node's bind (${duplicates})`);
    assert.ok(c.maxSessions.every((n) => n <= 1), 'never two sessions of one bind at once, kill included');
  } finally {
    await c.close();
  }
});
