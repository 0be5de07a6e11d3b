/**
 * One ledger flush of many outcomes, then one of many receipts, on the configured backend (SQLite
 * in npm test's first pass, PostgreSQL in its second, where they are written as array statements):
 * the same rows and events either way — parts of one message counted together, a repeated or
 * unknown receipt parked, an outcome of a claim this node no longer holds ignored.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { Ledger, type LedgerEvent } from '../../src/dispatch/ledger.js';
import { createLogger } from '../../src/log.js';
import { migrate, openDatabase } from '../../src/store/db.js';
import type { Outcome } from '../../src/store/queue.js';
import { tempDir, testDatabase } from '../support/harness.js';

test('a flush of outcomes and one of receipts: every row and event as written one by one', async () => {
  const tmp = tempDir();
  const store = openDatabase({ schema: 'public', pool_size: 4, synchronous: 'normal', ...testDatabase(join(tmp.dir, 'batch.db')) } as Parameters<typeof openDatabase>[0]);
  try {
    await migrate(store);
    const now = Date.now();
    const message = (recipient: string, parts: number) => ({
      account_id: null, sub_account_id: null, sender: 'Relais', recipient, body: 'x'.repeat(parts * 150), encoding: 'gsm7' as const, parts,
      operator: 'airtel', failover: null, not_before: 0, expires_at: now + 3_600_000, cost: 0, created_at: now, webhook_url: null,
    });
    const ids = await store.transaction((tx) => tx.queue.insert([message('+24162000001', 3), message('+24162000002', 2), message('+24162000003', 1), message('+24162000004', 1), message('+24162000005', 1)]));
    const [a, b, c, d, e] = ids as [number, number, number, number, number];
    const claimed = await store.transaction((tx) => tx.queue.claim('airtel', [], Date.now(), 10, { node: 'n1', until: Date.now() + 60_000 }));
    assert.equal(claimed.length, 5);

    const events: LedgerEvent[] = [];
    const ledger = new Ledger({ store, node: 'n1', optOutKeywords: [], log: createLogger('silent'), onEvents: (batch) => events.push(...batch) });
    const base = (id: number) => ({ id, operator: 'airtel', bind: 'airtel-1', mask: 0, accountId: null, recipient: '+241', webhookUrl: null, createdAt: now });
    const acked = (...smscIds: string[]) => smscIds.map((smscId, i) => ({ partNo: i + 1, smscId, rawId: smscId.toUpperCase() }));
    const outcomes: Outcome[] = [
      { ...base(a), acked: acked('a1', 'a2', 'a3'), mask: 7, kind: 'sent', firstRawId: 'A1' },
      { ...base(b), acked: acked('b1', 'b2'), mask: 3, kind: 'sent', firstRawId: 'B1' },
      { ...base(c), acked: [], kind: 'retry', notBefore: now + 5000, errorCode: 0x58, error: 'throttled', countAttempt: false },
      { ...base(d), acked: [], bind: null, kind: 'failed', state: 'expired', errorCode: null, error: 'validity period passed' },
    ];
    for (const o of outcomes) ledger.pushOutcome(o);
    // An outcome from a node that does not hold the claim (its lease ran out, another took over) changes nothing.
    const intruder = new Ledger({ store, node: 'n2', optOutKeywords: [], log: createLogger('silent') });
    intruder.pushOutcome({ ...base(e), acked: acked('e1'), mask: 1, kind: 'sent', firstRawId: 'E1' });
    await Promise.all([ledger.flush(), intruder.flush()]);

    const rows = async () => new Map((await store.db.selectFrom('messages').select(['id', 'status', 'attempts', 'not_before', 'error_code', 'smsc_id', 'acked_mask', 'final_parts', 'delivered_parts']).execute()).map((r) => [r.id, r]));
    let now1 = await rows();
    assert.deepEqual([a, b, c, d, e].map((id) => now1.get(id)!.status), ['sent', 'sent', 'queued', 'expired', 'submitting']);
    assert.deepEqual([now1.get(a)!.smsc_id, now1.get(a)!.acked_mask, now1.get(b)!.acked_mask], ['A1', 7, 3]);
    assert.deepEqual([now1.get(c)!.attempts, now1.get(c)!.not_before, now1.get(c)!.error_code], [0, now + 5000, 0x58], 'a retry that does not count gives its attempt back');
    const parts = await store.db.selectFrom('message_parts').select(['message_id', 'part_no', 'smsc_id', 'raw_smsc_id']).where('message_id', 'in', [a, b]).orderBy('message_id').orderBy('part_no').execute();
    assert.deepEqual(parts.map((p) => [p.message_id, p.part_no, p.smsc_id, p.raw_smsc_id]), [[a, 1, 'a1', 'A1'], [a, 2, 'a2', 'A2'], [a, 3, 'a3', 'A3'], [b, 1, 'b1', 'B1'], [b, 2, 'b2', 'B2']]);
    assert.deepEqual(events.map((ev) => ev.type === 'outcome' && ev.outcome.id), [a, b, c, d]);

    events.length = 0;
    const acks: string[] = [];
    const receipt = (smscId: string, stat: 'DELIVRD' | 'UNDELIV' | 'ENROUTE') =>
      ledger.pushReceipt({ operator: 'airtel', bind: 'airtel-1', smscId, stat, err: stat === 'DELIVRD' ? '000' : '001', text: `id:${smscId} stat:${stat}` }, () => acks.push(smscId));
    for (const [id, stat] of [['a1', 'DELIVRD'], ['b1', 'DELIVRD'], ['a2', 'DELIVRD'], ['a1', 'DELIVRD'], ['zz', 'DELIVRD'], ['b2', 'UNDELIV'], ['a3', 'ENROUTE']] as const) receipt(id, stat);
    await ledger.flush();
    now1 = await rows();
    assert.deepEqual([now1.get(a)!.status, now1.get(a)!.final_parts, now1.get(a)!.delivered_parts], ['sent', 2, 2], 'two of three parts final; ENROUTE changes nothing');
    assert.deepEqual([now1.get(b)!.status, now1.get(b)!.final_parts, now1.get(b)!.delivered_parts], ['undelivered', 2, 1]);
    assert.deepEqual(events.map((ev) => ev.type === 'final' && [ev.message.id, ev.state]), [[b, 'undelivered']], 'one final event, for the message that ended');
    const parked = await store.db.selectFrom('pending_receipts').select('smsc_id').orderBy('smsc_id').execute();
    assert.deepEqual(parked.map((p) => p.smsc_id), ['a1', 'zz'], 'the repeated and the unknown receipt are parked');
    assert.equal(acks.length, 7, 'every receipt acknowledged once the flush committed');

    events.length = 0;
    receipt('a3', 'DELIVRD');
    await ledger.flush();
    assert.equal((await rows()).get(a)!.status, 'delivered');
    assert.deepEqual(events.map((ev) => ev.type === 'final' && [ev.message.id, ev.state]), [[a, 'delivered']]);
    await Promise.all([ledger.close(), intruder.close()]);
  } finally {
    await store.close();
    tmp.cleanup();
  }
});
