/**
 * `relais backup` and `relais restore` (src/ops/backup.ts) against a real daemon carrying real
 * traffic on a real SQLite file: the online copy is consistent and holds every message committed
 * before it started; restore refuses a damaged copy, a copy from a newer version and a database
 * still in use (by the daemon here, by another process), and otherwise puts the copy in place with
 * the replaced file kept aside.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, copyFileSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import SQLite from 'better-sqlite3';
import { Migrator } from 'kysely';
import { migrations } from '../../migrations/index.js';
import { backupCommand, restoreCommand } from '../../src/cli/backup.js';
import { UsageError } from '../../src/cli/usage.js';
import { BackupError, backupDatabase, inspectCopy, pruneBackups, resolveBackupTarget, restoreDatabase } from '../../src/ops/backup.js';
import { migrate, openStore } from '../../src/store/db.js';
import type { SmscSimulator } from '../../src/smpp/simulator/simulator.js';
import { numbers, startGateway, startSimulator, tempDir, testConfig, waitFor, type Gateway } from '../support/harness.js';

const NAMES = Object.keys(migrations);
const sha = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');
const listing = (dir: string) => readdirSync(dir).sort();

function readOnly<T>(path: string, fn: (db: SQLite.Database) => T): T {
  const db = new SQLite(path, { readonly: true, fileMustExist: true });
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

const count = (path: string) => readOnly(path, (db) => (db.prepare('SELECT count(*) AS n FROM messages').get() as { n: number }).n);

/** Writes pattern bytes over the b-tree page header of every third page after the first: a copy that is damaged, not truncated. */
function damage(path: string): void {
  const pageSize = readOnly(path, (db) => db.pragma('page_size', { simple: true }) as number);
  const pages = statSync(path).size / pageSize;
  const fd = openSync(path, 'r+');
  try {
    for (let p = 1; p < pages; p += 3) writeSync(fd, Buffer.alloc(64, 0xa5), 0, 64, p * pageSize);
  } finally {
    closeSync(fd);
  }
}

