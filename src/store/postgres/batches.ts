/**
 * The ledger's writes on PostgreSQL: a flush's dispatch outcomes and receipts as a few statements,
 * whatever its size.
 *
 * Why: the ledger flushes everything of the last few milliseconds in one transaction. On SQLite a
 * statement is a function call; on PostgreSQL it is a network round trip, and two per outcome and
 * two per receipt capped a node near 1 000 msg/s — below a bind's TPS, so under a big campaign
 * the unwritten backlog (and each flush's length) grew without end, and a one-off send waited
 * behind it. Here each kind of write takes its rows as arrays (`unnest`).
 */
import { sql, type Kysely } from 'kysely';
import type { Outcome, ReceiptHit, ReceiptUpdate } from '../queue.js';
import type { Executor, Prepared } from '../repo.js';
import { columns, prepareRaw } from './arrays.js';

type SentOutcome = Extract<Outcome, { kind: 'sent' }>;
type RetryOutcome = Extract<Outcome, { kind: 'retry' }>;
type FailedOutcome = Extract<Outcome, { kind: 'failed' }>;

/** Only claims still this node's change (`claimed_by`): another node may own a re-queued one now. */
const OWNED = sql`messages.id = v.id and messages.status = 'submitting' and messages.claimed_by = ${''}`;

export class BatchedWrites {
  private readonly parts: Prepared<unknown>;
  private readonly sent: Prepared<unknown>;
  private readonly retry: Prepared<unknown>;
  private readonly fail: Prepared<unknown>;
  private readonly partReceipts: Prepared<{ i: number; message_id: number }>;
  private readonly messageReceipts: Prepared<ReceiptHit>;

  constructor(db: Kysely<any>) {
    this.parts = prepareRaw(db, sql`
      insert into message_parts (message_id, part_no, operator, smsc_id, state, sent_at, raw_smsc_id)
      select v.id, v.part_no, v.operator, v.smsc_id, 'sent', ${0}, v.raw
      from unnest(${[]}::bigint[], ${[]}::bigint[], ${[]}::text[], ${[]}::text[], ${[]}::text[]) as v(id, part_no, operator, smsc_id, raw)
      on conflict (message_id, part_no) do update set smsc_id = excluded.smsc_id, raw_smsc_id = excluded.raw_smsc_id,
        operator = excluded.operator, sent_at = excluded.sent_at`);
    this.sent = prepareRaw(db, sql`
      update messages set status = 'sent', sent_at = ${0}, bind = v.bind, smsc_id = v.smsc_id, acked_mask = v.mask
      from unnest(${[]}::bigint[], ${[]}::text[], ${[]}::text[], ${[]}::bigint[]) as v(id, bind, smsc_id, mask)
      where ${OWNED}`);
    this.retry = prepareRaw(db, sql`
      update messages set status = 'queued', not_before = v.not_before, bind = v.bind, acked_mask = v.mask,
        error_code = v.error_code, error = v.error, attempts = attempts - v.uncounted
      from unnest(${[]}::bigint[], ${[]}::bigint[], ${[]}::text[], ${[]}::bigint[], ${[]}::bigint[], ${[]}::text[], ${[]}::bigint[])
        as v(id, not_before, bind, mask, error_code, error, uncounted)
      where ${OWNED}`);
    this.fail = prepareRaw(db, sql`
      update messages set status = v.state, done_at = ${0}, bind = v.bind, acked_mask = v.mask, error_code = v.error_code, error = v.error
      from unnest(${[]}::bigint[], ${[]}::text[], ${[]}::text[], ${[]}::bigint[], ${[]}::bigint[], ${[]}::text[])
        as v(id, state, bind, mask, error_code, error)
      where ${OWNED}`);
    this.partReceipts = prepareRaw(db, sql<{ i: number; message_id: number }>`
      update message_parts set state = v.stat, receipt_at = v.at, receipt_err = v.err, receipt_text = v.text
      from unnest(${[]}::bigint[], ${[]}::text[], ${[]}::text[], ${[]}::text[], ${[]}::bigint[], ${[]}::text[], ${[]}::text[])
        as v(i, operator, smsc_id, stat, at, err, text)
      where message_parts.operator = v.operator and message_parts.smsc_id = v.smsc_id and message_parts.receipt_at is null
      returning v.i, message_parts.message_id`);
    // The message ends when its last part reports (the counters of all its parts of this flush at once).
    const ends = sql`messages.status in ('sent', 'unconfirmed') and messages.final_parts + v.n >= messages.parts`;
    this.messageReceipts = prepareRaw(db, sql<ReceiptHit>`
      update messages set final_parts = final_parts + v.n, delivered_parts = delivered_parts + v.delivered,
        failed_state = coalesce(failed_state, v.failed),
        status = case when ${ends} then (case when delivered_parts + v.delivered >= parts then 'delivered' else coalesce(failed_state, v.failed) end) else status end,
        done_at = case when ${ends} then v.at else done_at end
      from unnest(${[]}::bigint[], ${[]}::bigint[], ${[]}::bigint[], ${[]}::text[], ${[]}::bigint[]) as v(id, n, delivered, failed, at)
      where messages.id = v.id
      returning messages.id, messages.status, messages.account_id, messages.recipient, messages.operator, messages.webhook_url,
        messages.parts, messages.done_at, messages.created_at`);
  }

