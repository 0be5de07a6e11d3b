/**
 * Blacklists: an account's own list, and the operator's global list that applies to every
 * account (and that MO opt-out keywords feed). Adding fires `blacklist.added`.
 */
import { GLOBAL_ACCOUNT, type BlacklistEntry } from '../store/blacklist.js';
import type { Store } from '../store/db.js';
import type { Page, PageRequest } from '../store/repo.js';
import type { Changes } from './changes.js';
import { fieldError, notFound } from './errors.js';
import type { Phones } from './phones.js';
import { authorize, type Actor } from './policy.js';

export type { BlacklistEntry };
export type BlacklistScope = 'account' | 'global';

const snapshot = (b: BlacklistEntry) => ({ id: b.id, phone_number: b.phone, reason: b.reason, source: b.source });

export class BlacklistService {
  constructor(private readonly store: Store, private readonly changes: Changes, private readonly phones: Phones) {}

  /** The list an actor works on in this scope, once it may. */
  private owner(actor: Actor, scope: BlacklistScope): number {
    authorize(actor, scope === 'global' ? 'operator.blacklist' : 'manage_blacklist');
    return scope === 'global' ? GLOBAL_ACCOUNT : actor.account.id;
  }

  page(actor: Actor, scope: BlacklistScope, req: PageRequest): Promise<Page<BlacklistEntry>> {
    return this.store.repos.blacklist.page(this.owner(actor, scope), req);
  }

  async add(actor: Actor, scope: BlacklistScope, rawPhone: string, reason: string | null): Promise<BlacklistEntry> {
    const owner = this.owner(actor, scope);
    const phone = this.phones.normalize(rawPhone, 'phone_number');
    return this.changes.run(actor, async (c) => {
      const added = await c.tx.blacklist.add({ accountId: owner, phone, reason, source: scope === 'global' ? 'admin' : 'api', at: Date.now() });
      if (!added) throw fieldError('phone_number', 'already_blacklisted');
      const row = (await c.tx.blacklist.byPhone(owner, phone))!;
      await c.emit('blacklist.added', { phone_number: phone, reason, scope });
      await c.audit({ action: 'blacklist.added', model: 'Blacklist', modelId: row.id, new: snapshot(row) });
      return row;
    });
  }

  async remove(actor: Actor, scope: BlacklistScope, id: number): Promise<BlacklistEntry> {
    const owner = this.owner(actor, scope);
    return this.changes.run(actor, async (c) => {
      const row = await c.tx.blacklist.get(owner, id);
      if (!row || !(await c.tx.blacklist.remove(owner, id))) throw notFound('blacklist entry');
      await c.audit({ action: 'blacklist.removed', model: 'Blacklist', modelId: id, old: snapshot(row) });
      return row;
    });
  }

  /** Where a number is listed for the actor's account: its own list, the global one, or nowhere. */
  check(actor: Actor, rawPhone: string): { phone: string; where: BlacklistScope | null } {
    authorize(actor, 'manage_blacklist');
    const phone = this.phones.normalize(rawPhone, 'phone_number');
    return { phone, where: this.store.repos.blacklist.where(phone, actor.account.id) };
  }
}
