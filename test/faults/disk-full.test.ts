/**
 * A database that cannot write (a full disk) while the gateway runs, and a start on one: writes
 * answer 503 in each dialect's shape and leave nothing half-accepted, reads go on, nothing is
 * claimed, the ledger keeps its batch, /readyz says not ready, and everything resumes by itself
 * when space returns. First with SQLite's own page cap (always), then with a real filesystem
 * that fills up (a small tmpfs, where this machine lets the test mount one).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { sql } from 'kysely';
import { accountIdOf, call, fund, registerAndLogin } from '../support/api.js';
import { numbers, startGateway, startSimulator, tempDir, waitFor, type Gateway } from '../support/harness.js';
import { accountingHolds } from './accounting.js';

const ready = async (gw: Gateway) => {
  const r = await fetch(`${gw.url}/readyz`);
  return { status: r.status, body: (await r.json()) as { status: string; database: { writable: boolean; reason: string | null } } };
};

async function messageCount(gw: Gateway): Promise<number> {
  return Number((await sql<{ n: number }>`select count(*) as n from messages`.execute(gw.store.db)).rows[0]!.n);
}

test('a database that stops taking writes: 503 in every dialect, nothing half-accepted, reads served, not ready; then it resumes by itself', async () => {
  const sim = await startSimulator({ systemId: 'airtel', password: 'pw', respDelayMs: 30 });
  const gw = await startGateway([{ name: 'airtel', binds: [{ port: sim.port, window: 50 }] }]);
  try {
    await waitFor(() => gw.binds[0]!.state === 'bound');
    const token = await registerAndLogin(gw, 'full@example.com');
    const accountId = await accountIdOf(gw, token);
    await fund(gw, accountId, 1_000_000);
    const warm = await call(gw, 'POST', '/api/messages/send', { token, body: { recipients: numbers(300), message: 'before' } });
    assert.equal(warm.status, 200, warm.text);

    // The disk fills while those 300 are in flight: their outcomes cannot be written either.
    const pages = Number((await sql<{ page_count: number }>`pragma page_count`.execute(gw.store.db)).rows[0]!.page_count);
    await sql.raw(`pragma max_page_count = ${pages}`).execute(gw.store.db);
    const balance = await gw.credits.balanceOf(accountId);
    const count = await messageCount(gw);

    const sendwave = await call(gw, 'POST', '/api/messages/send', { token, body: { recipients: numbers(2000, '+24162', 1000), message: 'x'.repeat(150) } });
    assert.equal(sendwave.status, 503, sendwave.text);
    assert.match(sendwave.json.message, /cannot write to its database/);
    assert.ok(Number(sendwave.headers.get('retry-after')) > 0);
    const mifumo = await call(gw, 'POST', '/api/integration/v1/sms/send/', { token, body: { recipients: numbers(2000, '+24162', 5000).map((n) => n), message: 'y'.repeat(150) } });
    assert.deepEqual([mifumo.status, mifumo.json.success, mifumo.json.error_code], [503, false, 'SERVICE_UNAVAILABLE']);
    assert.equal(await gw.credits.balanceOf(accountId), balance, 'nothing charged');
    assert.equal(await messageCount(gw), count, 'nothing half-accepted');

    const r = await ready(gw);
    assert.deepEqual([r.status, r.body.status, r.body.database.writable], [503, 'not ready', false]);
    assert.match(r.body.database.reason ?? '', /SQLITE_FULL/);
    assert.match(await (await fetch(`${gw.url}/metrics`)).text(), /relais_database_writable 0/);
    assert.equal((await call(gw, 'GET', '/api/contacts', { token })).status, 200, 'reads are served');
    assert.equal((await call(gw, 'GET', '/api/balance', { token })).status, 200);

    // Space returns: the next write commits, and everything carries on without a restart.
    await sql.raw('pragma max_page_count = 1073741823').execute(gw.store.db);
    await waitFor(async () => (await ready(gw)).status === 200, 10_000, 'ready again');
    const after = await call(gw, 'POST', '/api/messages/send', { token, body: { recipients: numbers(50, '+24162', 9000), message: 'after' } });
    assert.equal(after.status, 200, after.text);
    const accepted = [...warm.json.data.message_ids, ...after.json.data.message_ids];
    await gw.waitFinal(accepted, 30_000);
    await accountingHolds(gw, { smscs: [sim], accepted, ready: true });
  } finally {
    await gw.cleanup();
    await sim.stop();
  }
});

/** A small tmpfs the test can fill, or null where this machine does not let it mount one. */
function smallDisk(dir: string, mb: number): { unmount: () => void } | null {
  mkdirSync(dir, { recursive: true });
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${mb}m`, 'tmpfs', dir], { stdio: 'ignore' });
    return { unmount: () => execFileSync('umount', ['-l', dir], { stdio: 'ignore' }) };
  } catch {
    return null;
  }
}

/** Fills the filesystem holding `dir` to the last byte. */
function fill(dir: string): string {
  const file = join(dir, 'filler');
  const chunk = Buffer.alloc(256 * 1024, 1);
  let size = 0;
  for (;;) {
    try {
      writeFileSync(file, chunk, { flag: 'a' });
      size += chunk.length;
    } catch {
      break;
    }
  }
  for (let n = 4096; n >= 1; n = Math.floor(n / 2)) {
    try {
      writeFileSync(file, Buffer.alloc(n, 1), { flag: 'a' });
    } catch {
      // no room for that much: try less
    }
  }
  return file;
}

const tmp = tempDir('relais-disk-');
const disk = smallDisk(join(tmp.dir, 'disk'), 24);

test('a real filesystem that fills up, a restart on it (degraded, not dead), then space returning', { skip: disk ? false : 'this machine does not let the test mount a tmpfs' }, async () => {
  const dbPath = join(tmp.dir, 'disk', 'relais.db');
  const sim = await startSimulator({ systemId: 'airtel', password: 'pw' });
  let gw = await startGateway([{ name: 'airtel', binds: [{ port: sim.port }] }], {}, dbPath);
  try {
    await waitFor(() => gw.binds[0]!.state === 'bound');
    const token = await registerAndLogin(gw, 'tmpfs@example.com');
    const accountId = await accountIdOf(gw, token);
    await fund(gw, accountId, 10_000_000);
    const accepted: number[] = [];
    const filler = fill(join(tmp.dir, 'disk'));
    // The WAL may still have room for a while: send until the database says it is full.
    let refused = null as Awaited<ReturnType<typeof call>> | null;
    for (let i = 0; i < 200 && !refused; i++) {
      const r = await call(gw, 'POST', '/api/messages/send', { token, body: { recipients: numbers(500, '+24162', i * 500), message: `batch ${i} ${'z'.repeat(140)}` } });
      if (r.status === 200) accepted.push(...r.json.data.message_ids);
      else refused = r;
    }
    assert.ok(refused, 'the database filled up');
    assert.equal(refused.status, 503, refused.text);
    assert.equal((await ready(gw)).status, 503);
    const balance = await gw.credits.balanceOf(accountId);

    // Stopped and started again on the full disk: it starts, degraded.
    await gw.stop();
    gw = await startGateway([{ name: 'airtel', binds: [{ port: sim.port }] }], {}, dbPath);
    assert.equal((await call(gw, 'GET', '/api/balance', { token })).json.data.balance, balance, 'reads are served');
    const again = await call(gw, 'POST', '/api/messages/send', { token, body: { recipients: numbers(500, '+24162', 900_000), message: 'still full' } });
    assert.equal(again.status, 503, again.text);

    rmSync(filler);
    await waitFor(async () => (await ready(gw)).status === 200, 15_000, 'ready once space returns');
    await gw.waitFinal(accepted, 60_000);
    await accountingHolds(gw, { smscs: [sim], accepted, ready: true });
  } finally {
    await gw.cleanup();
    await sim.stop();
  }
});

test('cleanup of the small disk', () => {
  disk?.unmount();
  tmp.cleanup();
});
