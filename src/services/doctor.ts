/**
 * `relais doctor`: proves the money adds up. Every balance equals the sum of its ledger; every
 * ledger row points at what it paid for (the messages of a send with their cost, the message of a
 * refund, the campaign run of a reservation, the order of a package, the lot of an expiry); every
 * sub-account spent what the ledger charged it. Reads only; lists what differs.
 */
import type { Store } from '../store/db.js';
import { authorize, type Actor } from './policy.js';

export interface Problem {
  kind: 'balance' | 'ledger_reference' | 'sub_account';
  account_id: number | null;
  detail: string;
}

export interface DoctorReport {
  ok: boolean;
  accounts: number;
  ledger_rows: number;
  problems: Problem[];
}

const PAGE = 1000;
const MAX_PROBLEMS = 1000;

export class DoctorService {
  constructor(private readonly store: Store) {}

  async check(actor: Actor): Promise<DoctorReport> {
    authorize(actor, 'operator.credits');
    const repo = this.store.repos.billing;
    const problems: Problem[] = [];
    for (const m of await repo.balanceMismatches()) {
      problems.push({ kind: 'balance', account_id: m.id, detail: `balance ${m.balance} but the ledger adds up to ${m.ledger} (${m.email})` });
    }
    let rows = 0;
    for (let after = 0; ;) {
      const page = await repo.ledgerPage(after, PAGE);
      for (const row of page) {
        const detail = await this.checkReference(row);
        if (detail && problems.length < MAX_PROBLEMS) problems.push({ kind: 'ledger_reference', account_id: row.account_id, detail: `ledger row ${row.id} (${row.reason} ${row.amount}, ${row.reference}): ${detail}` });
      }
      rows += page.length;
      if (page.length < PAGE) break;
      after = page[page.length - 1]!.id;
    }
    for (const s of await repo.subAccountMismatches()) {
      problems.push({ kind: 'sub_account', account_id: s.account_id, detail: `sub-account ${s.id} counts ${s.credits_used} spent, the ledger charged it ${s.charged}` });
    }
    return { ok: problems.length === 0, accounts: await repo.accountCount(), ledger_rows: rows, problems };
  }

  /** What is wrong with what a ledger row points at, or null. */
  private async checkReference(row: { account_id: number; amount: number; reason: string; reference: string | null }): Promise<string | null> {
    const repo = this.store.repos.billing;
    const ref = row.reference ?? '';
    let m: RegExpExecArray | null;
    if ((m = /^send:(\d+)-(\d+)$/.exec(ref))) {
      const [first, last] = [Number(m[1]), Number(m[2])];
      const found = await repo.messageRange(row.account_id, first, last);
      if (found.n !== last - first + 1) return `${last - first + 1} messages paid for, ${found.n} of them exist in this account`;
      if (found.cost !== -row.amount) return `the messages cost ${found.cost}`;
      return null;
    }
    if ((m = /^message:(\d+)$/.exec(ref))) {
      const msg = await repo.message(Number(m[1]));
      if (!msg || msg.account_id !== row.account_id) return 'no such message in this account';
      if (!msg.refunded || msg.cost !== row.amount) return `the message cost ${msg.cost}, refunded ${msg.refunded === 1}`;
      return null;
    }
    if ((m = /^campaign:(\d+):run:(\d+)$/.exec(ref))) {
      const run = await repo.run(Number(m[2]));
      if (!run || run.campaign_id !== Number(m[1]) || run.account_id !== row.account_id) return 'no such campaign run in this account';
      if (row.reason === 'reservation' && run.reserved !== -row.amount) return `the run reserved ${run.reserved}`;
      return null;
    }
    if ((m = /^campaign:(\d+):cancelled$/.exec(ref))) {
      const c = await repo.campaign(Number(m[1]));
      return c && c.account_id === row.account_id ? null : 'no such campaign in this account';
    }
    if ((m = /^order:(\d+)$/.exec(ref))) {
      const o = await repo.order(Number(m[1]));
      if (!o || o.account_id !== row.account_id || o.status !== 'confirmed') return 'no such confirmed order in this account';
      return o.credits === row.amount ? null : `the order is worth ${o.credits}`;
    }
    if ((m = /^lot:(\d+)$/.exec(ref))) {
      const lot = await repo.lot(Number(m[1]));
      return lot && lot.account_id === row.account_id ? null : 'no such credit lot in this account';
    }
    // Top-ups and adjustments carry free text; sends from before 0.2 a timestamp: nothing to point at.
    return null;
  }
}
