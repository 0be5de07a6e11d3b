/**
 * Collecting a run's audience: explicit numbers, contacts, groups and segments are read a page
 * at a time, planned like any send (normalized, routed, blacklist and opt-out removed,
 * personalized and priced per recipient), deduplicated against what the run has staged, given
 * their variant, and staged — a bounded chunk per transaction, with a turn of the event loop
 * between chunks, so a million recipients never sit in memory and the API keeps answering.
 */
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import type { ContactSource, SegmentFilter } from '../../store/contacts.js';
import type { StagedRecipient, VariantRecord } from '../../store/campaigns.js';
import type { Store } from '../../store/db.js';
import type { MessageService, Planned, RecipientError } from '../messages.js';
import { VariantSplitter, type Audience } from './model.js';

const CHUNK = 1000;
/** Left-out recipients a run remembers with their reason (for an answer that lists them). */
const KEEP_REJECTED = 1000;

export interface Rejected {
  recipient: string;
  error: RecipientError;
  reason: string;
}

export interface Collected {
  total: number;
  removed: number;
  duplicates: number;
  cost: number;
  /** The first left-out explicit numbers, with why. */
  rejected: Rejected[];
}

export interface CollectRequest {
  runId: number;
  accountId: number;
  sender: string;
  message: string;
  audience: Audience;
  variants: readonly VariantRecord[];
}

export class AudienceCollector {
  constructor(private readonly store: Store, private readonly messages: MessageService) {}

  async collect(req: CollectRequest): Promise<Collected> {
    const run = new StagingRun(this.store, this.messages, req);
    await run.addNumbers(req.audience.numbers ?? []);
    for (const source of await this.sources(req.accountId, req.audience)) await run.addContacts(source);
    return run.result();
  }

  private async sources(accountId: number, a: Audience): Promise<ContactSource[]> {
    const out: ContactSource[] = [];
    if (a.contact_ids?.length) out.push({ ids: a.contact_ids });
    if (a.contact_uuids?.length) out.push({ uuids: a.contact_uuids });
    if (a.group_ids?.length) out.push({ groupIds: a.group_ids });
    for (const id of a.segment_ids ?? []) {
      const segment = await this.store.repos.segments.get(accountId, id);
      if (segment) out.push({ segment: JSON.parse(segment.filter) as SegmentFilter });
    }
    return out;
  }
}

/** One run's staging: positions, variants and totals carried from chunk to chunk. */
class StagingRun {
  private pos = 0;
  private readonly totals: Collected = { total: 0, removed: 0, duplicates: 0, cost: 0, rejected: [] };
  private readonly splitter: VariantSplitter | null;

  constructor(private readonly store: Store, private readonly messages: MessageService, private readonly req: CollectRequest) {
    this.splitter = req.variants.length ? new VariantSplitter(req.variants.map((v) => v.percentage)) : null;
  }

  async addNumbers(numbers: readonly string[]): Promise<void> {
    for (let i = 0; i < numbers.length; i += CHUNK) await this.addChunk(numbers.slice(i, i + CHUNK));
  }

  async addContacts(source: ContactSource): Promise<void> {
    for (let after = 0; ;) {
      const page = await this.store.repos.contacts.sourcePage(this.req.accountId, source, after, CHUNK);
      if (!page.length) return;
      await this.addChunk(page.map((c) => c.phone));
      after = page[page.length - 1]!.id;
    }
  }

  result(): Collected {
    return { ...this.totals, rejected: [...this.totals.rejected] };
  }

  private async addChunk(phones: readonly string[]): Promise<void> {
    const planned = await this.plan(phones, this.req.message);
    const fresh = await this.fresh(planned);
    const rows = await this.personalize(fresh);
    await this.store.transaction((tx) => tx.campaigns.stage(this.req.runId, rows));
    for (const r of rows) this.totals.cost += r.cost;
    this.totals.total += rows.length;
    await yieldToLoop();
  }

  private plan(phones: readonly string[], text: string): Promise<Planned[]> {
    return this.messages.plan({ accountId: this.req.accountId, sender: this.req.sender, recipients: phones, text }).then((p) => p.planned);
  }

  /** Sendable recipients not staged yet (in this chunk or an earlier one), in order. */
  private async fresh(planned: readonly Planned[]): Promise<Extract<Planned, { ok: true }>[]> {
    const ok = planned.filter((p): p is Extract<Planned, { ok: true }> => p.ok);
    this.totals.removed += planned.length - ok.length;
    for (const p of planned) {
      if (!p.ok && this.totals.rejected.length < KEEP_REJECTED) this.totals.rejected.push({ recipient: p.input, error: p.error, reason: p.reason });
    }
    const staged = await this.store.repos.campaigns.staged(this.req.runId, ok.map((p) => p.e164));
    const seen = new Set<string>();
    const out = ok.filter((p) => {
      if (staged.has(p.e164) || seen.has(p.e164)) return false;
      seen.add(p.e164);
      return true;
    });
    this.totals.duplicates += ok.length - out.length;
    return out;
  }

  /** Positions and variants in order; recipients of a variant with its own text are planned again with it. */
  private async personalize(fresh: readonly Extract<Planned, { ok: true }>[]): Promise<StagedRecipient[]> {
    const variantOf = fresh.map(() => (this.splitter ? this.splitter.next() : -1));
    // Keyed by "variant|number": the same number is in one variant only, but be plain about it.
    const withVariantText = new Map<string, Extract<Planned, { ok: true }>>();
    for (const [v, variant] of this.req.variants.entries()) {
      const mine = fresh.filter((_, i) => variantOf[i] === v);
      if (!mine.length) continue;
      for (const p of await this.plan(mine.map((m) => m.e164), variant.message)) if (p.ok) withVariantText.set(`${v}|${p.e164}`, p);
    }
    return fresh.map((base, i) => {
      const v = variantOf[i]!;
      const p = v < 0 ? base : (withVariantText.get(`${v}|${base.e164}`) ?? base);
      return {
        phone: p.e164, pos: ++this.pos, variant_id: v < 0 ? null : this.req.variants[v]!.id, body: p.body, encoding: p.shape.encoding,
        parts: p.shape.parts, operator: p.operator, failover: p.failover, cost: p.cost,
      };
    });
  }
}
