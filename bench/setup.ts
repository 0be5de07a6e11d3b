/**
 * A scenario's processes and what it holds: the simulator, the daemon (its own process, a fresh
 * database — a SQLite file in a temp directory, or a fresh schema of the PostgreSQL database
 * --database-url names —, a port picked at run time), brought up until every bind is bound;
 * and everything released again, in order after a run or an error, at once on a second Ctrl-C.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Pool } from 'undici';
import type { z } from 'zod';
import type { configSchema } from '../src/config/schema.js';
import type { SimulatorOptions } from '../src/smpp/simulator/simulator.js';
import { postgresDatabase, sqliteDatabase, type Reader, type ScenarioDatabase } from './database.js';
import { call, callOk } from './http.js';
import type { Options } from './options.js';
import { freePort, spawnDaemon, spawnSimulator, type DaemonProcess, type SimulatorProcess } from './processes.js';

/** What the daemon child is given: the admin account it creates on its fresh database. */
const ADMIN = { email: 'bench@example.com', password: 'benchpass123' };

/** Levels at which the daemon's whole output is copied to stderr; otherwise errors only. */
const VERBOSE_LEVELS = ['info', 'debug', 'trace'];

// ---- what the current scenario holds, and Ctrl-C -------------------------------------------

/** What a scenario holds right now, so Ctrl-C can release it. */
const active: {
  daemon: DaemonProcess | null; sim: SimulatorProcess | null; dir: string | null; reader: Reader | null; pools: Pool[];
  /** Dropped once the daemon stopped (PostgreSQL: the scenario's schema). */
  database: ScenarioDatabase | null;
} = { daemon: null, sim: null, dir: null, reader: null, pools: [], database: null };
let interrupted = false;

export class Interrupted extends Error {
  constructor() {
    super('interrupted');
  }
}

export function isInterrupted(): boolean {
  return interrupted;
}

export function checkInterrupted(): void {
  if (interrupted) throw new Interrupted();
}

/** SIGINT/SIGTERM stop the current scenario (twice: at once); no child outlives this process. */
export function handleSignals(): void {
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('exit', killChildren);
}

/** Last resort: no child outlives the benchmark, whatever way it ends. */
function killChildren(): void {
  if (active.daemon && !active.daemon.hasExited()) active.daemon.child.kill('SIGKILL');
  active.sim?.child.kill('SIGKILL');
  // A PostgreSQL reader's socket and schema go with the process (the schema stays: bench_*).
  active.reader?.close().catch(() => undefined);
  if (active.dir) rmSync(active.dir, { recursive: true, force: true });
}

function onSignal(signal: NodeJS.Signals): void {
  if (interrupted) {
    // Second Ctrl-C: do not wait for the orderly stop.
    process.stderr.write(`\n${signal} again: exiting now\n`);
    killChildren();
    process.exit(130);
  }
  interrupted = true;
  process.stderr.write(`\n${signal}: stopping the current scenario (again to force)\n`);
  // The orderly path (the scenario's finally) normally finishes well within this.
  setTimeout(() => {
    process.stderr.write('cleanup took too long: exiting\n');
    killChildren();
    process.exit(130);
  }, 20_000).unref();
}

/** An HTTP pool to the daemon, destroyed with the scenario if it is not closed before. */
export function openPool(base: string, options: Pool.Options): Pool {
  const pool = new Pool(base, options);
  active.pools.push(pool);
  return pool;
}

export async function closePool(pool: Pool): Promise<void> {
  active.pools.splice(active.pools.indexOf(pool), 1);
  await pool.close();
}

/** A read-only connection to the daemon's database (SQLite in WAL: it reads while the daemon writes). */
export async function openReader(database: ScenarioDatabase): Promise<Reader> {
  const reader = await database.openReader();
  active.reader = reader;
  return reader;
}

export async function closeReader(reader: Reader): Promise<void> {
  active.reader = null;
  await reader.close();
}

// ---- bringing a scenario's stack up --------------------------------------------------------

/** What startStack leaves running (each also registered in `active`, for Ctrl-C). */
export interface Stack {
  /** null when the scenario runs with the SMSC down (`smsc: null`). */
  sim: SimulatorProcess | null;
  daemon: DaemonProcess;
  database: ScenarioDatabase;
  base: string;
  /** Small pool for the control calls (login, counters, /metrics). */
  admin: Pool;
  /** The admin's login token. */
  token: string;
  /** An API key of the admin account (what integrators use). */
  apiKey: string;
}

/** The binds of the one operator `bench`: how many, and each one's `tps` and `window`. */
export interface BindSetup {
  count: number;
  tps: number;
  window: number;
}

