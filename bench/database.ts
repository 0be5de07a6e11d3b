/**
 * The database a scenario's daemon runs on, and the benchmark's own read-only look at it.
 *
 * SQLite (the default): a fresh file `bench.db` in the scenario's temp directory, read through a
 * read-only connection of its own (WAL: it reads while the daemon writes).
 * PostgreSQL (`--database-url`, or env RELAIS_BENCH_DATABASE_URL): a fresh schema of that database
 * per scenario (`bench_<scenario>_<random>`, the daemon's `database.schema`), read through one
 * read-only connection, dropped when the scenario ends. When the server runs on this machine and
 * its processes can be read in /proc, its CPU time is measured too (the whole server: every
 * backend and background process, as they share the cores with the three processes).
 */
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import pg from 'pg';
import type { z } from 'zod';
import type { configSchema } from '../src/config/schema.js';
import { DatabaseInspector, type SentRow } from '../src/store/inspect.js';

export type Backend = 'sqlite' | 'postgres';

export interface Reader {
  /** Messages by state, now. */
  statusCounts(): Promise<Record<string, number>>;
  /** Every message that reached the SMSC, with its times. */
  sentRows(): Promise<SentRow[]>;
  contactCounts(): Promise<{ contacts: number; groups: number; memberships: number }>;
  /** The PostgreSQL server's CPU seconds so far (NaN: SQLite, or not measurable from here). */
  serverCpuSeconds(): number;
  close(): Promise<void>;
}

/** One scenario's database. */
export interface ScenarioDatabase {
  backend: Backend;
  /** The daemon config's `database` section. */
  config: z.input<typeof configSchema>['database'];
  openReader(): Promise<Reader>;
  /** Removes what the scenario left (PostgreSQL: its schema; the SQLite file goes with the temp directory). */
  drop(): Promise<void>;
}

/** What the report says about the database, once per run. */
export interface DatabaseInfo {
  backend: Backend;
  /** One line: SQLite's settings, or the PostgreSQL server's version, address and durability settings. */
  description: string;
}

export function sqliteDatabase(dbPath: string): ScenarioDatabase {
  return {
    backend: 'sqlite',
    config: { path: dbPath, synchronous: 'normal' },
    openReader: async () => sqliteReader(dbPath),
    drop: async () => undefined,
  };
}

export const SQLITE_INFO: DatabaseInfo = {
  backend: 'sqlite',
  description: 'SQLite, a fresh file per scenario in its temp directory (WAL, synchronous = normal), in the daemon\'s process',
};

function sqliteReader(dbPath: string): Reader {
  const inspector = new DatabaseInspector(dbPath);
  return {
    statusCounts: async () => inspector.statusCounts(),
    sentRows: async () => inspector.sentRows(),
    contactCounts: async () => inspector.contactCounts(),
    serverCpuSeconds: () => NaN,
    close: async () => inspector.close(),
  };
}

/**
 * A fresh schema of the PostgreSQL database at `url` for the scenario `name`; `path` (unused by
 * the store) keeps whatever the daemon writes next to its database in the temp directory.
 */
export function postgresDatabase(url: string, name: string, path: string): ScenarioDatabase {
  const schema = `bench_${name}_${randomBytes(4).toString('hex')}`;
  return {
    backend: 'postgres',
    config: { path, url, schema },
    openReader: () => postgresReader(url, schema),
    drop: async () => {
      const client = await connect(url);
      try {
        await client.query(`drop schema if exists "${schema}" cascade`);
      } finally {
        await client.end();
      }
    },
  };
}

/** bigint and numeric as JS numbers, as the store reads them (every value here fits 2^53). */
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === 20 || oid === 1700 ? (v: string | null) => (v === null ? null : Number(v)) : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

async function connect(url: string, options?: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url, types, application_name: 'relais-bench', connectionTimeoutMillis: 10_000, ...(options ? { options } : {}) });
  await client.connect();
  return client;
}

