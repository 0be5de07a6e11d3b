/**
 * The ledger on a real SQLite file: a receipt that came before its submit_sm_resp is parked, and a
 * flush that rolls back (a full disk, here a trigger that refuses the parked row's delete) must leave it
 * parked, so the outcome written on the next try still finds it. Before the fix the flush took it
 * out of memory first, and the message waited for a receipt that had already come (the disk-full
 * fault test caught it once in CI as 350 messages never final).
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { sql } from 'kysely';
import { Ledger } from '../../src/dispatch/ledger.js';
import { createLogger } from '../../src/log.js';
import { migrate, openStore } from '../../src/store/db.js';
import { tempDir } from '../support/harness.js';

test('a parked early receipt survives a flush that rolls back: the outcome retried later still ends the message delivered', async () => {
  const tmp = tempDir();
  const store = openStore(join(tmp.dir, 'ledger.db'));
  try {
    await migrate(store);
    const now = Date.now();
    const [id] = await store.transaction((tx) => tx.queue.insert([{
      account_id: null, sub_account_id: null, sender: 'Relais', recipient: '+24162000001', body: 'early receipt', encoding: 'gsm7', parts: 1,
      operator: 'airtel', failover: null, not_before: 0, expires_at: now + 3_600_000, cost: 0, created_at: now, webhook_url: null,
    }]));
    const claimed = await store.transaction((tx) => tx.queue.claim('airtel', [], Date.now(), 10, { node: 'test', until: Date.now() + 10_000 }));
    assert.deepEqual(claimed.map((m) => m.id), [id]);
    const ledger = new Ledger({ store, node: 'test', optOutKeywords: [], log: createLogger('silent') });
    const acks: (number | undefined)[] = [];

    // The receipt first: no part matches yet, so it is parked.
    ledger.pushReceipt({ operator: 'airtel', bind: 'airtel-1', smscId: 'abc123', stat: 'DELIVRD', err: '000', text: 'id:abc123 stat:DELIVRD err:000' }, (s) => acks.push(s));
    await ledger.flush();
    assert.deepEqual(acks, [undefined], 'acknowledged once parked');

    // Then its submit_sm_resp, in a flush that cannot commit — failing after the parked receipt was
    // taken (a full disk fails wherever a page is needed; here the parked row's delete).
    await sql`create trigger refuse_unpark before delete on pending_receipts begin select raise(abort, 'database or disk is full'); end`.execute(store.db);
    const outcome = {
      id: id!, operator: 'airtel', bind: 'airtel-1', acked: [{ partNo: 1, smscId: 'abc123', rawId: 'ABC123' }], mask: 0,
      accountId: null, recipient: '+24162000001', webhookUrl: null, createdAt: now, kind: 'sent' as const, firstRawId: 'ABC123',
    };
    ledger.pushOutcome(outcome);
    await ledger.flush();
    assert.equal((await store.repos.queue.states([id!]))[0]!.status, 'submitting', 'nothing committed');

    // Space returns: the kept outcome is written and finds its receipt.
    await sql`drop trigger refuse_unpark`.execute(store.db);
    await ledger.flush();
    const [row] = await store.repos.queue.states([id!]);
    assert.equal(row!.status, 'delivered');
    const part = await store.db.selectFrom('message_parts').select(['state', 'receipt_text']).where('message_id', '=', id!).executeTakeFirstOrThrow();
    assert.deepEqual(part, { state: 'DELIVRD', receipt_text: 'id:abc123 stat:DELIVRD err:000' });
    assert.equal((await store.db.selectFrom('pending_receipts').selectAll().execute()).length, 0, 'the parked row is gone too');
    await ledger.close();
  } finally {
    await store.close();
    tmp.cleanup();
  }
});