test('backup while thousands of messages are accepted and sent: the copy is consistent and holds every message committed before it began', async (t) => {
  const tmp = tempDir('relais-backup-');
  const sim = await startSimulator({ systemId: 'airtel', password: 'pw', receiptDelayMs: 10 });
  const gw = await startGateway([{ name: 'airtel', binds: [{ port: sim.port, tps: 2000, window: 50 }] }], {}, join(tmp.dir, 'relais.db'));
  try {
    // A database of some size first, so the copy takes many steps.
    const committed: number[] = [];
    for (let b = 0; b < 20; b++) committed.push(...(await gw.send(numbers(1000, '+24162', b * 1000), `before the backup ${b}`)));
    // A writer that keeps accepting sends (each a transaction of 250 messages) until told to stop.
    let stop = false;
    let batch = 20_000;
    let duringBackup = 0;
    let backingUp = false;
    const writer = (async () => {
      while (!stop) {
        const ids = await gw.send(numbers(250, '+24162', batch), 'during the backup');
        batch += 250;
        if (backingUp) duringBackup += ids.length;
        else committed.push(...ids);
        // A turn of the event loop between sends, as between HTTP requests (a send of 250 never yields on its own).
        await new Promise((r) => setImmediate(r));
      }
    })();
    await waitFor(() => batch >= 21_000, 10_000, 'the writer running');

    // Everything the writer committed up to here is in `committed`: the backup starts now.
    backingUp = true;
    const liveBefore = count(gw.config.database.path);
    mkdirSync(join(tmp.dir, 'copies'));
    const target = join(tmp.dir, 'copies', 'copy.db');
    let steps = 0;
    const r = await backupDatabase(gw.config.database.path, target, { pagesPerStep: 20, onStep: () => void steps++ });
    backingUp = false;
    const liveAfter = count(gw.config.database.path);
    stop = true;
    await writer;

    t.diagnostic(`copy of ${r.bytes} bytes in ${r.steps} steps of 20 pages, ${r.totalMs.toFixed(0)} ms; ${duringBackup} messages accepted meanwhile; ${liveBefore} in the database at the start, ${liveAfter} at the end`);
    assert.equal(r.integrity, 'ok');
    assert.ok(r.steps >= 30 && steps === r.steps, `copied in many small steps (${r.steps} steps of 20 pages, ${r.pages} pages)`);
    assert.ok(duringBackup > 0 && liveAfter > liveBefore, `the database kept taking writes during the backup (${duringBackup} messages accepted meanwhile)`);
    assert.equal(r.path, target);
    assert.ok(existsSync(target) && !listing(join(tmp.dir, 'copies')).some((f) => f !== 'copy.db'), 'only the finished copy in the directory, no temporary file');
    assert.equal(statSync(target).mode & 0o777, 0o600, 'readable by its owner only (it holds password hashes)');

    // Read the copy on its own: checked again, a single file (no -wal), every message committed before the backup.
    const again = inspectCopy(target);
    assert.equal(again.integrity, 'ok');
    assert.equal(again.schemaVersion, NAMES.at(-1));
    assert.ok(!existsSync(`${target}-wal`));
    const inCopy = readOnly(target, (db) => new Set((db.prepare('SELECT id FROM messages').all() as { id: number }[]).map((m) => m.id)));
    const missing = committed.filter((id) => !inCopy.has(id));
    assert.deepEqual(missing.slice(0, 5), [], `${missing.length} of the ${committed.length} messages committed before the backup missing from it`);
    t.diagnostic(`${inCopy.size} messages in the copy, all ${committed.length} committed before it began among them`);
    assert.ok(inCopy.size >= liveBefore && inCopy.size <= liveAfter, `one instant of the database: ${liveBefore} <= ${inCopy.size} <= ${liveAfter}`);
    // Transactions are whole in it: a message is never 'sent' or 'delivered' without the part the same transaction wrote.
    const torn = readOnly(target, (db) => db.prepare("SELECT count(*) AS n FROM messages m WHERE m.status IN ('sent', 'delivered') AND NOT EXISTS (SELECT 1 FROM message_parts p WHERE p.message_id = m.id)").get() as { n: number });
    assert.equal(torn.n, 0);
    const sent = readOnly(target, (db) => (db.prepare("SELECT count(*) AS n FROM messages WHERE status IN ('sent', 'delivered')").get() as { n: number }).n);
    assert.ok(sent > 0, 'the copy caught the dispatcher at work too');
    assert.equal(r.tables.find((t) => t.name === 'messages')!.rows, inCopy.size);
  } finally {
    await gw.cleanup();
    await sim.stop();
    tmp.cleanup();
  }
});

test('backup refuses to overwrite a file unless forced, and a failed backup leaves nothing behind', async () => {
  const tmp = tempDir('relais-backup-');
  try {
    const db = join(tmp.dir, 'relais.db');
    const store = openStore(db);
    await migrate(store);
    await store.close();
    const target = join(tmp.dir, 'copy.db');
    writeFileSync(target, 'precious');
    await assert.rejects(backupDatabase(db, target), (err: Error) => err instanceof BackupError && /exists: refusing to overwrite it \(--force replaces it\)/.test(err.message));
    assert.equal(readFileSync(target, 'utf8'), 'precious');
    const r = await backupDatabase(db, target, { force: true });
    assert.equal(r.integrity, 'ok');
    assert.equal(inspectCopy(target).schemaVersion, NAMES.at(-1));
    await assert.rejects(backupDatabase(join(tmp.dir, 'nothing.db'), join(tmp.dir, 'x.db')), /no database at/);
    await assert.rejects(backupDatabase(db, join(tmp.dir, 'no', 'such', 'dir.db')), /does not exist/);
    // A source that is not a database: no copy, no temporary file.
    writeFileSync(join(tmp.dir, 'junk.db'), Buffer.alloc(8192, 7));
    await assert.rejects(backupDatabase(join(tmp.dir, 'junk.db'), join(tmp.dir, 'junk-copy.db')), BackupError);
    assert.deepEqual(listing(tmp.dir).filter((f) => !['relais.db', 'relais.db-shm', 'relais.db-wal', 'copy.db', 'junk.db'].includes(f)), []);
  } finally {
    tmp.cleanup();
  }
});

