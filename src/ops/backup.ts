/**
 * Online backup and offline restore of the SQLite database (`relais backup`, `relais restore`).
 * This is the SQLite backend's own tooling, so it speaks to the file directly (better-sqlite3),
 * not through the store: a PostgreSQL backend would replace this module with pg_dump/pg_restore.
 *
 * Backup, while the daemon runs and writes (WAL mode):
 * - its own read-only connection opens ONE read transaction, then copies the pages with the
 *   online backup API a few hundred at a time. Holding the snapshot matters: without it the
 *   backup API restarts from page 1 whenever another connection commits (the daemon commits
 *   every few ms under traffic, so a copy of a busy database would never end), and with it the
 *   copy is exactly the database as of that instant — every transaction committed before the
 *   backup started, none after. In WAL mode a reader never blocks the writer: the daemon goes on
 *   committing; its checkpoints just cannot pass the snapshot until the copy ends (the -wal file
 *   grows meanwhile). Each step copies a bounded number of pages, so no single call holds
 *   anything for more than a few ms either.
 * - the copy goes to a temporary file (mode 0600: it holds password hashes and secrets) next to
 *   the target, is made a single self-contained file (journal_mode DELETE), passes
 *   `PRAGMA integrity_check`, is fsynced, and only then renamed to the target: a failed or
 *   interrupted backup never leaves a half copy under the target's name.
 *
 * Restore, with the daemon stopped:
 * - refused while the daemon runs: its HTTP port answers (when the configuration names one), or
 *   the database file is open in some process — checked with SQLite's own locks: in WAL mode
 *   every open connection keeps a SHARED lock on the file from its first read until it closes,
 *   so an EXCLUSIVE lock (locking_mode EXCLUSIVE, busy timeout 0) is granted only when no daemon,
 *   `relais send` or other reader has it open. The HTTP check alone would miss a daemon started
 *   with another port (RELAIS_HTTP_PORT) or hung; the lock alone would miss a daemon pointed at
 *   another path (RELAIS_DB_PATH): both must say "not running".
 * - the copy is first copied next to the database and checked there (integrity_check 'ok', a
 *   Relais database, its migrations a prefix of this build's: a copy from a newer Relais is
 *   refused; an older one is accepted and migrated at the next start), so a bad copy leaves the
 *   current database untouched byte for byte;
 * - the current database is checkpointed (its -wal folded in) under the exclusive lock, renamed
 *   to `<db>.replaced-<UTC time>` with any -wal/-shm/-journal beside it (a stale -wal left next to
 *   the restored file would be replayed into it), then the checked copy is renamed into place.
 */
import { closeSync, copyFileSync, existsSync, fsyncSync, lstatSync, mkdirSync, openSync, readdirSync, readSync, renameSync, rmSync, statSync, chmodSync, chownSync } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import SQLite from 'better-sqlite3';
import { migrations } from '../../migrations/index.js';

/** A backup or restore that cannot be done; the message says why and what to do. */
export class BackupError extends Error {
  override name = 'BackupError';
}

/** Pages copied per backup step (4 KiB pages: 2 MiB, about a millisecond of work). */
export const PAGES_PER_STEP = 500;

/** Tables listed first in a report, when they exist; every other table follows. */
export const MAIN_TABLES: readonly string[] = [
  'messages', 'message_parts', 'accounts', 'sub_accounts', 'api_keys', 'contacts', 'contact_groups', 'campaigns', 'campaign_runs',
  'credit_transactions', 'credit_lots', 'package_orders', 'webhooks', 'webhook_deliveries', 'mo_messages', 'blacklist', 'audit_logs',
];
/** Bookkeeping, not data. */
const SKIPPED_TABLES = new Set(['kysely_migration', 'kysely_migration_lock', 'storage_probe']);
const SIDECARS = ['-wal', '-shm', '-journal'] as const;

/** What is in a database file, read without changing it. */
export interface CopyReport {
  path: string;
  bytes: number;
  /** 'ok', or the problems `PRAGMA integrity_check` found (at most 100). */
  integrity: 'ok' | string[];
  /** Applied migrations, in order; the last one is the schema version. */
  migrations: string[];
  schemaVersion: string | null;
  /** Row counts: the main tables first, then the others, each table once. */
  tables: { name: string; rows: number }[];
  messagesByStatus: Record<string, number>;
}

