/**
 * kill -9 at random moments of a 20 000-message run, five times: twice while the messages are
 * being accepted over HTTP, three times while they are being sent; restarted each time on the
 * same database, then left to finish. The daemon is a child process; the SMSC simulator lives
 * in the test, so what it received survives every kill.
 * Asserted: 0 lost (every message accepted once, delivered, and at the SMSC), every duplicate at
 * the SMSC explained by a kill and counted by the gateway at its restart, at most one window
 * per bind per kill, and the accounting check.
 * RELAIS_FAULT_SEED picks the moments (printed); RELAIS_FAULT_KILL_MESSAGES the size (20 000).
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { openStore } from '../../src/store/db.js';
import { accountIdOf, fund, registerAndLogin } from '../support/api.js';
import { numbers, startGateway, startSimulator, tempDir, waitFor } from '../support/harness.js';
import { accountingHolds } from './accounting.js';
import { pause, prng, SEED, WINDOW } from './support.js';

const REQUESTED = Number(process.env.RELAIS_FAULT_KILL_MESSAGES ?? 20_000);
/** Recipients per send request: at most 500, and at least 40 requests. */
const BATCH = Math.min(500, Math.max(1, Math.floor(REQUESTED / 40)));
const MESSAGES = BATCH * Math.floor(REQUESTED / BATCH);
const BINDS = 2;
const TPS = 600;

/**
 * The bound. What a kill duplicates is the window (sent, unanswered) plus what was answered and
 * not yet committed by the ledger; behind the accept transactions the ledger's flush waits its
 * turn for the connection, and kills while accepting used to leave 2 windows per bind (40 with 2
 * binds of window 10). A part's window slot is now held until its outcome is committed
 * (SmppLink.submit's `written`), so a kill duplicates at most one window per bind.
 */

interface Kill {
  phase: 'accepting' | 'sending';
  at: number;
  accepted: number;
  atSmsc: number;
  inFlightRequests: number;
  /** Rows left `submitting` by the kill, and how many of them the SMSC had already accepted (duplicated at the restart). */
  submitting: number;
  duplicated: number;
  /** The restarted daemon's own count of them (relais_possible_duplicates_total{cause="restart"}). */
  counted: number;
  restartMs: number;
}

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const { port } = srv.address() as { port: number };
  await new Promise((r) => srv.close(r));
  return port;
}

const exited = (child: ChildProcess) => new Promise<number | null>((resolve) => (child.exitCode !== null ? resolve(child.exitCode) : child.once('exit', (code) => resolve(code))));

