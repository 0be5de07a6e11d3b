/**
 * Sending on behalf of an account: sender ID check, routing plan, credit check, then ONE
 * transaction that debits, queues every message and records the idempotent result. Nothing is
 * queued or debited unless all of it commits; a retried request with the same Idempotency-Key
 * gets the first result (rendered again by whichever dialect asks) and sends nothing again.
 */
import { createHash } from 'node:crypto';
import type { Store } from '../store/db.js';
import type { Repos } from '../store/repos.js';
import type { AccountService } from './accounts.js';
import type { Changes } from './changes.js';
import { insufficient } from './credits.js';
import { fieldError } from './errors.js';
import { GroupCommit } from './group-commit.js';
import type { MessageService, RecipientError, SendRequest, SendResult } from './messages.js';
import { authorize, type Actor } from './policy.js';
import type { SenderIdService } from './sender-ids.js';
import type { WebhookService } from './webhooks.js';
import { Admission } from './admission.js';

/** About 20 000 recipients in hand at once: two full 10 000-recipient sends, or many small ones. */
const SEND_BUDGET = 20_000;

export interface SendInput {
  recipients: string[];
  message: string;
  sender_id?: string | undefined;
  /** Epoch ms. */
  scheduled_at?: number | undefined;
  /** This send's message events also go to this URL, signed with the account's webhook secret. */
  webhook_url?: string | undefined;
}

/** The neutral result of a send: what every dialect renders its answer from. */
export interface SendSummary {
  total: number;
  accepted: number;
  failed: number;
  sms_count: number;
  encoding: 'gsm7' | 'ucs2';
  total_cost: number;
  /** Every recipient once: under its operator, or `unknown`. */
  by_operator: Record<string, number>;
  message_ids: number[];
  /** When they were queued: with an id, it makes a message's uuid (Mifumo's ids). */
  created_at: number;
  failures: { recipient: string; error: RecipientError; reason: string }[];
  /** Recipients whose text kept variables it could not fill (first 100). */
  warnings: { recipient: string; unfilled: string[] }[];
  sender_id: string;
  scheduled_at: number | null;
  balance: number;
}

export interface SendOutcome {
  /** True when this is the stored result of an earlier request with the same Idempotency-Key. */
  replayed: boolean;
  summary: SendSummary;
}

export interface NumberAnalysis {
  total: number;
  /** Per configured operator, plus `unknown`. */
  by_operator: Record<string, number>;
  details: { phone: string; normalized: string | null; operator: string | null; is_valid: boolean; error?: RecipientError }[];
}

export class SendingService {
  private readonly commits: GroupCommit;
  /** Recipients being planned and committed at once, at most (see admission.ts). */
  private readonly admission = new Admission(SEND_BUDGET);

  constructor(
    private readonly store: Store,
    private readonly changes: Changes,
    private readonly messages: MessageService,
    private readonly senderIds: SenderIdService,
    private readonly accounts: AccountService,
    private readonly webhooks: WebhookService,
    /** The configured operators, read at each use (a reload may change them). */
    private readonly operators: () => readonly string[],
  ) {
    this.commits = new GroupCommit(store);
  }

  async send(actor: Actor, input: SendInput, idempotencyKey?: string): Promise<SendOutcome> {
    authorize(actor, 'send_sms');
    const account = actor.account;
    const requestHash = idempotencyKey ? hashRequest(input) : '';
    if (idempotencyKey) {
      const stored = await this.replay(this.store.repos, account.id, idempotencyKey, requestHash);
      if (stored) return stored;
    }
    const webhookUrl = input.webhook_url === undefined ? undefined : await this.webhooks.checkUrl(input.webhook_url, 'webhook_url');
    if (webhookUrl) await this.accounts.ensureWebhookSecret(account.id); // callbacks are signed with it
    const sender = await this.senderIds.resolve(account.id, input.sender_id, account.default_sender_id);
    const req: SendRequest = { accountId: account.id, subAccountId: actor.subAccountId, sender, recipients: input.recipients, text: input.message, notBefore: input.scheduled_at, webhookUrl };
    const outcome = await this.admission.run(input.recipients.length, () => this.planAndCommit(actor, input, req, idempotencyKey, requestHash));
    this.changes.wakeIfEmitted();
    return outcome;
  }