/**
 * Opens `path` read-only and reports what it holds, starting with `PRAGMA integrity_check`.
 * Throws BackupError when it is not a SQLite database at all, or too damaged to be read.
 */
export function inspectCopy(path: string): CopyReport {
  const bytes = statSync(path).size;
  let db: SQLite.Database;
  try {
    db = new SQLite(path, { readonly: true, fileMustExist: true });
  } catch (err) {
    throw new BackupError(`${path} cannot be opened: ${(err as Error).message}`);
  }
  try {
    return readReport(db, path, bytes);
  } catch (err) {
    if (err instanceof BackupError) throw err;
    throw new BackupError(`${path} is not a readable SQLite database: ${(err as Error).message}`);
  } finally {
    db.close();
  }
}

function readReport(db: SQLite.Database, path: string, bytes: number): CopyReport {
  const rows = (db.prepare('PRAGMA integrity_check').all() as { integrity_check: string }[]).map((r) => r.integrity_check);
  const integrity = rows.length === 1 && rows[0] === 'ok' ? 'ok' : rows.flatMap((r) => r.split('\n')).filter((l) => l && !l.startsWith('*** in database'));
  const names = new Set((db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'").all() as { name: string }[]).map((r) => r.name));
  const applied = names.has('kysely_migration') ? (db.prepare('SELECT name FROM kysely_migration ORDER BY name').all() as { name: string }[]).map((r) => r.name) : [];
  const report: CopyReport = { path, bytes, integrity, migrations: applied, schemaVersion: applied.at(-1) ?? null, tables: [], messagesByStatus: {} };
  // Counting a damaged table can fail or lie: a copy that failed its check is reported as such.
  if (integrity !== 'ok') return report;
  const ordered = [...MAIN_TABLES.filter((t) => names.has(t)), ...[...names].filter((t) => !MAIN_TABLES.includes(t) && !SKIPPED_TABLES.has(t)).sort()];
  report.tables = ordered.map((name) => ({ name, rows: Number((db.prepare(`SELECT count(*) AS n FROM "${name.replaceAll('"', '""')}"`).get() as { n: number }).n) }));
  if (names.has('messages')) {
    const rows = db.prepare('SELECT status, count(*) AS n FROM messages GROUP BY status ORDER BY count(*) DESC').all() as { status: string; n: number }[];
    report.messagesByStatus = Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
  }
  return report;
}

export interface BackupOptions {
  /** Replace an existing file at the target. */
  force?: boolean;
  /** Pages per backup step (default PAGES_PER_STEP). */
  pagesPerStep?: number;
  /** Called after every step (tests, progress display). */
  onStep?: (progress: { totalPages: number; remainingPages: number }) => void;
}

export interface BackupResult extends CopyReport {
  /** Pages copied, and in how many steps. */
  pages: number;
  steps: number;
  copyMs: number;
  checkMs: number;
  totalMs: number;
}

/**
 * A consistent copy of the database at `dbPath`, taken online, written to `target` (a file
 * path). Refuses an existing target unless `force`. Returns the copy's report.
 */
export async function backupDatabase(dbPath: string, target: string, opts: BackupOptions = {}): Promise<BackupResult> {
  const t0 = performance.now();
  if (!isFile(dbPath)) throw new BackupError(`no database at ${dbPath}`);
  if (resolve(target) === resolve(dbPath)) throw new BackupError('the target is the database itself');
  const dir = dirname(resolve(target));
  if (!isDirectory(dir)) throw new BackupError(`directory ${dir} does not exist`);
  if (existsSync(target)) {
    if (isDirectory(target)) throw new BackupError(`${target} is a directory`);
    if (!opts.force) throw new BackupError(`${target} exists: refusing to overwrite it (--force replaces it)`);
  }
  const step = Math.max(1, Math.floor(opts.pagesPerStep ?? PAGES_PER_STEP));
  const tmp = join(dir, `.${basename(target)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  // Created here, 0600, so the copy is never readable by others, even for a moment.
  closeSync(openSync(tmp, 'wx', 0o600));
  try {
    let pages = 0;
    let steps = 0;
    const source = new SQLite(dbPath, { readonly: true, fileMustExist: true, timeout: 5000 });
    try {
      // The snapshot: one read transaction for the whole copy (see the header). Only in WAL mode
      // (the daemon's): in rollback-journal mode a reader blocks the writer, so there each step
      // reads on its own and the backup API restarts if a writer got in between.
      const wal = source.pragma('journal_mode', { simple: true }) === 'wal';
      if (wal) {
        source.exec('BEGIN');
        source.prepare('SELECT count(*) FROM sqlite_master').get();
      }
      await source.backup(tmp, {
        progress: (p) => {
          steps++;
          pages = p.totalPages;
          opts.onStep?.(p);
          return step;
        },
      });
      if (wal) source.exec('COMMIT');
    } finally {
      source.close();
    }
    const copyMs = performance.now() - t0;
    // The pages carry the source's WAL flag: make the copy one self-contained file.
    const copy = new SQLite(tmp, { fileMustExist: true });
    try {
      copy.pragma('journal_mode = DELETE');
    } finally {
      copy.close();
    }
    removeSidecars(tmp);
    const report = inspectCopy(tmp);
    if (report.integrity !== 'ok') throw new BackupError(`the copy failed its integrity check (${summarize(report.integrity)}): nothing was written to ${target}; the database itself may be damaged: sqlite3 ${dbPath} 'PRAGMA integrity_check'`);
    fsyncPath(tmp);
    renameSync(tmp, target);
    fsyncPath(dir);
    const totalMs = performance.now() - t0;
    return { ...report, path: target, pages, steps, copyMs, checkMs: totalMs - copyMs, totalMs };
  } catch (err) {
    rmSync(tmp, { force: true });
    removeSidecars(tmp);
    if (err instanceof BackupError) throw err;
    throw new BackupError(`backup of ${dbPath} failed: ${(err as Error).message}`);
  }
}

/** `YYYYMMDDTHHMMSSZ`: ISO 8601 (basic format), UTC, sorts by time, no ':' in file names. */
export function stamp(now: Date): string {
  return now.toISOString().replace(/\.\d+Z$/, 'Z').replace(/[-:]/g, '');
}

/**
 * Where `relais backup TARGET` writes: TARGET itself, or — when TARGET is an existing directory
 * or ends with '/' (then created if missing) — `<database name>-<UTC time>.db` inside it.
 */
export function resolveBackupTarget(target: string, dbPath: string, now: Date): { path: string; directory: string | null } {
  if (target.endsWith('/') || isDirectory(target)) {
    mkdirSync(target, { recursive: true, mode: 0o750 });
    return { path: join(target, `${backupStem(dbPath)}-${stamp(now)}.db`), directory: target };
  }
  return { path: target, directory: null };
}

const backupStem = (dbPath: string) => basename(dbPath, extname(dbPath)) || 'relais';
const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Deletes the timed copies of this database in `directory` (`<name>-YYYYMMDDTHHMMSSZ.db`, the
 * names resolveBackupTarget gives) older than `keepDays` by the time in their name, never
 * `keep` (the copy just made). Other files are never touched. Returns the names deleted.
 */
export function pruneBackups(directory: string, dbPath: string, keepDays: number, now: Date, keep: string): string[] {
  const pattern = new RegExp(`^${escapeRe(backupStem(dbPath))}-(\\d{4})(\\d{2})(\\d{2})T(\\d{2})(\\d{2})(\\d{2})Z\\.db$`);
  const cutoff = now.getTime() - keepDays * 86_400_000;
  const deleted: string[] = [];
  for (const name of readdirSync(directory).sort()) {
    const m = pattern.exec(name);
    if (!m || resolve(directory, name) === resolve(keep)) continue;
    const at = Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!);
    if (at >= cutoff || !isFile(join(directory, name))) continue;
    rmSync(join(directory, name));
    deleted.push(name);
  }
  return deleted;
}

/** The loopback URL of the daemon of this HTTP configuration, or null when its port is not fixed (0). */
export function daemonUrl(http: { host: string; port: number }): string | null {
  if (!http.port) return null;
  const host = http.host === '0.0.0.0' || http.host === '' ? '127.0.0.1' : http.host === '::' ? '::1' : http.host;
  return `http://${host.includes(':') ? `[${host}]` : host}:${http.port}`;
}

/** Whether something answers HTTP at `url` (any status counts: a daemon that is up but not ready is still up). */
export async function daemonAnswers(url: string, timeoutMs = 1500): Promise<boolean> {
  try {
    const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(timeoutMs) });
    await res.body?.cancel();
    return true;
  } catch {
    return false; // refused, unreachable or hung: the lock check decides
  }
}

/**
 * Takes the database file for ourselves for a moment: an EXCLUSIVE lock, granted only when no
 * other connection (in any process) has it open — the daemon runs it in WAL mode, where every
 * connection keeps a SHARED lock from its first read until it closes — then folds its -wal into
 * it. The lock goes with the connection, closed on return. `busy`: why not (another process has
 * it); `damaged`: it could not be read past the lock (a corrupt database being replaced, say).
 */
export function takeOver(dbPath: string): { busy: string | null; damaged: string | null } {
  if (!existsSync(dbPath)) return { busy: null, damaged: null };
  let db: SQLite.Database | null = null;
  try {
    db = new SQLite(dbPath, { fileMustExist: true, timeout: 0 });
    db.pragma('locking_mode = EXCLUSIVE');
    // The first read takes the lock: in WAL mode an EXCLUSIVE one, as no shared memory is used.
    db.prepare('SELECT count(*) FROM sqlite_master').get();
    if (db.pragma('journal_mode', { simple: true }) === 'wal') db.pragma('wal_checkpoint(TRUNCATE)');
    return { busy: null, damaged: null };
  } catch (err) {
    const code = (err as { code?: string }).code ?? '';
    if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
      return { busy: `${dbPath} is open in another process (the daemon, or a relais command): stop it first (systemctl stop relais), then restore`, damaged: null };
    }
    return { busy: null, damaged: (err as Error).message };
  } finally {
    try {
      db?.close();
    } catch {
      // a damaged file may fail its last checkpoint: it is being replaced
    }
  }
}

