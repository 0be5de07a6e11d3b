/** The campaign model every dialect shares: audience, schedule, counters derived from message states. */
import type { CampaignRecord, RunRecord, VariantRecord } from '../../store/campaigns.js';
import type { MessageState } from '../../store/tables.js';

export type { CampaignRecord, RunRecord, VariantRecord };

/** Who a campaign is for: explicit numbers and contacts, whole groups, segments. */
export interface Audience {
  numbers?: string[] | undefined;
  contact_ids?: number[] | undefined;
  /** Contacts by uuid (Mifumo knows contacts by their uuid). */
  contact_uuids?: string[] | undefined;
  group_ids?: number[] | undefined;
  segment_ids?: number[] | undefined;
}

export const FREQUENCIES = ['once', 'daily', 'weekly', 'monthly'] as const;
export type Frequency = (typeof FREQUENCIES)[number];

/** A recurring schedule, in the account's time zone (SendWave's POST /campaigns/{id}/schedule). */
export interface Schedule {
  frequency: Frequency;
  /** 0 = Sunday … 6 = Saturday (weekly). */
  day_of_week?: number | undefined;
  /** 1–31 (monthly; default: the start date's day). */
  day_of_month?: number | undefined;
  /** HH:MM, local. */
  time: string;
  /** YYYY-MM-DD, local: no run before it. */
  start_date?: string | undefined;
  /** YYYY-MM-DD, local: no run after it. */
  end_date?: string | undefined;
  is_active: boolean;
  timezone: string;
}

export interface Counters {
  /** Recipients kept after deduplication and removals, over every run. */
  total: number;
  /** Not yet submitted (including recipients still to be expanded, and paused messages). */
  queued: number;
  /** Accepted by an SMSC. */
  sent: number;
  delivered: number;
  /** Ended without being delivered (rejected, undelivered, expired, failed). */
  failed: number;
  cancelled: number;
  /** Left out: invalid, no route, blacklisted, opted out. */
  removed: number;
  duplicates: number;
  /** delivered / sent, in percent. */
  delivery_rate: number;
}

export interface VariantCounters extends Omit<Counters, 'removed' | 'duplicates'> {
  variant: VariantRecord;
}

export interface CampaignDetail {
  campaign: CampaignRecord;
  audience: Audience;
  schedule: Schedule | null;
  variants: VariantCounters[];
  counters: Counters;
  runs: RunRecord[];
}

const FAILED: MessageState[] = ['failed', 'undelivered', 'rejected', 'expired'];
const WAITING: MessageState[] = ['queued', 'submitting', 'paused'];

export interface StatusCount {
  status: MessageState;
  variant_id: number | null;
  n: number;
  sent: number;
}

/** Counters of some messages (all of a campaign, or one variant's) from their states. */
export function countStates(rows: readonly StatusCount[], notYetExpanded: number, total: number): Omit<Counters, 'removed' | 'duplicates'> {
  let queued = notYetExpanded, sent = 0, delivered = 0, failed = 0, cancelled = 0;
  for (const r of rows) {
    sent += r.sent;
    if (WAITING.includes(r.status)) queued += r.n;
    else if (r.status === 'delivered') delivered += r.n;
    else if (FAILED.includes(r.status)) failed += r.n;
    else if (r.status === 'cancelled') cancelled += r.n;
  }
  return { total, queued, sent, delivered, failed, cancelled, delivery_rate: sent ? Math.round((delivered / sent) * 10_000) / 100 : 0 };
}

/**
 * Smooth weighted round robin: at each position, the variant furthest behind its share. Over
 * any number of recipients every variant gets its exact share, within one (300/700 of 1 000 at
 * 30/70), and the same positions always get the same variants.
 */
export class VariantSplitter {
  private readonly current: number[];

  constructor(private readonly weights: readonly number[]) {
    this.current = weights.map(() => 0);
  }

  /** The variant index for the next position. */
  next(): number {
    const total = this.weights.reduce((a, b) => a + b, 0);
    let best = 0;
    for (let i = 0; i < this.weights.length; i++) {
      this.current[i]! += this.weights[i]!;
      if (this.current[i]! > this.current[best]!) best = i;
    }
    this.current[best]! -= total;
    return best;
  }
}
