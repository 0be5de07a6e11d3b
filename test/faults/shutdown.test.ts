/**
 * SIGTERM's path with an SMSC that stopped answering: the stop ends within the configured grace
 * (not after every queued part has timed out in turn), nothing is left mid-submit, parts never
 * sent are re-queued as they were, parts sent and unanswered are re-queued as possible
 * duplicates, and a start against a healthy SMSC sends them all.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { sql } from 'kysely';
import { openStore } from '../../src/store/db.js';
import { startGateway, startSimulator, tempDir, waitFor } from '../support/harness.js';
import { accountingHolds } from './accounting.js';

test('a stop with a hung SMSC ends within the grace; what was in the window is re-queued and sent after a restart', async () => {
  const tmp = tempDir();
  const dbPath = join(tmp.dir, 'relais.db');
  const hung = await startSimulator({ systemId: 'airtel', password: 'pw', faults: { noAnswerShare: 1 } });
  const config = { dispatcher: { poll_interval_ms: 10, shutdown_grace: 1, retry_initial: 0.1, retry_max: 0.5 } };
  const gw = await startGateway([{ name: 'airtel', binds: [{ port: hung.port, window: 10, tps: 200, response_timeout: 30 }] }], config, dbPath);
  let healthy: Awaited<ReturnType<typeof startSimulator>> | null = null;
  try {
    await waitFor(() => gw.binds[0]!.state === 'bound');
    const ids = await gw.send(Array.from({ length: 200 }, (_, i) => `+24162${String(i).padStart(6, '0')}`), 'grace');
    await waitFor(() => gw.binds[0]!.windowUsed === 10, 5000, 'a full window the SMSC does not answer');
    const started = Date.now();
    const stopped = await Promise.race([gw.stop().then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 10_000))]);
    const elapsed = Date.now() - started;
    assert.ok(stopped, 'the stop ended (it took 10 s or more)');
    assert.ok(elapsed < 3000, `the stop took ${elapsed} ms with a 1 s grace`);

    const store = openStore(dbPath);
    const rows = (await sql<{ status: string; attempts: number; n: number }>`select status, attempts, count(*) as n from messages group by status, attempts order by attempts`.execute(store.db)).rows;
    await store.close();
    assert.deepEqual(rows.map((r) => [r.status, r.attempts, Number(r.n)]), [['queued', 0, 190], ['queued', 1, 10]], 'ten sent and unanswered (one attempt), the rest untouched');

    healthy = await startSimulator({ systemId: 'airtel', password: 'pw' });
    await hung.stop();
    const again = await startGateway([{ name: 'airtel', binds: [{ port: healthy.port }] }], config, dbPath);
    try {
      const final = await again.waitFinal(ids, 20_000);
      assert.ok(final.every((r) => r.status === 'delivered'));
      assert.equal(healthy.received.length, 200, 'every message reaches the SMSC again, the ten possible duplicates included');
      await accountingHolds(again, { smscs: [hung, healthy], accepted: ids, ready: true });
    } finally {
      await again.cleanup();
    }
  } finally {
    await gw.stop();
    await hung.stop();
    await healthy?.stop();
    tmp.cleanup();
  }
});