  private async planAndCommit(actor: Actor, input: SendInput, req: SendRequest & { sender: string }, idempotencyKey: string | undefined, requestHash: string): Promise<SendOutcome> {
    const account = actor.account;
    const sender = req.sender;
    const plan = await this.messages.plan(req);
    return this.commits.run(async (tx) => {
      // Re-checked inside the transaction: two concurrent retries cannot both send.
      // Both checks below throw before anything is written (GroupCommit's rule).
      if (idempotencyKey) {
        const stored = await this.replay(tx, account.id, idempotencyKey, requestHash);
        if (stored) return stored;
      }
      const short = await tx.credits.shortfall(account.id, actor.subAccountId, plan.totalCost);
      if (short) throw insufficient(plan.totalCost, short);
      const result = await this.messages.commit(tx, req, plan);
      // The debit names the messages it paid for, so `relais doctor` can check it.
      const ids = result.results.flatMap((r) => (r.ok ? [r.id] : []));
      const balance = await tx.credits.debit({ accountId: account.id, subAccountId: actor.subAccountId, amount: plan.totalCost, reason: 'send', reference: ids.length ? `send:${ids[0]}-${ids[ids.length - 1]}` : null });
      if (balance === null) throw new Error('the balance moved inside the send transaction');
      const scheduled = input.scheduled_at !== undefined && input.scheduled_at > Date.now() ? input.scheduled_at : null;
      const summary = this.summarize(result, sender, scheduled, balance);
      if (idempotencyKey) await tx.idempotency.put(account.id, idempotencyKey, { request_hash: requestHash, response: JSON.stringify(summary) });
      return { replayed: false, summary };
    });
  }

  /** Messages queued by the operator without an account (the CLI's `relais send`): no credits, no sender check. */
  async sendAsOperator(req: Omit<SendRequest, 'accountId'>): Promise<SendResult> {
    const full = { ...req, accountId: null };
    const plan = await this.messages.plan(full);
    return this.commits.run((tx) => this.messages.commit(tx, full, plan));
  }

  /** Operator and validity of each number, without sending. */
  async analyze(actor: Actor, phones: readonly string[]): Promise<NumberAnalysis> {
    authorize(actor, 'send_sms');
    const details: NumberAnalysis['details'] = [];
    for (const phone of phones) {
      const c = await this.messages.classify(phone, actor.account.id);
      details.push({ phone, normalized: c.e164, operator: c.operator, is_valid: c.e164 !== null, ...(c.ok ? {} : { error: c.error }) });
    }
    return { total: phones.length, by_operator: this.tally(details), details };
  }

  private async replay(repos: Repos, accountId: number, key: string, requestHash: string): Promise<SendOutcome | null> {
    const stored = await repos.idempotency.get(accountId, key);
    if (!stored) return null;
    if (stored.request_hash !== requestHash) throw fieldError('idempotency_key', 'idempotency_reused');
    return { replayed: true, summary: JSON.parse(stored.response) as SendSummary };
  }

  /** Every number once: under its operator when it routes, else under `unknown`. */
  private tally(items: readonly { operator: string | null }[]): Record<string, number> {
    const counts: Record<string, number> = Object.fromEntries(this.operators().map((o) => [o, 0]));
    counts.unknown = 0;
    for (const { operator } of items) counts[operator ?? 'unknown'] = (counts[operator ?? 'unknown'] ?? 0) + 1;
    return counts;
  }

  private summarize(result: SendResult, sender: string, scheduledAt: number | null, balance: number): SendSummary {
    const failures: SendSummary['failures'] = [];
    const warnings: SendSummary['warnings'] = [];
    for (const r of result.results) {
      if (!r.ok) failures.push({ recipient: r.input, error: r.error, reason: r.reason });
      else if (r.unfilled.length && warnings.length < 100) warnings.push({ recipient: r.e164, unfilled: r.unfilled });
    }
    return {
      total: result.results.length, accepted: result.accepted, failed: result.failed, sms_count: result.shape.parts, encoding: result.shape.encoding,
      total_cost: result.totalCost, by_operator: this.tally(result.results), message_ids: result.results.flatMap((r) => (r.ok ? [r.id] : [])), created_at: result.createdAt, failures, warnings,
      sender_id: sender, scheduled_at: scheduledAt, balance,
    };
  }
}

function hashRequest(input: SendInput): string {
  return createHash('sha256').update(JSON.stringify([input.recipients, input.message, input.sender_id ?? null, input.scheduled_at ?? null, input.webhook_url ?? null])).digest('hex');
}
