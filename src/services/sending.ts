/**
 * Sending on behalf of an account: sender ID check, routing plan, credit check, then ONE
 * transaction that debits, queues every message and records the idempotent answer. Nothing is
 * queued or debited unless all of it commits; a retried request with the same Idempotency-Key
 * gets the first answer and sends nothing again.
 */
import { createHash } from 'node:crypto';
import type { Store } from '../store/db.js';
import type { CreditsRepo } from '../store/credits.js';
import { GroupCommit } from './group-commit.js';
import type { IdempotencyRepo } from '../store/idempotency.js';
import type { Principal } from './credentials.js';
import { ServiceError, validationError } from './errors.js';
import { TooLongError, type MessageService, type RecipientError } from './messages.js';
import type { SenderIdService } from './sender-ids.js';

export interface SendInput {
  recipients: string[];
  message: string;
  sender_id?: string | undefined;
  /** Epoch ms. */
  scheduled_at?: number | undefined;
  /** This send's message events also go to this URL, signed with the account's webhook secret. */
  webhook_url?: string | undefined;
}

export interface SendSummary {
  total: number;
  accepted: number;
  failed: number;
  sms_count: number;
  encoding: 'gsm7' | 'ucs2';
  total_cost: number;
  by_operator: Record<string, number>;
  message_ids: number[];
  failures: { recipient: string; error: RecipientError; reason: string }[];
  /** Recipients whose text kept variables it could not fill (first 100). */
  warnings: { recipient: string; unfilled: string[] }[];
  sender_id: string;
  scheduled_at: number | null;
  balance: number;
}

export class SendingService {
  private readonly commits: GroupCommit;

  constructor(
    store: Store,
    private readonly messages: MessageService,
    private readonly senderIds: SenderIdService,
    private readonly credits: CreditsRepo,
    private readonly idempotency: IdempotencyRepo,
    private readonly operators: readonly string[],
  ) {
    this.commits = new GroupCommit(store);
  }

  /**
   * Returns the summary, or a stored answer for a repeated Idempotency-Key. `render` turns the
   * summary into the dialect's body, so a retry replays exactly what the first call answered.
   */
  async send(principal: Principal, input: SendInput, idempotencyKey: string | undefined, render: (s: SendSummary) => unknown): Promise<{ replayed: boolean; body: unknown }> {
    const account = principal.account;
    const requestHash = idempotencyKey ? hashRequest(input) : '';
    if (idempotencyKey) {
      const stored = this.replay(account.id, idempotencyKey, requestHash);
      if (stored) return stored;
    }
    const sender = await this.senderIds.resolve(account.id, input.sender_id, account.default_sender_id);
    const req = { accountId: account.id, sender, recipients: input.recipients, text: input.message, notBefore: input.scheduled_at, webhookUrl: input.webhook_url };
    let plan;
    try {
      plan = this.messages.plan(req);
    } catch (err) {
      if (err instanceof TooLongError) throw validationError({ message: [`The message is too long: ${err.message}.`] });
      throw err;
    }
    return this.commits.run(() => {
      // Re-checked inside the transaction: two concurrent retries cannot both send.
      // Both checks below throw before anything is written (GroupCommit's rule).
      if (idempotencyKey) {
        const stored = this.replay(account.id, idempotencyKey, requestHash);
        if (stored) return stored;
      }
      const balance = this.credits.debit(account.id, plan.totalCost, `send:${Date.now()}`);
      if (balance === null) throw insufficient(plan.totalCost, this.credits.balanceOf(account.id));
      const result = this.messages.commit(req, plan);
      const scheduled = input.scheduled_at !== undefined && input.scheduled_at > Date.now() ? input.scheduled_at : null;
      const body = render(this.summarize(result, sender, scheduled, balance));
      if (idempotencyKey) this.idempotency.put(account.id, idempotencyKey, { request_hash: requestHash, status: 200, response: JSON.stringify(body) });
      return { replayed: false, body };
    });
  }

  private replay(accountId: number, key: string, requestHash: string): { replayed: true; body: unknown } | null {
    const stored = this.idempotency.get(accountId, key);
    if (!stored) return null;
    if (stored.request_hash !== requestHash) {
      throw new ServiceError('validation', 'This Idempotency-Key was already used with a different request.', { idempotency_key: ['This Idempotency-Key was already used with a different request.'] });
    }
    return { replayed: true, body: JSON.parse(stored.response) };
  }

  private summarize(result: ReturnType<MessageService['commit']>, sender: string, scheduledAt: number | null, balance: number): SendSummary {
    const byOperator: Record<string, number> = Object.fromEntries(this.operators.map((o) => [o, 0]));
    byOperator.unknown = 0;
    const failures: SendSummary['failures'] = [];
    const warnings: SendSummary['warnings'] = [];
    // Every recipient counts once: under its operator when it routes, else under `unknown`.
    for (const r of result.results) {
      const key = r.operator ?? 'unknown';
      byOperator[key] = (byOperator[key] ?? 0) + 1;
      if (!r.ok) failures.push({ recipient: r.input, error: r.error, reason: r.reason });
      else if (r.unfilled.length && warnings.length < 100) warnings.push({ recipient: r.e164, unfilled: r.unfilled });
    }
    return {
      total: result.results.length, accepted: result.accepted, failed: result.failed, sms_count: result.shape.parts, encoding: result.shape.encoding,
      total_cost: result.totalCost, by_operator: byOperator, message_ids: result.results.flatMap((r) => (r.ok ? [r.id] : [])), failures, warnings,
      sender_id: sender, scheduled_at: scheduledAt, balance,
    };
  }
}

function insufficient(required: number, balance: number): ServiceError {
  return new ServiceError('insufficient_credits', `Crédit insuffisant : cet envoi coûte ${required}, le solde est de ${balance}.`, {}, { required, balance });
}

function hashRequest(input: SendInput): string {
  return createHash('sha256').update(JSON.stringify([input.recipients, input.message, input.sender_id ?? null, input.scheduled_at ?? null, input.webhook_url ?? null])).digest('hex');
}

