/**
 * Accepting messages: normalize and route every recipient, refuse the ones that cannot be sent
 * (each with its own reason: nothing is dropped silently), and commit the rest in one
 * transaction before anyone is told "accepted". Every dialect and the CLI come through here.
 */
import type { Config } from '../config/schema.js';
import type { Router } from '../routing/router.js';
import { normalizeNumber } from '../routing/number.js';
import { analyze, type MessageShape } from '../smpp/codec.js';
import { fill, hasVariables, type FillSource } from './personalize.js';
import type { BlacklistRepo } from '../store/blacklist.js';
import type { NewMessage } from '../store/queue.js';
import type { Repos } from '../store/repos.js';
import { fieldError } from './errors.js';
import { setImmediate as yieldToLoop } from 'node:timers/promises';

export type RecipientError = 'invalid_number' | 'no_route' | 'blacklisted' | 'opted_out';

export type RecipientResult =
  | { input: string; ok: true; id: number; e164: string; operator: string; parts: number; cost: number; unfilled: string[] }
  | { input: string; ok: false; e164: string | null; operator: string | null; error: RecipientError; reason: string };

export interface SendRequest {
  accountId: number | null;
  /** The sub-account sending, if one is. */
  subAccountId?: number | null | undefined;
  sender: string;
  recipients: readonly string[];
  text: string;
  /** Epoch ms; a later send waits in the queue until then. */
  notBefore?: number | undefined;
  /** Per-send callback URL for this send's message events. */
  webhookUrl?: string | undefined;
}

export interface SendResult {
  shape: MessageShape;
  /** When the messages were queued (all of them share it). */
  createdAt: number;
  results: RecipientResult[];
  accepted: number;
  failed: number;
  totalCost: number;
}

export interface Plan {
  shape: MessageShape;
  planned: Planned[];
  totalCost: number;
}

export type Planned =
  | { input: string; ok: true; e164: string; operator: string; failover: string | null; cost: number; body: string; shape: MessageShape; unfilled: string[] }
  | { input: string; ok: false; e164: string | null; operator: string | null; error: RecipientError; reason: string };

export type ContactCard = FillSource & { status: string };

/** The contacts an account has among these numbers (personalization, opt-out), by number. */
export type ContactLookup = (accountId: number, phones: readonly string[]) => Promise<ReadonlyMap<string, ContactCard>>;

const NO_CONTACTS: ReadonlyMap<string, ContactCard> = new Map();

/** A recipient normalized and routed, before its contact is known. */
type Routed = { input: string; ok: true; e164: string; operator: string; failover: string | null } | Extract<Planned, { ok: false }>;

export class MessageService {
  /** Price per part by operator, and the operator list it was built from (a reload replaces that list). */
  private priced: { from: readonly Config['operators'][number][]; prices: Map<string, number> } | null = null;

  constructor(
    /** Read at each use: a reload updates it in place. */
    private readonly cfg: Pick<Config, 'numbering' | 'operators' | 'dispatcher'>,
    private readonly router: Router,
    private readonly blacklist: Pick<BlacklistRepo, 'isBlacklisted'>,
    private readonly contacts: ContactLookup = async () => NO_CONTACTS,
  ) {}

  private priceOf(operator: string): number {
    const operators = this.cfg.operators;
    if (this.priced?.from !== operators) this.priced = { from: operators, prices: new Map(operators.map((o) => [o.name, o.price_per_part])) };
    return this.priced.prices.get(operator) ?? 0;
  }

  /** Route one number without sending: what analyze endpoints and the send path share. */
  async classify(input: string, accountId: number | null): Promise<Planned> {
    return (await this.planAll([input], accountId, '', analyze('')))[0]!;
  }

  /** Plan first (no writes), so callers can check credits against the exact cost before commit. */
  async plan(req: SendRequest): Promise<Plan> {
    const template = analyze(req.text);
    const planned = await this.planAll(req.recipients, req.accountId, req.text, template);
    let shape = template;
    for (const p of planned) if (p.ok && p.shape.parts > shape.parts) shape = p.shape;
    const max = this.cfg.dispatcher.max_parts;
    if (shape.parts > max) throw fieldError('message', 'message_too_long', { parts: shape.parts, max });
    const totalCost = planned.reduce((sum, p) => sum + (p.ok ? p.cost : 0), 0);
    return { shape, planned, totalCost };
  }