export interface RestoreOptions {
  /** The daemon's URL (daemonUrl(config.http)); null: no HTTP check (port 0), only the lock. */
  daemonUrl?: string | null;
  now?: Date;
}

export interface RestoreResult {
  restored: CopyReport;
  /** Where the replaced database was put (with its -wal, if any), or null when there was none. */
  replaced: string | null;
  /** Why the replaced database could not be read, if it could not (it was moved aside as it was). */
  replacedDamaged: string | null;
  /** Migrations this build has that the copy lacks: applied at the next start. */
  pending: string[];
  totalMs: number;
}

/**
 * Puts the copy at `copyPath` in place of the database at `dbPath`, the daemon stopped. The
 * replaced file is kept at `<db>.replaced-<UTC time>`. Throws BackupError, with the current
 * database untouched, when the copy is bad or the daemon runs.
 */
export async function restoreDatabase(dbPath: string, copyPath: string, opts: RestoreOptions = {}): Promise<RestoreResult> {
  const t0 = performance.now();
  if (!isFile(copyPath)) throw new BackupError(`no file at ${copyPath}`);
  if (existsSync(dbPath) && sameFile(copyPath, dbPath)) throw new BackupError(`${copyPath} is the database itself`);
  if (isFile(`${copyPath}-wal`) && statSync(`${copyPath}-wal`).size > 0) {
    throw new BackupError(`${copyPath}-wal exists: ${copyPath} is a live database or an incomplete copy of one (its last commits are in that -wal file); restore a copy made by relais backup`);
  }
  if (!looksLikeSqlite(copyPath)) throw new BackupError(`${copyPath} is not a SQLite database`);
  if (opts.daemonUrl && (await daemonAnswers(opts.daemonUrl))) {
    throw new BackupError(`the daemon answers at ${opts.daemonUrl}: stop it first (systemctl stop relais), then restore`);
  }

  const dir = dirname(resolve(dbPath));
  if (!isDirectory(dir)) mkdirSync(dir, { recursive: true, mode: 0o750 });
  const tmp = join(dir, `.${basename(dbPath)}.restore-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    // Check the bytes that will be put in place, on a copy: the backup file itself stays as it is.
    copyFileSync(copyPath, tmp);
    matchOwnership(tmp, dbPath, dir);
    const restored = checkRestorable(tmp);
    fsyncPath(tmp);

    const { busy, damaged } = takeOver(dbPath);
    if (busy) throw new BackupError(busy);
    // takeOver's connection deleted the -wal as it closed: one now means another process opened
    // the database since.
    if (!damaged && existsSync(`${dbPath}-wal`)) throw new BackupError(`${dbPath} was opened by another process during the restore: stop it first`);
    const aside = asidePath(dbPath, opts.now ?? new Date());
    const replaced = existsSync(dbPath) ? aside : null;
    const moved: [string, string][] = [];
    try {
      if (replaced) {
        renameSync(dbPath, replaced);
        moved.push([dbPath, replaced]);
      }
      // A stale -wal beside the restored file would be replayed into it: none may stay.
      for (const s of SIDECARS) {
        if (!existsSync(dbPath + s)) continue;
        renameSync(dbPath + s, aside + s);
        moved.push([dbPath + s, aside + s]);
      }
      renameSync(tmp, dbPath);
    } catch (err) {
      for (const [from, to] of moved.reverse()) renameSync(to, from);
      throw err;
    }
    fsyncPath(dir);
    const known = Object.keys(migrations);
    return { restored: { ...restored, path: dbPath }, replaced, replacedDamaged: damaged, pending: known.slice(restored.migrations.length), totalMs: performance.now() - t0 };
  } catch (err) {
    rmSync(tmp, { force: true });
    removeSidecars(tmp);
    if (err instanceof BackupError) throw err;
    throw new BackupError(`restore failed (the database is unchanged): ${(err as Error).message}`);
  }
}

/** The checks a copy must pass to be restored; returns its report. */
function checkRestorable(path: string): CopyReport {
  try {
    // A copy made by `sqlite3 .backup` or `cp` may carry the WAL flag: make it self-contained too.
    const db = new SQLite(path, { fileMustExist: true });
    try {
      db.pragma('journal_mode = DELETE');
    } finally {
      db.close();
    }
  } catch (err) {
    throw new BackupError(`the copy is not a usable SQLite database: ${(err as Error).message}`);
  } finally {
    removeSidecars(path);
  }
  const report = inspectCopy(path);
  if (report.integrity !== 'ok') throw new BackupError(`the copy is damaged (integrity_check: ${summarize(report.integrity)}): refusing it, the database is unchanged`);
  if (!report.migrations.length || !report.tables.some((t) => t.name === 'messages')) throw new BackupError('the copy is not a Relais database (no applied migrations, or no messages table)');
  const known = Object.keys(migrations);
  const unknown = report.migrations.filter((m) => !known.includes(m));
  if (unknown.length) throw new BackupError(`the copy comes from a newer Relais (migrations unknown to this version: ${unknown.join(', ')}): restore it with that version, or restore an older copy`);
  if (report.migrations.some((m, i) => known[i] !== m)) throw new BackupError(`the copy's migrations (${report.migrations.join(', ')}) are not the first ones of this version's: it was not made by Relais`);
  return report;
}

/** The first problems integrity_check found, and how many more. */
export function summarize(problems: readonly string[]): string {
  return `${problems.slice(0, 3).join('; ')}${problems.length > 3 ? `; and ${problems.length - 3} more problem(s)` : ''}`;
}

/** `<db>.replaced-<UTC time>`, with a counter if that name is taken. */
function asidePath(dbPath: string, now: Date): string {
  const base = `${dbPath}.replaced-${stamp(now)}`;
  let path = base;
  for (let i = 1; existsSync(path) || SIDECARS.some((s) => existsSync(path + s)); i++) path = `${base}-${i}`;
  return path;
}

/** The restored file gets the owner and mode of the one it replaces (else of its directory, 0600). */
function matchOwnership(path: string, dbPath: string, dir: string): void {
  const ref = existsSync(dbPath) ? statSync(dbPath) : null;
  chmodSync(path, ref ? ref.mode & 0o777 : 0o600);
  const owner = ref ?? statSync(dir);
  const st = statSync(path);
  if (st.uid === owner.uid && st.gid === owner.gid) return;
  try {
    chownSync(path, owner.uid, owner.gid); // as root: the daemon's user must be able to write it
  } catch {
    // not root: the file is ours, which is the daemon's user when run as documented
  }
}

function sameFile(a: string, b: string): boolean {
  const [x, y] = [statSync(a), statSync(b)];
  return x.dev === y.dev && x.ino === y.ino;
}

function looksLikeSqlite(path: string): boolean {
  const fd = openSync(path, 'r');
  try {
    const header = Buffer.alloc(16);
    return readSync(fd, header, 0, 16, 0) === 16 && header.toString('latin1') === 'SQLite format 3\0';
  } finally {
    closeSync(fd);
  }
}

function removeSidecars(path: string): void {
  for (const s of SIDECARS) rmSync(path + s, { force: true });
}

function fsyncPath(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function isFile(path: string): boolean {
  try {
    return lstatSync(path).isFile() || statSync(path).isFile();
  } catch {
    return false;
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