test('timed copies in a directory, and --keep-days deletes only the old ones of that database', async () => {
  const tmp = tempDir('relais-backup-');
  try {
    const dir = join(tmp.dir, 'copies');
    const db = join(tmp.dir, 'relais.db');
    const now = new Date(Date.UTC(2026, 11, 1, 3, 17, 5));
    const { path, directory } = resolveBackupTarget(`${dir}/`, db, now);
    assert.equal(path, join(dir, 'relais-20261201T031705Z.db'));
    assert.equal(directory, `${dir}/`);
    for (const name of ['relais-20261115T031700Z.db', 'relais-20261124T031700Z.db', 'relais-20261125T031700Z.db', 'other-20200101T000000Z.db', 'relais-notes.txt', 'relais-20261201T031705Z.db']) writeFileSync(join(dir, name), 'x');
    assert.deepEqual(pruneBackups(dir, db, 7, now, path), ['relais-20261115T031700Z.db', 'relais-20261124T031700Z.db']);
    assert.deepEqual(listing(dir), ['other-20200101T000000Z.db', 'relais-20261125T031700Z.db', 'relais-20261201T031705Z.db', 'relais-notes.txt']);
  } finally {
    tmp.cleanup();
  }
});

/** A TCP port nothing listens on (a bind to it keeps failing and retrying). */
async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