  /**
   * Every recipient routed, then their contacts read in one go, then each one priced — a few
   * thousand at a time with a turn of the event loop between, so a 10 000-recipient send does
   * not hold it for tens of milliseconds.
   */
  private async planAll(inputs: readonly string[], accountId: number | null, text: string, template: MessageShape): Promise<Planned[]> {
    const routed = await inSlices(inputs, (input) => this.route(input, accountId));
    const cards = accountId === null ? NO_CONTACTS : await this.contacts(accountId, routed.flatMap((r) => (r.ok ? [r.e164] : [])));
    return inSlices(routed, (r) => (r.ok ? this.price(r, cards.get(r.e164), accountId, text, template) : r));
  }

  private route(input: string, accountId: number | null): Routed {
    const n = normalizeNumber(input, this.cfg.numbering);
    if (!n.ok) return { input, ok: false, e164: null, operator: null, error: 'invalid_number', reason: n.reason };
    const route = this.router.route(n.e164);
    if (!route) return { input, ok: false, e164: n.e164, operator: null, error: 'no_route', reason: 'no route to this number' };
    if (this.blacklist.isBlacklisted(n.e164, accountId)) {
      return { input, ok: false, e164: n.e164, operator: route.operator, error: 'blacklisted', reason: 'the number is blacklisted' };
    }
    return { input, ok: true, e164: n.e164, operator: route.operator, failover: route.failover };
  }

  private price(r: Extract<Routed, { ok: true }>, contact: ContactCard | undefined, accountId: number | null, text: string, template: MessageShape): Planned {
    // A contact the account marked unsubscribed has opted out: never send to it.
    if (contact?.status === 'unsubscribed') {
      return { input: r.input, ok: false, e164: r.e164, operator: r.operator, error: 'opted_out', reason: 'the contact is unsubscribed' };
    }
    // Personalized texts are measured and priced after filling, recipient by recipient.
    let body = text;
    let unfilled: string[] = [];
    let shape = template;
    if (hasVariables(text) && accountId !== null) {
      ({ text: body, unfilled } = fill(text, contact));
      shape = analyze(body);
    }
    return { input: r.input, ok: true, e164: r.e164, operator: r.operator, failover: r.failover, cost: shape.parts * this.priceOf(r.operator), body, shape, unfilled };
  }

  /** Queue the planned messages on `tx`, the caller's transaction (with its debit and answer). */
  async commit(tx: Repos, req: SendRequest, plan: Plan, now = Date.now()): Promise<SendResult> {
    const notBefore = Math.max(req.notBefore ?? now, now);
    const expiresAt = notBefore + this.cfg.dispatcher.validity * 1000;
    const rows: NewMessage[] = [];
    for (const p of plan.planned) {
      if (!p.ok) continue;
      rows.push({
        account_id: req.accountId, sub_account_id: req.subAccountId ?? null, sender: req.sender, recipient: p.e164, body: p.body, encoding: p.shape.encoding,
        parts: p.shape.parts, operator: p.operator, failover: p.failover, not_before: notBefore, expires_at: expiresAt,
        cost: p.cost, created_at: now, webhook_url: req.webhookUrl ?? null,
      });
    }
    const ids = await tx.queue.insert(rows);
    let next = 0;
    const results: RecipientResult[] = plan.planned.map((p) =>
      p.ok
        ? { input: p.input, ok: true, id: ids[next++]!, e164: p.e164, operator: p.operator, parts: p.shape.parts, cost: p.cost, unfilled: p.unfilled }
        : { input: p.input, ok: false, e164: p.e164, operator: p.operator, error: p.error, reason: p.reason },
    );
    return { shape: plan.shape, results, accepted: ids.length, failed: results.length - ids.length, totalCost: plan.totalCost, createdAt: now };
  }

}

/** Recipients mapped between two turns of the event loop. */
const SLICE = 1000;

async function inSlices<T, U>(items: readonly T[], fn: (item: T) => U): Promise<U[]> {
  if (items.length <= SLICE) return items.map(fn);
  const out: U[] = [];
  for (let i = 0; i < items.length; i += SLICE) {
    if (i > 0) await yieldToLoop();
    for (let j = i; j < Math.min(i + SLICE, items.length); j++) out.push(fn(items[j]!));
  }
  return out;
}
