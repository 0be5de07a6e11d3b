/**
 * `relais backup PATH` (online, while the daemon runs) and `relais restore PATH` (daemon
 * stopped). The work is in src/ops/backup.ts; this is argument parsing and the printed report.
 * Exit codes: 0 done, 1 failed (the reason on stderr), 2 usage (UsageError: main prints the usage).
 */
import { parseArgs } from 'node:util';
import type { Config } from '../config/schema.js';
import { BackupError, backupDatabase, daemonUrl, MAIN_TABLES, pruneBackups, resolveBackupTarget, restoreDatabase, summarize, type CopyReport } from '../ops/backup.js';
import { UsageError, type CommandHelp } from './usage.js';

/** The usage of both commands (`relais backup --help`, `relais restore --help`). */
export const BACKUP_HELP = {
  backup: {
    forms: ['PATH [--force]', 'DIRECTORY/ [--keep-days N]'],
    summary: 'copy the database while the daemon runs (consistent, checked) to PATH, or to DIRECTORY/<name>-<UTC time>.db',
    options: [
      '  --force                    replace PATH if it exists (default: refuse)',
      '  --keep-days N              with a DIRECTORY: then delete its timed copies older than N days',
    ],
  },
  restore: {
    forms: ['PATH'],
    summary: 'replace the database with a copy made by relais backup (daemon stopped; the replaced file is kept aside)',
    options: ['  (the replaced database is kept as <database>.replaced-<UTC time>, with its -wal/-shm if any)'],
  },
} satisfies Record<string, CommandHelp>;

function failed(command: string, err: unknown): number {
  if (!(err instanceof BackupError)) throw err;
  console.error(`relais ${command}: FAILED: ${err.message}`);
  return 1;
}

/** Backup and restore copy the SQLite file; a PostgreSQL database has its own tools. */
const ON_POSTGRES = new BackupError('database.url names a PostgreSQL database: back it up with pg_dump (or its own streaming replication and base backups), restore with pg_restore; relais backup and restore copy the SQLite file');

/** relais backup PATH [--force] | relais backup DIRECTORY/ [--keep-days N] */
export async function backupCommand(config: Config, args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { force: { type: 'boolean' }, 'keep-days': { type: 'string' } } });
  if (positionals.length !== 1) throw new UsageError(positionals.length ? 'one PATH only' : 'a PATH (file, or directory ending with /) is needed');
  const keepDays = values['keep-days'] === undefined ? null : Number(values['keep-days']);
  if (keepDays !== null && !(Number.isInteger(keepDays) && keepDays >= 1)) throw new UsageError('--keep-days needs a whole number of days, at least 1');
  if (config.database.url) return failed('backup', ON_POSTGRES);
  const dbPath = config.database.path;
  if (dbPath === ':memory:') return failed('backup', new BackupError('the database is in memory: nothing to back up'));
  const now = new Date();
  try {
    const { path, directory } = resolveBackupTarget(positionals[0]!, dbPath, now);
    if (keepDays !== null && !directory) throw new UsageError('--keep-days needs a DIRECTORY (ending with /) as the target');
    const r = await backupDatabase(dbPath, path, { force: values.force === true });
    console.log(`relais backup: ${r.path} (from ${dbPath})`);
    printReport(r);
    console.log(`  took        ${sec(r.totalMs)} s (copy ${sec(r.copyMs)} s: ${r.pages} pages in ${r.steps} steps; check ${sec(r.checkMs)} s)`);
    if (directory && keepDays !== null) {
      const pruned = pruneBackups(directory, dbPath, keepDays, now, r.path);
      console.log(`  pruned      ${pruned.length ? pruned.join(', ') : 'nothing'} (copies older than ${keepDays} days)`);
    }
    return 0;
  } catch (err) {
    return failed('backup', err);
  }
}

/** relais restore PATH */
export async function restoreCommand(config: Config, args: string[]): Promise<number> {
  const { positionals } = parseArgs({ args, allowPositionals: true, options: {} });
  if (positionals.length !== 1) throw new UsageError(positionals.length ? 'one PATH only' : 'the PATH of a copy is needed');
  if (config.database.url) return failed('restore', ON_POSTGRES);
  const dbPath = config.database.path;
  if (dbPath === ':memory:') return failed('restore', new BackupError('the database is in memory: nothing to restore into'));
  try {
    const r = await restoreDatabase(dbPath, positionals[0]!, { daemonUrl: daemonUrl(config.http) });
    console.log(`relais restore: ${dbPath} is now the copy ${positionals[0]}`);
    printReport(r.restored);
    if (r.pending.length) console.log(`  note        a copy from an older version: the next start (or relais migrate) applies ${r.pending.join(', ')}`);
    console.log(`  replaced    ${r.replaced ? `kept as ${r.replaced}${r.replacedDamaged ? ` (it could not be read: ${r.replacedDamaged})` : ''}` : 'nothing (there was no database)'}`);
    console.log(`  took        ${sec(r.totalMs)} s`);
    console.log('  next        start the daemon (systemctl start relais): what the copy holds as queued or mid-submit is sent, again if it was sent since the copy was made');
    return 0;
  } catch (err) {
    return failed('restore', err);
  }
}

function printReport(r: CopyReport): void {
  console.log(`  size        ${r.bytes} bytes (${(r.bytes / 1048576).toFixed(1)} MiB)`);
  console.log(`  integrity   ${r.integrity === 'ok' ? 'ok' : summarize(r.integrity)}`);
  console.log(`  schema      ${r.schemaVersion ?? 'none'} (${r.migrations.length} migrations applied)`);
  const messages = r.tables.find((t) => t.name === 'messages');
  const byStatus = Object.entries(r.messagesByStatus).map(([s, n]) => `${s} ${n}`).join(', ');
  if (messages) console.log(`  messages    ${messages.rows}${byStatus ? ` (${byStatus})` : ''}`);
  const main = r.tables.filter((t) => t.name !== 'messages' && MAIN_TABLES.includes(t.name));
  const others = r.tables.filter((t) => !MAIN_TABLES.includes(t.name) && t.rows > 0);
  console.log(`  rows        ${main.map((t) => `${t.name} ${t.rows}`).join(', ')}`);
  if (others.length) console.log(`  other rows  ${others.map((t) => `${t.name} ${t.rows}`).join(', ')}`);
}

const sec = (ms: number) => (ms / 1000).toFixed(2);