async function postgresReader(url: string, schema: string): Promise<Reader> {
  const client = await connect(url, `-c search_path=${schema} -c default_transaction_read_only=on`);
  client.on('error', () => undefined);
  const backendPid = Number((await client.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0]?.pid);
  const server = localServer(backendPid);
  const count = async (table: string) => Number((await client.query<{ n: number }>(`select count(*) as n from ${table}`)).rows[0]?.n);
  return {
    statusCounts: async () => Object.fromEntries((await client.query<{ status: string; n: number }>('select status, count(*) as n from messages group by status')).rows.map((r) => [r.status, Number(r.n)])),
    sentRows: async () => (await client.query<SentRow>('select bind, created_at, sent_at, done_at, status from messages where sent_at is not null')).rows,
    contactCounts: async () => ({ contacts: await count('contacts'), groups: await count('contact_groups'), memberships: await count('contact_group_members') }),
    serverCpuSeconds: () => (server ? server.cpuSeconds() : NaN),
    close: () => client.end(),
  };
}

/** The server's version, address and the settings that decide what a commit costs. */
export async function describePostgres(url: string): Promise<DatabaseInfo> {
  const client = await connect(url);
  try {
    const setting = async (name: string) => (await client.query<{ v: string }>('select current_setting($1) as v', [name])).rows[0]?.v ?? '?';
    const version = await setting('server_version');
    const u = new URL(url);
    const durability = `fsync ${await setting('fsync')}, synchronous_commit ${await setting('synchronous_commit')}, full_page_writes ${await setting('full_page_writes')}, shared_buffers ${await setting('shared_buffers')}`;
    const pid = Number((await client.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0]?.pid);
    const where = localServer(pid) ? 'on this machine (its CPU measured: every server process)' : 'its CPU not measured from here';
    return {
      backend: 'postgres',
      description: `PostgreSQL ${version} at ${u.hostname}:${u.port || 5432}/${u.pathname.slice(1)} (${durability}), ${where}; a fresh schema per scenario, the daemon's pool 10 connections (the default)`,
    };
  } finally {
    await client.end();
  }
}

/** A URL as it may be printed: without its password. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '…';
    return u.toString();
  } catch {
    return 'postgres://…';
  }
}

// ---- the server's CPU, from /proc ----------------------------------------------------------

/** USER_HZ: 100 on every mainstream Linux build. */
const CLOCK_TICKS = 100;

/** /proc/<pid>/stat fields after the command name: [0] state, [1] ppid, [11] utime, [12] stime, [13] cutime, [14] cstime. */
function statFields(pid: number): { comm: string; fields: string[] } | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return { comm: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')), fields: stat.slice(stat.lastIndexOf(')') + 2).split(' ') };
  } catch {
    return null;
  }
}

/**
 * The PostgreSQL server on this machine, found from a backend's pid (its parent is the
 * postmaster); null when that pid is not a postgres process here (a remote server, another PID
 * namespace). Its CPU: the postmaster's own and its reaped children's (backends that exited), plus
 * every live child's.
 */
function localServer(backendPid: number): { cpuSeconds(): number } | null {
  const backend = Number.isInteger(backendPid) ? statFields(backendPid) : null;
  if (!backend || !backend.comm.startsWith('postgres')) return null;
  const postmaster = Number(backend.fields[1]);
  const pm = statFields(postmaster);
  if (!pm || !pm.comm.startsWith('postgres')) return null;
  return {
    cpuSeconds: () => {
      const own = statFields(postmaster);
      if (!own) return NaN;
      let ticks = Number(own.fields[11]) + Number(own.fields[12]) + Number(own.fields[13]) + Number(own.fields[14]);
      for (const entry of readdirSync('/proc')) {
        if (!/^\d+$/.test(entry)) continue;
        const child = statFields(Number(entry));
        if (child && Number(child.fields[1]) === postmaster) ticks += Number(child.fields[11]) + Number(child.fields[12]);
      }
      return ticks / CLOCK_TICKS;
    },
  };
}
