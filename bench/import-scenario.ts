/**
 * The `import` scenario: the contacts CSV import (POST /api/contacts/import), no messages, on the
 * same daemon set-up as the message scenarios. The file is posted once (every row created), then
 * again (every row updated), one request at a time, each timed from send to whole answer read.
 */
import { isDeepStrictEqual } from 'node:util';
import type { Pool } from 'undici';
import { answerData, contactsCsv, postContactsCsv } from './contacts-csv.js';
import { scrapeLag } from './http.js';
import type { Options } from './options.js';
import { procCpuSeconds, procMemory, type DaemonProcess } from './processes.js';
import { fmtInt, fmtNum } from './format.js';
import { checkInterrupted, closePool, closeReader, flagBinds, openPool, openReader, releaseActive, startStack, stopStack, type Stack } from './setup.js';
import { cpuPercent, ownCpuPercent, rate } from './stats.js';

/** Groups the import's rows are spread over (row i → group-(i mod 10 + 1)). */
export const IMPORT_GROUPS = 10;

/** One POST /api/contacts/import of the whole file. */
export interface ImportPass {
  /** `new`: every row creates a contact; `again`: the same file re-imported, every row updates. */
  pass: 'new' | 'again';
  status: number;
  /** The answer's data (errors: only their count), or null when it had none. */
  answer: { created: number; updated: number; failed: number; errors: number } | null;
  /** data is exactly the expected {created, updated, failed: 0, errors: []}. */
  ok: boolean;
  /** What was wrong (status, body excerpt), or null. */
  problem: string | null;
  /** From sending the request to having read the whole answer. */
  ms: number;
  rowsPerSecond: number;
  /** CPU time / wall time over the request, 100 % = one core. */
  daemonCpuPercent: number;
  benchCpuPercent: number;
  eventLoopLagP99Ms: number;
  eventLoopLagMaxMs: number;
  /** VmRSS right after the answer, and VmHWM (peak over the daemon's life so far). */
  rssAfterBytes: number;
  peakRssBytes: number;
}

export interface ImportScenarioResult {
  scenario: 'import';
  rows: number;
  fileBytes: number;
  passes: ImportPass[];
  /** Counted on a read-only connection after both passes; null if the reads failed. */
  db: { contacts: number; groups: number; memberships: number } | null;
  daemon: { startRssBytes: number; peakRssBytes: number; exit: string };
  wallMs: number;
}

/** The CSV the import posts: 10 groups, and `company`, which is not a contact column (it lands in custom_fields). */
function importCsv(rows: number): Buffer {
  return contactsCsv(rows, (i) => `group-${(i % IMPORT_GROUPS) + 1}`, { name: 'company', value: (i) => `Company ${(i % 97) + 1}` });
}

export async function runImport(opts: Options): Promise<ImportScenarioResult> {
  const name = 'import';
  const rows = opts.importRows;
  const wallStart = Date.now();
  process.stderr.write(`[${name}] starting simulator and daemon\n`);
  try {
    const stack = await startStack(name, opts, { receipts: false, smsc: { receipts: false }, binds: flagBinds(opts), credits: 1000 });
    const { daemon, admin } = stack;

    // The file is built before the clock starts: the client's own work stays out of the figures.
    const csv = importCsv(rows);
    const file = new Blob([csv], { type: 'text/csv' });
    const pool = openPool(stack.base, { connections: 1, pipelining: 1 });
    const startRss = procMemory(daemon.pid).rssBytes;
    const passes: ImportPass[] = [];
    for (const pass of ['new', 'again'] as const) {
      await scrapeLag(admin);
      checkInterrupted();
      process.stderr.write(`[${name}] POST /api/contacts/import: ${fmtInt(rows)} rows, ${fmtNum(csv.length / 1024 / 1024, 1)} MB (${pass === 'new' ? 'all new' : 'the same file again'})\n`);
      passes.push(await importPass(pass, { pool, admin, daemon, apiKey: stack.apiKey, file, rows, timeoutS: opts.timeoutS }));
    }
    await closePool(pool);

    const db = await countContacts(stack);
    const peak = procMemory(daemon.pid).peakBytes;
    const { exit } = await stopStack(stack);
    return { scenario: name, rows, fileBytes: csv.length, passes, db, daemon: { startRssBytes: startRss, peakRssBytes: peak, exit }, wallMs: Date.now() - wallStart };
  } finally {
    await releaseActive();
  }
}

/** One timed POST of the whole file, and what its answer says. */
async function importPass(
  pass: 'new' | 'again',
  c: { pool: Pool; admin: Pool; daemon: DaemonProcess; apiKey: string; file: Blob; rows: number; timeoutS: number },
): Promise<ImportPass> {
  const expected = { created: pass === 'new' ? c.rows : 0, updated: pass === 'new' ? 0 : c.rows, failed: 0, errors: [] };
  const cpu0 = process.cpuUsage();
  const daemonCpu0 = procCpuSeconds(c.daemon.pid);
  const p0 = performance.now();
  const { status, text } = await postContactsCsv(c.pool, c.apiKey, c.file, c.timeoutS);
  const ms = performance.now() - p0;
  const daemonCpu = procCpuSeconds(c.daemon.pid) - daemonCpu0;
  const cpu = process.cpuUsage(cpu0);
  const mem = procMemory(c.daemon.pid);
  const lag = await scrapeLag(c.admin);
  checkInterrupted();

  const data = answerData(text);
  const ok = status === 200 && isDeepStrictEqual(data, expected);
  const problem = ok ? null : `HTTP ${status}, expected data ${JSON.stringify(expected)}: ${text.slice(0, 500)}`;
  if (problem) process.stderr.write(`[import] unexpected answer (${pass}): ${problem}\n`);
  const answer = data && typeof data === 'object'
    ? { created: Number(data.created), updated: Number(data.updated), failed: Number(data.failed), errors: Array.isArray(data.errors) ? data.errors.length : NaN }
    : null;
  process.stderr.write(`[import] ${pass}: HTTP ${status} in ${Math.round(ms)} ms${answer ? ` (created ${answer.created}, updated ${answer.updated}, failed ${answer.failed})` : ''}\n`);
  return {
    pass, status, answer, ok, problem, ms,
    // Only rows the daemon accounted for count.
    rowsPerSecond: rate(answer ? (answer.created || 0) + (answer.updated || 0) : 0, ms),
    daemonCpuPercent: cpuPercent(daemonCpu, ms),
    benchCpuPercent: ownCpuPercent(cpu, ms),
    eventLoopLagP99Ms: lag.p99Ms,
    eventLoopLagMaxMs: lag.maxMs,
    rssAfterBytes: mem.rssBytes,
    peakRssBytes: mem.peakBytes,
  };
}

/** What the database holds now (SQLite in WAL: this read-only connection reads the daemon's commits). */
async function countContacts(stack: Stack): Promise<ImportScenarioResult['db']> {
  try {
    const reader = await openReader(stack.database);
    const db = await reader.contactCounts();
    await closeReader(reader);
    return db;
  } catch (err) {
    process.stderr.write(`[import] could not count the contacts: ${(err as Error).message}\n`);
    return null;
  }
}
