/**
 * Every change a service makes goes through here: one transaction holding the change, its audit
 * row and its webhook events, so a change that rolls back leaves neither, and no dialect can
 * forget them. The webhook worker is woken after the commit.
 */
import type { Store } from '../store/db.js';
import type { Repos } from '../store/repos.js';
import type { Outbox } from '../webhooks/outbox.js';
import type { WebhookEvent } from '../webhooks/events.js';
import { writeAudit, type AuditEntry } from './audit.js';
import type { Actor } from './policy.js';

export class Change {
  constructor(readonly tx: Repos, readonly actor: Actor, private readonly outbox: Outbox) {}

  audit(entry: AuditEntry, accountId?: number): Promise<void> {
    return writeAudit(this.tx, this.actor, entry, accountId);
  }

  /** Queue `event` for the account's subscribed webhooks (and `directUrl`); `data` built only when someone listens. */
  emit(event: WebhookEvent, data: Record<string, unknown> | (() => Record<string, unknown> | Promise<Record<string, unknown>>), accountId = this.actor.account.id, directUrl?: string | null): Promise<number> {
    return this.outbox.emit(this.tx, accountId, event, data, directUrl);
  }

  /** The webhook.test payload to one webhook, whatever its subscriptions; returns the delivery id. */
  emitTest(webhook: { id: number; url: string; name: string; timeout: number }): Promise<string> {
    return this.outbox.emitTest(this.tx, this.actor.account.id, webhook);
  }
}

export class Changes {
  constructor(private readonly store: Store, private readonly outbox: Outbox, private readonly wake: () => void) {}

  async run<T>(actor: Actor, fn: (c: Change) => Promise<T>): Promise<T> {
    const result = await this.store.transaction((tx) => fn(new Change(tx, actor, this.outbox)));
    if (this.outbox.takeEmitted()) this.wake();
    return result;
  }

  /** Webhook subscriptions or admins changed: the outbox re-reads them. */
  reloadSubscribers(): Promise<void> {
    return this.outbox.load(this.store.repos);
  }

  /** After a commit made elsewhere (the send path's group commit) queued events. */
  wakeIfEmitted(): void {
    if (this.outbox.takeEmitted()) this.wake();
  }
}
