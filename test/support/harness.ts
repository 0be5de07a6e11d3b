/**
 * Test harness: a real SMSC simulator on a TCP port, a real daemon on a real SQLite file and a
 * real HTTP port. Nothing is mocked; helpers only wait for and read what the system did.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { z } from 'zod';
import { bindSchema, configSchema, type Config } from '../../src/config/schema.js';
import { startDaemon, type Daemon, type DaemonOptions } from '../../src/daemon.js';
import { createLogger } from '../../src/log.js';
import type { SendRequest, SendResult } from '../../src/services/messages.js';
import { SmscSimulator, type SimulatorOptions } from '../../src/smpp/simulator/simulator.js';
import { FINAL_STATES } from '../../src/store/tables.js';

export function tempDir(prefix = 'relais-test-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export async function startSimulator(opts: SimulatorOptions = {}): Promise<SmscSimulator> {
  const sim = new SmscSimulator({ port: 0, receiptDelayMs: 20, ...opts });
  await sim.start();
  return sim;
}

/** A bind as a config file writes it (nested objects may leave keys to their defaults). */
type BindInput = Partial<z.input<typeof bindSchema>> & { port: number };
export interface OperatorInput {
  name: string;
  binds: BindInput[];
  receipt_id_format?: 'hex' | 'decimal';
  submit_id_format?: 'hex' | 'decimal';
  registered_delivery?: boolean;
}

/**
 * SQLite at `dbPath`; or, when RELAIS_TEST_DATABASE_URL names a PostgreSQL database (npm test's
 * second pass, see scripts/test.sh), a schema of it named after `dbPath`: each test's own (its
 * path is in a fresh temporary directory), and the same again when the test restarts the daemon
 * on the same path, as a restart on the same SQLite file finds its data.
 */
export function testDatabase(dbPath: string): Record<string, unknown> {
  const url = process.env.RELAIS_TEST_DATABASE_URL;
  if (!url) return { path: dbPath };
  return { path: dbPath, url, schema: `t_${createHash('sha256').update(resolve(dbPath)).digest('hex').slice(0, 20)}`, pool_size: 8 };
}

/** A config for tests: fast timers, quiet logs, ephemeral HTTP port, a fresh database. */
export function testConfig(dbPath: string, operators: OperatorInput[], extra: Record<string, unknown> = {}): Config {
  const cfg = configSchema.parse({
    http: { host: '127.0.0.1', port: 0 },
    database: testDatabase(dbPath),
    numbering: { country_code: '241', national_prefix: '0' },
    operators: operators.map((op) => ({
      ...op,
      binds: op.binds.map((b, i) => ({
        name: `${op.name}-${i + 1}`, host: '127.0.0.1', system_id: op.name, password: 'pw', tps: 500, window: 10,
        enquire_link_interval: 1, response_timeout: 1, reconnect: { initial: 0.1, max: 0.5, jitter: 0.1 }, throttle_backoff: 0.05, ...b,
      })),
    })),
    routes: [
      { prefix: '+24162', operator: operators[0]!.name, ...(operators[1] ? { failover: operators[1].name } : {}) },
      ...(operators[1] ? [{ prefix: '+24177', operator: operators[1].name }] : []),
    ],
    dispatcher: { poll_interval_ms: 10, retry_initial: 0.1, retry_max: 0.5, max_attempts: 20 },
    log: { level: process.env.RELAIS_TEST_LOG ?? 'silent' },
    ...extra,
  });
  for (const op of cfg.operators) op.submit_id_format ??= op.receipt_id_format;
  return cfg;
}

export interface Gateway extends Daemon {
  cleanup(): Promise<void>;
  /** Accounts through the service (setup shortcuts: creating admins). */
  accounts: Daemon['services']['accounts'];
  /** Balances and top-ups, read and written straight in the store (test setup and inspection). */
  credits: Daemon['store']['repos']['credits'];
  blacklist: Daemon['store']['repos']['blacklist'];
  /** Queue a send request as the operator's tooling does (no HTTP, no credits); returns the per-recipient results. */
  enqueue(req: SendRequest): Promise<SendResult>;
  /** Queue a text to numbers; returns the accepted message ids. */
  send(to: string[], text: string, sender?: string): Promise<number[]>;
  waitFinal(ids: number[], timeoutMs?: number): Promise<MessageRow[]>;
  rows(ids: number[]): Promise<MessageRow[]>;
}

export interface MessageRow {
  id: number;
  status: string;
  attempts: number;
  error: string | null;
  bind: string | null;
  operator: string;
  parts: number;
  recipient: string;
  smsc_id: string | null;
}

export async function startGateway(operators: OperatorInput[], extra: Record<string, unknown> = {}, dbPath?: string, logTo?: NodeJS.WritableStream, options: DaemonOptions = {}): Promise<Gateway> {
  const tmp = dbPath ? null : tempDir();
  const cfg = testConfig(dbPath ?? join(tmp!.dir, 'relais.db'), operators, extra);
  const daemon = await startDaemon(cfg, createLogger(cfg.log.level, logTo), options);
  const enqueue = async (req: SendRequest) => {
    const plan = await daemon.messages.plan(req);
    return daemon.store.transaction((tx) => daemon.messages.commit(tx, req, plan));
  };
  const rows = (ids: number[]) =>
    daemon.store.db.selectFrom('messages').select(['id', 'status', 'attempts', 'error', 'bind', 'operator', 'parts', 'recipient', 'smsc_id']).where('id', 'in', ids).orderBy('id').execute() as Promise<MessageRow[]>;
  return {
    ...daemon,
    cleanup: async () => {
      await daemon.stop();
      tmp?.cleanup();
    },
    accounts: daemon.services.accounts,
    credits: daemon.store.repos.credits,
    blacklist: daemon.store.repos.blacklist,
    enqueue,
    send: async (to, text, sender = 'Relais') => {
      const res = await enqueue({ accountId: null, sender, recipients: to, text });
      return res.results.flatMap((r) => (r.ok ? [r.id] : []));
    },
    rows,
    waitFinal: async (ids, timeoutMs = 15_000) => {
      await waitFor(async () => (await rows(ids)).every((r) => FINAL_STATES.includes(r.status as never)), timeoutMs, `messages ${ids.length} final`);
      return rows(ids);
    },
  };
}

export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export const numbers = (n: number, prefix = '+24162', start = 0): string[] =>
  Array.from({ length: n }, (_, i) => `${prefix}${String(start + i).padStart(6, '0')}`);