  async apply(exec: Executor, outcomes: readonly Outcome[], now: number, node: string): Promise<void> {
    // One row per part: a second row for the same key would make the upsert fail as a whole.
    const parts = new Map<string, [number, number, string, string, string]>();
    for (const o of outcomes) for (const p of o.acked) parts.set(`${o.id}|${p.partNo}`, [o.id, p.partNo, o.operator, p.smscId, p.rawId]);
    if (parts.size) await this.parts.run(exec, [now, ...columns([...parts.values()], 5)]);

    const sent = outcomes.filter((o): o is SentOutcome => o.kind === 'sent');
    if (sent.length) await this.sent.run(exec, [now, ...columns(sent.map((o) => [o.id, o.bind, o.firstRawId, o.mask]), 4), node]);
    const retry = outcomes.filter((o): o is RetryOutcome => o.kind === 'retry');
    if (retry.length) {
      await this.retry.run(exec, [...columns(retry.map((o) => [o.id, o.notBefore, o.bind, o.mask, o.errorCode, o.error, o.countAttempt ? 0 : 1]), 7), node]);
    }
    const failed = outcomes.filter((o): o is FailedOutcome => o.kind === 'failed');
    if (failed.length) await this.fail.run(exec, [now, ...columns(failed.map((o) => [o.id, o.state, o.bind, o.mask, o.errorCode, o.error]), 6), node]);
  }

  /**
   * Final receipts: the messages they ended or advanced, and the receipts no unreceipted part
   * matched (early, or repeated: of two receipts for one part in a flush, the second misses, as it
   * would one statement after the other).
   */
  async receipts(exec: Executor, updates: readonly ReceiptUpdate[]): Promise<{ hits: ReceiptHit[]; missed: ReceiptUpdate[] }> {
    const first = new Map<string, number>();
    updates.forEach((u, i) => { if (!first.has(`${u.operator}|${u.smscId}`)) first.set(`${u.operator}|${u.smscId}`, i); });
    const tried = [...first.values()];
    const rows = tried.length
      ? await this.partReceipts.all(exec, columns(tried.map((i) => { const u = updates[i]!; return [i, u.operator, u.smscId, u.stat, u.at, u.err, u.text]; }), 7))
      : [];
    // A part id the SMSC repeated may match several parts: the receipt counts for one message.
    const matched = new Map<number, number>();
    for (const r of rows) if (!matched.has(r.i)) matched.set(r.i, r.message_id);
    const perMessage = new Map<number, PartsFinal>();
    for (const [i, messageId] of [...matched].sort((a, b) => a[0] - b[0])) {
      const u = updates[i]!;
      const m = perMessage.get(messageId) ?? { n: 0, delivered: 0, failed: null, at: u.at };
      m.n += 1;
      if (u.state === 'delivered') m.delivered += 1;
      else m.failed ??= u.state;
      m.at = Math.max(m.at, u.at);
      perMessage.set(messageId, m);
    }
    const hits = perMessage.size
      ? await this.messageReceipts.all(exec, columns([...perMessage].map(([id, m]) => [id, m.n, m.delivered, m.failed, m.at]), 5))
      : [];
    return { hits, missed: updates.filter((_, i) => !matched.has(i)) };
  }
}

/** Per message: how many of its parts reported final in this flush, how many delivered, the first failure. */
interface PartsFinal { n: number; delivered: number; failed: string | null; at: number }