test('restore refuses a damaged copy, a newer one and a database in use; restores a good copy and keeps the replaced file aside', async () => {
  const tmp = tempDir('relais-restore-');
  const airtel = await startSimulator({ systemId: 'airtel', password: 'pw', receiptDelayMs: 10 });
  const dbPath = join(tmp.dir, 'relais.db');
  // moov is unreachable at first: its messages stay queued until the restore.
  const start = (moovPort: number) => startGateway([{ name: 'airtel', binds: [{ port: airtel.port }] }, { name: 'moov', binds: [{ port: moovPort }] }], {}, dbPath);
  let moov: SmscSimulator | null = null;
  let gw: Gateway | null = await start(await deadPort());
  try {
    const early = await gw.send(numbers(300), 'before the backup');
    await gw.waitFinal(early);
    const queuedAtBackup = await gw.send(numbers(50, '+24177'), 'queued when the copy was made');
    const good = join(tmp.dir, 'good.db');
    await backupDatabase(dbPath, good);
    const goodHash = sha(good);
    const later = await gw.send(numbers(200, '+24162', 2000), 'after the backup');
    await gw.waitFinal(later);
    assert.equal(count(good), 350);
    assert.deepEqual(readOnly(good, (db) => db.prepare("SELECT status, count(*) AS n FROM messages WHERE recipient LIKE '+24177%' GROUP BY status").all()), [{ status: 'queued', n: 50 }]);

    // While the daemon runs: refused, by its HTTP port, or (port unknown) by the lock on the file.
    await assert.rejects(restoreDatabase(dbPath, good, { daemonUrl: gw.url }), /the daemon answers at http:\/\/127\.0\.0\.1:\d+: stop it first/);
    await assert.rejects(restoreDatabase(dbPath, good, { daemonUrl: null }), /relais\.db is open in another process .*stop it first/);
    assert.deepEqual(listing(tmp.dir).filter((f) => f.includes('replaced') || f.includes('restore')), [], 'nothing moved, no temporary file left');
    assert.equal(count(dbPath), 550, 'the live database untouched');
    await gw.stop();
    gw = null;

    // Another process holding the database open (a `relais send --wait`, a second daemon): refused too.
    const holder = spawn(process.execPath, ['-e', `const db = new (require('better-sqlite3'))(${JSON.stringify(dbPath)}, { readonly: true }); db.prepare('select count(*) from messages').get(); console.log('open'); setTimeout(() => {}, 60000);`], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      await new Promise((resolve) => holder.stdout!.once('data', resolve));
      await assert.rejects(restoreDatabase(dbPath, good), /is open in another process/);
    } finally {
      holder.kill('SIGKILL');
      await new Promise((resolve) => holder.once('exit', resolve));
    }

    const hash = sha(dbPath);
    const files = listing(tmp.dir);
    const untouched = (added: string) => {
      assert.equal(sha(dbPath), hash, 'the current database is byte for byte as it was');
      assert.deepEqual(listing(tmp.dir), [...files, added].sort(), 'no file added, moved or left behind');
      files.push(added);
    };

    const damaged = join(tmp.dir, 'damaged.bin');
    copyFileSync(good, damaged);
    damage(damaged);
    await assert.rejects(restoreDatabase(dbPath, damaged), (err: Error) => err instanceof BackupError && /the copy (is damaged \(integrity_check: .+\): refusing it, the database is unchanged|is not a usable SQLite database)/.test(err.message));
    untouched('damaged.bin');

    const junk = join(tmp.dir, 'junk.bin');
    writeFileSync(junk, Buffer.alloc(100_000, 0x42));
    await assert.rejects(restoreDatabase(dbPath, junk), /junk\.bin is not a SQLite database/);
    untouched('junk.bin');

    const newer = join(tmp.dir, 'newer.bin');
    copyFileSync(good, newer);
    const w = new SQLite(newer);
    w.prepare('INSERT INTO kysely_migration (name, timestamp) VALUES (?, ?)').run('999_from_a_newer_version', new Date().toISOString());
    w.close();
    await assert.rejects(restoreDatabase(dbPath, newer), /the copy comes from a newer Relais \(migrations unknown to this version: 999_from_a_newer_version\)/);
    untouched('newer.bin');

    // The good copy: in place, the replaced database aside with everything written after the copy.
    const r = await restoreDatabase(dbPath, good, { now: new Date(Date.UTC(2026, 11, 1, 12, 0, 0)) });
    assert.equal(r.replaced, `${dbPath}.replaced-20261201T120000Z`);
    assert.deepEqual(r.pending, []);
    assert.equal(r.restored.integrity, 'ok');
    assert.equal(sha(dbPath), goodHash, 'the database is now the copy');
    assert.equal(sha(r.replaced!), hash, 'the replaced file kept as it was');
    assert.equal(count(r.replaced!), 550);
    assert.ok(!existsSync(`${dbPath}-wal`) && !existsSync(`${dbPath}-shm`), 'no -wal or -shm of the old file beside the new one');
    assert.equal(sha(good), goodHash, 'the backup file itself is left as it is');
    assert.deepEqual(listing(tmp.dir).filter((f) => f.startsWith('.')), [], 'no temporary file left');

    // The daemon starts on the restored copy, moov reachable now: what was queued then is delivered.
    moov = await startSimulator({ systemId: 'moov', password: 'pw', receiptDelayMs: 10 });
    gw = await start(moov.port);
    const rows = await gw.waitFinal(queuedAtBackup);
    assert.ok(rows.every((m) => m.status === 'delivered'), JSON.stringify(rows.filter((m) => m.status !== 'delivered').slice(0, 3)));
    assert.equal(count(dbPath), 350, 'messages accepted after the copy are not in it (they are in the replaced file)');
  } finally {
    await gw?.stop();
    await airtel.stop();
    await moov?.stop();
    tmp.cleanup();
  }
});

test('restore takes a copy from an older version (migrated at the next start), and onto a box with no database yet', async () => {
  const tmp = tempDir('relais-restore-');
  try {
    const old = join(tmp.dir, 'old.db');
    const store = openStore(old);
    const { error } = await new Migrator({ db: store.db, provider: { getMigrations: async () => migrations } }).migrateTo('007_campaigns');
    assert.equal(error, undefined);
    await store.close();
    const copy = join(tmp.dir, 'copy-007.db');
    await backupDatabase(old, copy);

    const dbPath = join(tmp.dir, 'state', 'relais.db');
    const r = await restoreDatabase(dbPath, copy);
    assert.equal(r.replaced, null);
    assert.equal(r.restored.schemaVersion, '007_campaigns');
    assert.deepEqual(r.pending, NAMES.slice(7));
    const restored = openStore(dbPath);
    try {
      assert.deepEqual(await migrate(restored), NAMES.slice(7));
    } finally {
      await restored.close();
    }
  } finally {
    tmp.cleanup();
  }
});

