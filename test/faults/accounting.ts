/**
 * The accounting check every fault scenario ends with:
 * - every accepted message is in the database, in a final state (or in a state the scenario
 *   says is legitimate, e.g. `queued` behind an operator that stays down), none `submitting`;
 * - with the SMSCs given: what they accepted, minus the parts they accepted more than once,
 *   is exactly what the gateway recorded as accepted (part by part), and the duplicates are no
 *   more than the gateway counted as possible duplicates (`relais_possible_duplicates_total`);
 * - every balance equals its ledger (`relais doctor` finds no problem);
 * - `/readyz` answers.
 * Scenarios give each message its own recipient, so a part at the SMSC is known by its
 * destination and its concatenation sequence.
 */
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { cliActor } from '../../src/services/policy.js';
import type { SmscSimulator } from '../../src/smpp/simulator/simulator.js';
import { FINAL_STATES, type MessageState } from '../../src/store/tables.js';
import type { Gateway } from '../support/harness.js';

export type Audited = Pick<Gateway, 'store' | 'services' | 'url' | 'metrics'>;

export interface AccountingOptions {
  /** Every SMSC the messages went to: their received submit_sm are checked against the gateway's record. */
  smscs?: readonly SmscSimulator[];
  /** The gateway's count of possible duplicates, when its own metric does not hold it all (a run over several processes). */
  possibleDuplicates?: number;
  /** States a message may legitimately be left in besides the final ones (`queued`, `sent` without receipts asked for). */
  pending?: readonly MessageState[];
  /** The ids the gateway answered as accepted: each must be in the database. */
  accepted?: readonly number[];
  /** /readyz must say ready (200); by default it must answer, 200 or 503, with its JSON body. */
  ready?: boolean;
}

export interface AccountingReport {
  messages: number;
  byStatus: Record<string, number>;
  /** Parts the SMSCs accepted (duplicates included), and how many of those were repeats. */
  smscAccepted: number;
  duplicates: number;
  /** What the gateway counted as possible duplicates. */
  possibleDuplicates: number;
}

export async function accountingHolds(gw: Audited, opts: AccountingOptions = {}): Promise<AccountingReport> {
  const rows = await gw.store.db.selectFrom('messages').select(['id', 'status', 'recipient', 'acked_mask']).execute();
  const byStatus: Record<string, number> = {};
  for (const r of rows) byStatus[r.status] = (byStatus[r.status] ?? 0) + 1;
  assert.equal(byStatus.submitting ?? 0, 0, `no message left mid-submit: ${JSON.stringify(byStatus)}`);
  const allowed = new Set<string>([...FINAL_STATES, ...(opts.pending ?? [])]);
  const unsettled = Object.keys(byStatus).filter((s) => !allowed.has(s));
  assert.deepEqual(unsettled, [], `every message in a final state (or ${[...(opts.pending ?? [])].join(', ') || 'nothing else'}): ${JSON.stringify(byStatus)}`);
  if (opts.accepted) {
    const known = new Set(rows.map((r) => r.id));
    const lost = opts.accepted.filter((id) => !known.has(id));
    assert.deepEqual(lost.slice(0, 10), [], `${lost.length} accepted messages are not in the database`);
  }

  const possibleDuplicates = opts.possibleDuplicates ?? (await gw.metrics.possibleDuplicates.get()).values.reduce((n, v) => n + v.value, 0);
  let smscAccepted = 0;
  let duplicates = 0;
  if (opts.smscs) {
    // What the gateway recorded as accepted, part by part.
    const recorded = new Set<string>();
    const recipients = new Set<string>();
    for (const r of rows) {
      assert.ok(!recipients.has(r.recipient), `the scenario gives each message its own recipient (${r.recipient} twice)`);
      recipients.add(r.recipient);
      for (let part = 1, mask = r.acked_mask; mask > 0; part++, mask = Math.floor(mask / 2)) if (mask % 2 === 1) recorded.add(partKey(r.recipient, part));
    }
    const atSmsc = new Map<string, number>();
    for (const sim of opts.smscs) {
      for (const s of sim.received) {
        if (s.status !== 0) continue;
        smscAccepted++;
        const key = partKey(s.destination, s.concat?.sequence ?? 1);
        atSmsc.set(key, (atSmsc.get(key) ?? 0) + 1);
      }
    }
    duplicates = smscAccepted - atSmsc.size;
    const unrecorded = [...atSmsc.keys()].filter((k) => !recorded.has(k));
    const missing = [...recorded].filter((k) => !atSmsc.has(k));
    assert.deepEqual(unrecorded.slice(0, 10), [], `${unrecorded.length} parts accepted by the SMSC that the gateway does not count as sent`);
    assert.deepEqual(missing.slice(0, 10), [], `${missing.length} parts the gateway counts as sent never reached the SMSC`);
    assert.equal(smscAccepted - duplicates, recorded.size, 'SMSC accepted minus duplicates = sent');
    assert.ok(duplicates <= possibleDuplicates, `${duplicates} duplicates at the SMSC, the gateway counted ${possibleDuplicates} possible duplicates`);
  }

  const doctor = await gw.services.doctor.check(cliActor());
  assert.deepEqual(doctor.problems, [], 'every balance equals its ledger');

  const res = await fetch(`${gw.url}/readyz`);
  const body = (await res.json()) as { status?: string };
  if (opts.ready) assert.equal(res.status, 200, `ready: ${JSON.stringify(body)}`);
  else assert.ok(res.status === 200 || res.status === 503, `/readyz answered ${res.status}`);
  assert.equal(typeof body.status, 'string');
  return { messages: rows.length, byStatus, smscAccepted, duplicates, possibleDuplicates };
}

/** A part as the SMSC sees it: its destination (no "+") and its sequence in the message. */
const partKey = (recipient: string, part: number): string => `${recipient.replace(/^\+/, '')}|${part}`;

/** How many messages are in this state now. */
export async function countStatus(gw: Pick<Gateway, 'store'>, status: MessageState): Promise<number> {
  return Number((await sql<{ n: number }>`select count(*) as n from messages where status = ${status}`.execute(gw.store.db)).rows[0]!.n);
}