/** What the SMSC simulator does: receipts (and after how long) and its faults. */
export type SmscSetup = Pick<SimulatorOptions, 'receipts' | 'receiptDelayMs' | 'faults'>;

export interface StackSetup {
  /** The operator asks for delivery receipts (`registered_delivery`). */
  receipts: boolean;
  /** null: no SMSC at all, the binds point at a port where nothing listens (they never bind). */
  smsc: SmscSetup | null;
  binds: BindSetup;
  /** Credited to the admin account before the run. */
  credits: number;
  /** `webhooks.allow_private_networks`: the benchmark's own receiver listens on 127.0.0.1. */
  loopbackWebhooks?: boolean;
}

/** The binds of the flags --binds, --tps, --window (the message scenarios' default). */
export function flagBinds(opts: Options): BindSetup {
  return { count: opts.binds, tps: opts.tps, window: opts.window };
}

/**
 * Steps 1–3 of every scenario: simulator, daemon (its own process, fresh database in a temp
 * directory, port picked here), ready, login, credits, API key, every bind bound. With the SMSC
 * down: no simulator, the daemon is only waited for until it is live (/healthz) and its binds are
 * not waited for.
 */
export async function startStack(name: string, opts: Options, s: StackSetup): Promise<Stack> {
  const sim = s.smsc ? await spawnSimulator({ host: '127.0.0.1', port: 0, systemId: 'bench', password: 'bench', ...s.smsc }) : null;
  active.sim = sim;
  const dir = mkdtempSync(join(os.tmpdir(), `relais-bench-${name}-`));
  active.dir = dir;
  checkInterrupted();

  // -- the daemon, in its own process, on a port picked here (never a fixed one)
  const port = await freePort('127.0.0.1');
  // Nothing listens there: a port that was free a moment ago and that nobody takes.
  const smsc = sim ?? { host: '127.0.0.1', port: await freePort('127.0.0.1') };
  const dbPath = join(dir, 'bench.db');
  const database = opts.databaseUrl ? postgresDatabase(opts.databaseUrl, name, dbPath) : sqliteDatabase(dbPath);
  active.database = database;
  const configPath = join(dir, 'relais.json');
  writeFileSync(configPath, `${JSON.stringify(daemonConfig(opts, s, smsc, port, database), null, 2)}\n`);
  const daemon = spawnDaemon(configPath, {
    verbose: VERBOSE_LEVELS.includes(opts.logLevel),
    env: { RELAIS_ADMIN_EMAIL: ADMIN.email, RELAIS_ADMIN_PASSWORD: ADMIN.password },
    // Written when the daemon exits after SIGTERM (not if it had to be killed).
    nodeFlags: opts.cpuProfDir ? ['--cpu-prof', '--cpu-prof-dir', opts.cpuProfDir, '--cpu-prof-name', `daemon-${name}-${Date.now()}.cpuprofile`] : [],
  });
  active.daemon = daemon;
  const base = `http://127.0.0.1:${port}`;
  const admin = openPool(base, { connections: 2 });

  // /readyz wants a bound bind: with the SMSC down, only that the process serves.
  await waitReady(admin, daemon, sim ? '/readyz' : '/healthz', 20_000);
  const { token, apiKey } = await prepareAccount(admin, s.credits);
  if (sim) await waitBound(admin, token, daemon, 15_000);
  checkInterrupted();
  return { sim, daemon, database, base, admin, token, apiKey };
}

/** One operator whose binds go to the SMSC; rate limits lifted out of the way. */
function daemonConfig(opts: Options, s: StackSetup, smsc: { host: string; port: number }, port: number, database: ScenarioDatabase): z.input<typeof configSchema> {
  return {
    http: { host: '127.0.0.1', port },
    database: database.config,
    numbering: { country_code: '241' },
    operators: [{
      name: 'bench',
      registered_delivery: s.receipts,
      binds: Array.from({ length: s.binds.count }, (_, i) => ({
        name: `bench-${i + 1}`, host: smsc.host, port: smsc.port, system_id: 'bench', password: 'bench',
        mode: 'transceiver' as const, tps: s.binds.tps, window: s.binds.window,
      })),
    }],
    routes: [{ prefix: '+24162', operator: 'bench' }],
    dispatcher: { poll_interval_ms: 20, batch_size: 1000, max_attempts: 50, retry_initial: 1 },
    log: { level: opts.logLevel as 'warn' },
    rate_limits: { send_per_minute: 100_000_000, default_per_minute: 100_000_000, auth_per_minute: 1000 },
    ...(s.loopbackWebhooks ? { webhooks: { allow_private_networks: true } } : {}),
  };
}