test(`kill -9 five times at random moments of a ${MESSAGES}-message run (accepting, then sending): nothing lost, every duplicate explained by a kill and counted`, async (t) => {
  const random = prng(SEED);
  console.log(`# sigkill: seed ${SEED} (RELAIS_FAULT_SEED), ${MESSAGES} messages (RELAIS_FAULT_KILL_MESSAGES), ${BINDS} binds x ${TPS} TPS, window ${WINDOW}`);
  const tmp = tempDir();
  const dbPath = join(tmp.dir, 'relais.db');
  const sim = await startSimulator({ systemId: 'airtel', password: 'pw', respDelayMs: 2 });
  const httpPort = await freePort();
  const base = `http://127.0.0.1:${httpPort}`;
  const configPath = join(tmp.dir, 'relais.yaml');
  const bind = `{ host: 127.0.0.1, port: ${sim.port}, system_id: airtel, password: pw, tps: ${TPS}, window: ${WINDOW}, response_timeout: 5, enquire_link_interval: 5, reconnect: { initial: 0.1, max: 0.5 } }`;
  writeFileSync(configPath, [
    `http: { host: 127.0.0.1, port: ${httpPort} }`,
    `database: { path: ${dbPath} }`,
    'numbering: { country_code: "241" }',
    'log: { level: warn }',
    'rate_limits: { send_per_minute: 100000, default_per_minute: 100000 }',
    `operators: [{ name: airtel, binds: [${Array(BINDS).fill(bind).join(', ')}] }]`,
    'routes: [{ prefix: "+24162", operator: airtel }]',
    'dispatcher: { poll_interval_ms: 10, retry_initial: 0.1, retry_max: 0.5, shutdown_grace: 5 }',
  ].join('\n'));

  // The account, prepared by an in-process daemon on the same file.
  const setup = await startGateway([{ name: 'airtel', binds: [{ port: sim.port }] }], {}, dbPath);
  const token = await registerAndLogin(setup, 'kill@example.com');
  const accountId = await accountIdOf(setup, token);
  await fund(setup, accountId, 10 * MESSAGES * 20);
  await setup.cleanup();
  const sessionsBefore = sim.stats.sessions;

  const store = openStore(dbPath);
  const serve = () => {
    const c = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', 'serve', '--config', configPath], { stdio: ['ignore', 'ignore', 'pipe'] });
    c.stderr!.on('data', (d: Buffer) => process.stderr.write(d));
    return c;
  };
  /** relais_possible_duplicates_total of the running daemon, summed over the series whose labels include `label`. */
  const possibleDuplicates = async (label = '') => {
    const text = await (await fetch(`${base}/metrics`)).text();
    return [...text.matchAll(/^relais_possible_duplicates_total\{([^}]*)\} (\d+)/gm)].filter((m) => m[1]!.includes(label)).reduce((n, m) => n + Number(m[2]), 0);
  };
  const restarted = async () => {
    await waitFor(async () => (await fetch(`${base}/readyz`).catch(() => null))?.status === 200, 30_000, 'daemon ready');
  };

  // What the SMSC accepted, by destination, followed as it arrives.
  const atSmsc = new Set<string>();
  let cursor = 0;
  const follow = () => {
    for (; cursor < sim.received.length; cursor++) if (sim.received[cursor]!.status === 0) atSmsc.add(sim.received[cursor]!.destination);
    return atSmsc.size;
  };

  const started = Date.now();
  let child = serve();
  const kills: Kill[] = [];
  try {
    await restarted();

    // The loader: two clients sending batches of 500 in order, each retried with its Idempotency-Key until answered.
    const accepted: number[][] = [];
    let nextBatch = 0;
    let inFlight = 0;
    let acceptedCount = 0;
    const client = async () => {
      for (let i = nextBatch++; i < MESSAGES / BATCH; i = nextBatch++) {
        for (;;) {
          inFlight++;
          const res = await fetch(`${base}/api/messages/send`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, 'idempotency-key': `kill-${SEED}-${i}` },
            body: JSON.stringify({ recipients: numbers(BATCH, '+24162', i * BATCH), message: `kill -9 test, batch ${i}` }),
          }).catch(() => null).finally(() => inFlight--);
          if (res?.status === 200) {
            const ids = ((await res.json()) as { data: { message_ids: number[] } }).data.message_ids;
            assert.equal(ids.length, BATCH);
            accepted[i] = ids;
            acceptedCount += ids.length;
            break;
          }
          if (res && res.status !== 503 && res.status < 500) assert.fail(`batch ${i}: ${res.status} ${await res.text()}`);
          await pause(50); // the daemon is down or restarting
        }
      }
    };
    const loading = Promise.all([client(), client()]);
    let accepting = true;
    void loading.finally(() => (accepting = false));

    const kill = async (phase: Kill['phase'], until: () => boolean) => {
      while (!until()) await pause(5);
      await pause(Math.floor(random() * 40));
      const at = Date.now() - started;
      const state = { accepted: acceptedCount, inFlightRequests: inFlight, atSmsc: follow() };
      child.kill('SIGKILL');
      await exited(child);
      // Everything the process wrote before it died has reached the SMSC once it saw the links close.
      await waitFor(() => sim.boundSessions() === 0, 5000, 'the SMSC sees the links close');
      // What the kill left mid-submit; those the SMSC had taken already are sent again after the restart.
      const left = await store.db.selectFrom('messages').select('recipient').where('status', '=', 'submitting').execute();
      const before = new Set(sim.received.filter((r) => r.status === 0).map((r) => r.destination));
      const duplicated = left.filter((r) => before.has(r.recipient.slice(1))).length;
      const t = Date.now();
      child = serve();
      await restarted();
      const restartMs = Date.now() - t;
      const counted = await possibleDuplicates('cause="restart"');
      kills.push({ phase, at, ...state, submitting: left.length, duplicated, counted, restartMs });
      console.log(`# sigkill: kill ${kills.length} ${JSON.stringify(kills.at(-1))}`);
    };

    // Two kills while accepting, at random points of the accepted count.
    const acceptAt = [0.15 + 0.3 * random(), 0.55 + 0.3 * random()];
    for (const f of acceptAt) await kill('accepting', () => acceptedCount >= f * MESSAGES || !accepting);
    await loading;
    assert.ok(kills.every((k) => k.phase === 'accepting' && k.accepted < MESSAGES), 'both kills landed while accepting');
    // Three while sending, at random points of what is left to reach the SMSC.
    const sentAtAccepted = follow();
    const sendAt = [random(), random(), random()].sort().map((u) => sentAtAccepted + (MESSAGES - sentAtAccepted) * (0.1 + 0.8 * u));
    for (const n of sendAt) await kill('sending', () => follow() >= n);
    assert.ok(kills.slice(2).every((k) => k.atSmsc < MESSAGES), 'the last kills landed while sending');

    await waitFor(async () => {
      const n = await store.db.selectFrom('messages').select((eb) => eb.fn.countAll<number>().as('n')).where('status', '=', 'delivered').executeTakeFirst();
      return Number(n?.n) === MESSAGES;
    }, 180_000, 'every message delivered');
    const finalDuplicates = await possibleDuplicates();
    child.kill('SIGTERM');
    assert.equal(await exited(child), 0, 'clean exit on SIGTERM');
    const elapsed = Date.now() - started;

    // 0 lost: each batch accepted once (idempotency), every message delivered and at the SMSC.
    const ids = accepted.flat();
    assert.equal(new Set(ids).size, MESSAGES);
    assert.equal(follow(), MESSAGES, 'every message reached the SMSC');
    const total = await store.db.selectFrom('messages').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirst();
    assert.equal(Number(total?.n), MESSAGES, 'nothing accepted twice');

    // Duplicates: each explained by a kill, counted by the restarted daemon, at most a window per bind per kill.
    const accepts = sim.received.filter((r) => r.status === 0).length;
    const duplicates = accepts - MESSAGES;
    for (const k of kills) assert.equal(k.counted, k.submitting, 'the restart counts what the kill left mid-submit as possible duplicates');
    assert.equal(duplicates, kills.reduce((n, k) => n + k.duplicated, 0), 'every duplicate at the SMSC comes from a kill');
    await t.test('at most one window of duplicates per bind per kill', () => {
      for (const k of kills) assert.ok(k.duplicated <= BINDS * WINDOW, `${k.duplicated} duplicates from one kill (${k.phase}), more than one window per bind (${BINDS} x ${WINDOW})`);
    });
    // Bind attempts: two per start, no storm.
    const sessions = sim.stats.sessions - sessionsBefore;
    assert.ok(sessions <= BINDS * (kills.length + 1) + 2, `${sessions} sessions for ${kills.length + 1} starts of ${BINDS} binds`);
    console.log(`# sigkill: ${MESSAGES} delivered in ${elapsed} ms, ${duplicates} duplicates (${kills.map((k) => k.duplicated).join('+')}), ${sessions} SMSC sessions`);

    // The accounting check, on an in-process daemon opened on the same database.
    await store.close();
    const gw = await startGateway([{ name: 'airtel', binds: [{ port: sim.port }, { port: sim.port }] }], {}, dbPath);
    try {
      await waitFor(() => gw.binds.every((b) => b.state === 'bound'), 5000, 'bound');
      await accountingHolds(gw, { smscs: [sim], accepted: ids, ready: true, possibleDuplicates: kills.reduce((n, k) => n + k.counted, 0) + finalDuplicates - kills.at(-1)!.counted });
    } finally {
      await gw.cleanup();
    }
  } finally {
    if (child.exitCode === null) {
      child.kill('SIGKILL');
      await exited(child);
    }
    await store.close().catch(() => undefined);
    await sim.stop();
    tmp.cleanup();
  }
});
