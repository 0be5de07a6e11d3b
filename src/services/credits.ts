/** Credit balances: what an account can read of its own, and the operator's top-ups and removals. */
import type { Store } from '../store/db.js';
import type { Changes } from './changes.js';
import { fieldError, notFound } from './errors.js';
import { authorize, type Actor } from './policy.js';

export class CreditService {
  constructor(private readonly store: Store, private readonly changes: Changes) {}

  balance(actor: Actor): Promise<number> {
    authorize(actor, 'view_balance');
    return this.store.repos.credits.balanceOf(actor.account.id);
  }

  /** Add (amount > 0) or remove credits; a removal never takes the balance below zero. Returns the new balance. */
  async adjust(actor: Actor, accountId: number, amount: number, reference?: string): Promise<number> {
    authorize(actor, 'operator.credits');
    if (amount === 0) throw fieldError('amount', 'not_zero');
    const ref = reference ?? (actor.credential.kind === 'cli' ? 'cli' : `admin:${actor.account.id}`);
    return this.changes.run(actor, async (c) => {
      if (!(await c.tx.accounts.get(accountId))) throw notFound('account');
      const balance = amount > 0 ? await c.tx.credits.credit(accountId, amount, 'topup', ref) : await c.tx.credits.debit(accountId, -amount, ref, 'adjustment');
      if (balance === null) throw fieldError('amount', 'balance_below_zero', { balance: await c.tx.credits.balanceOf(accountId) });
      await c.audit({ action: amount > 0 ? 'account.credits_added' : 'account.credits_removed', model: 'Account', modelId: accountId, new: { amount, balance } });
      return balance;
    });
  }
}