/** The admin logs in, credits its own account, and creates the API key the scenario sends with. */
async function prepareAccount(admin: Pool, credits: number): Promise<{ token: string; apiKey: string }> {
  const login = await callOk(admin, 'POST', '/api/auth/login', undefined, ADMIN);
  const token = login?.data?.token as string;
  if (typeof token !== 'string') throw new Error(`login answered no token: ${JSON.stringify(login).slice(0, 300)}`);
  const me = await callOk(admin, 'GET', '/api/auth/me', token);
  await callOk(admin, 'POST', `/api/admin/accounts/${me.data.id}/credits`, token, { amount: credits });
  const created = await callOk(admin, 'POST', '/api/api-keys', token, { name: 'bench' });
  const apiKey = created?.data?.key as string;
  if (typeof apiKey !== 'string') throw new Error(`POST /api/api-keys answered no key: ${JSON.stringify(created).slice(0, 300)}`);
  return { token, apiKey };
}

/** GET `path` until 200 (/readyz: the database is open and a bind is bound), bounded. */
async function waitReady(pool: Pool, daemon: DaemonProcess, path: '/readyz' | '/healthz', timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  for (;;) {
    if (daemon.hasExited()) throw new Error(`the daemon exited before it was ready\n${daemon.outputTail()}`);
    try {
      const r = await call(pool, 'GET', path);
      if (r.status === 200) return;
      last = `HTTP ${r.status} ${r.text.slice(0, 200)}`;
    } catch (err) {
      last = (err as Error).message;
    }
    if (Date.now() > deadline) throw new Error(`GET ${path} not 200 after ${timeoutMs} ms (${last})\n${daemon.outputTail()}`);
    checkInterrupted();
    await sleep(50);
  }
}

/** /readyz needs one bound bind; the run needs all of them. */
async function waitBound(pool: Pool, token: string, daemon: DaemonProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const binds = (await callOk(pool, 'GET', '/api/admin/binds', token)).data as { name: string; state: string; last_error: string | null }[];
    if (binds.every((b) => b.state === 'bound')) return;
    if (daemon.hasExited()) throw new Error(`the daemon exited\n${daemon.outputTail()}`);
    if (Date.now() > deadline) {
      throw new Error(`binds not bound after ${timeoutMs} ms: ${binds.map((b) => `${b.name}=${b.state}${b.last_error ? ` (${b.last_error})` : ''}`).join(', ')}`);
    }
    checkInterrupted();
    await sleep(20);
  }
}

// ---- taking it down ------------------------------------------------------------------------

/**
 * The orderly end of a run: the control pool closed, the daemon stopped (how it ended, for the
 * report), then the simulator (its final counters).
 */
export async function stopStack(stack: Stack): Promise<{ exit: string; simStats: Record<string, number> | null }> {
  await closePool(stack.admin);
  const exit = await stopDaemon(stack.daemon, 20_000);
  active.daemon = null;
  const simStats = stack.sim ? await stack.sim.stop() : null;
  active.sim = null;
  return { exit, simStats };
}

/** Stop whatever the current scenario still holds (after an error or Ctrl-C). */
export async function releaseActive(): Promise<void> {
  const { daemon, sim, dir, reader, pools, database } = active;
  active.daemon = null;
  active.sim = null;
  active.dir = null;
  active.reader = null;
  active.pools = [];
  active.database = null;
  await reader?.close().catch(() => undefined);
  await Promise.all(pools.map((p) => p.destroy().catch(() => undefined)));
  if (daemon) await stopDaemon(daemon, interrupted ? 3000 : 20_000);
  if (sim) await sim.stop().catch(() => null);
  if (dir) rmSync(dir, { recursive: true, force: true });
  // The daemon is gone: nothing uses the scenario's schema any more.
  await database?.drop().catch((err: unknown) => process.stderr.write(`could not drop the scenario's database: ${(err as Error).message}\n`));
}

/**
 * SIGTERM: the daemon closes HTTP, drains its windows, unbinds and exits. Bounded (3 s after
 * Ctrl-C, 20 s otherwise), then SIGKILL. Returns how it ended, for the report.
 */
async function stopDaemon(daemon: DaemonProcess, boundMs: number): Promise<string> {
  const r = await daemon.stop(boundMs);
  if (r.killed) {
    process.stderr.write(`daemon still running ${boundMs} ms after SIGTERM: killed\n`);
    return 'killed';
  }
  if (r.code !== 0) {
    process.stderr.write(`daemon exited with ${r.code ?? r.signal}\n${daemon.outputTail()}\n`);
    return String(r.code ?? r.signal);
  }
  return '0';
}