test('the CLI commands: what they print, exit codes, usage errors', async (t) => {
  const tmp = tempDir('relais-backup-cli-');
  const sim = await startSimulator({ systemId: 'airtel', password: 'pw' });
  const dbPath = join(tmp.dir, 'relais.db');
  let gw: Gateway | null = await startGateway([{ name: 'airtel', binds: [{ port: sim.port }] }], {}, dbPath);
  const out: string[] = [];
  const err: string[] = [];
  t.mock.method(console, 'log', (line: string) => void out.push(line));
  t.mock.method(console, 'error', (line: string) => void err.push(line));
  try {
    await gw.waitFinal(await gw.send(numbers(20), 'cli'));
    // The configuration as the CLI loads it: the daemon's real port, so restore can ask it.
    const config = testConfig(dbPath, [{ name: 'airtel', binds: [{ port: sim.port }] }], { http: { host: '127.0.0.1', port: Number(new URL(gw.url).port) } });
    const dir = join(tmp.dir, 'copies');
    assert.equal(await backupCommand(config, [`${dir}/`, '--keep-days', '7']), 0);
    const [copy] = readdirSync(dir);
    assert.match(copy!, /^relais-\d{8}T\d{6}Z\.db$/);
    const printed = out.join('\n');
    assert.match(printed, new RegExp(`^relais backup: ${join(dir, copy!).replaceAll('.', '\\.')} \\(from `));
    assert.match(printed, /\n {2}size {8}\d+ bytes \(\d+\.\d MiB\)\n {2}integrity {3}ok\n/);
    assert.match(printed, new RegExp(`\\n {2}schema {6}${NAMES.at(-1)} \\(${NAMES.length} migrations applied\\)\\n`));
    assert.match(printed, /\n {2}messages {4}20 \(delivered 20\)\n {2}rows {8}message_parts 20, accounts 1, /);
    assert.match(printed, /\n {2}took {8}\d+\.\d\d s \(copy \d+\.\d\d s: \d+ pages in \d+ steps; check \d+\.\d\d s\)\n {2}pruned {6}nothing \(copies older than 7 days\)$/);

    await assert.rejects(backupCommand(config, []), UsageError);
    await assert.rejects(backupCommand(config, [join(tmp.dir, 'one.db'), '--keep-days', '3']), /--keep-days needs a DIRECTORY/);
    await assert.rejects(backupCommand(config, [`${dir}/`, '--keep-days', 'soon']), /whole number of days/);
    await assert.rejects(backupCommand(config, [join(tmp.dir, 'x.db'), '--bogus']), { code: 'ERR_PARSE_ARGS_UNKNOWN_OPTION' });
    assert.equal(await backupCommand(config, [join(dir, copy!)]), 1);
    assert.match(err.at(-1)!, /^relais backup: FAILED: .* exists: refusing to overwrite it \(--force replaces it\)$/);

    assert.equal(await restoreCommand(config, [join(dir, copy!)]), 1);
    assert.match(err.at(-1)!, /^relais restore: FAILED: the daemon answers at http:\/\/127\.0\.0\.1:\d+: stop it first \(systemctl stop relais\), then restore$/);
    await gw.stop();
    gw = null;
    out.length = 0;
    assert.equal(await restoreCommand(config, [join(dir, copy!)]), 0);
    assert.match(out.join('\n'), /^relais restore: .*relais\.db is now the copy .*\n {2}size .*\n {2}integrity {3}ok\n(.|\n)*\n {2}replaced {4}kept as .*relais\.db\.replaced-\d{8}T\d{6}Z\n/);
    await assert.rejects(restoreCommand(config, []), UsageError);
  } finally {
    t.mock.restoreAll();
    await gw?.stop();
    await sim.stop();
    tmp.cleanup();
  }
});
