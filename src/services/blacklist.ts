/** Blacklist entries added through the API, with their blacklist.added event in the same transaction. */
import type { BlacklistRepo } from '../store/blacklist.js';
import type { Store } from '../store/db.js';
import type { Outbox } from '../webhooks/outbox.js';

export class BlacklistService {
  constructor(private readonly store: Store, readonly repo: BlacklistRepo, private readonly outbox: Outbox) {}

  /** Returns the new entry, or null when the number was already listed there. */
  async add(owner: number, actorAccountId: number, phone: string, reason: string | null, source: 'api' | 'admin') {
    const added = this.store.transaction(() => {
      const ok = this.repo.add({ accountId: owner, phone, reason, source, at: Date.now() });
      if (ok) this.outbox.emit(actorAccountId, 'blacklist.added', { phone_number: phone, reason, scope: source === 'admin' ? 'global' : 'account' });
      return ok;
    });
    if (!added) return null;
    return (await this.repo.byPhone(owner, phone)) ?? null;
  }
}
