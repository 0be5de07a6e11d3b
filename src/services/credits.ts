/** The operator's top-ups and removals of credits, and the 402 a charge that cannot be made answers. */
import type { Shortfall } from '../store/credits.js';
import type { Store } from '../store/db.js';
import type { Changes } from './changes.js';
import { ServiceError, fieldError, notFound } from './errors.js';
import { authorize, type Actor } from './policy.js';

/**
 * The most one adjustment may move: far above any real top-up, and far below 2^53, where balances
 * (integers in the smallest unit) would stop being exact.
 */
export const MAX_ADJUSTMENT = 1_000_000_000_000;
/** No balance goes past this, whatever the number of top-ups. */
const MAX_BALANCE = 1_000_000_000_000_000;

export class CreditService {
  constructor(private readonly store: Store, private readonly changes: Changes) {}

  /** Add (amount > 0) or remove credits; a removal never takes the balance below zero. Returns the new balance. */
  async adjust(actor: Actor, accountId: number, amount: number, reference?: string): Promise<number> {
    authorize(actor, 'operator.credits');
    if (amount === 0) throw fieldError('amount', 'not_zero');
    if (amount > MAX_ADJUSTMENT) throw fieldError('amount', 'max', { max: MAX_ADJUSTMENT });
    if (amount < -MAX_ADJUSTMENT) throw fieldError('amount', 'min', { min: -MAX_ADJUSTMENT });
    const ref = reference ?? (actor.credential.kind === 'cli' ? 'cli' : `admin:${actor.account.id}`);
    return this.changes.run(actor, async (c) => {
      if (!(await c.tx.accounts.get(accountId))) throw notFound('account');
      if (amount > 0 && (await c.tx.credits.balanceOf(accountId)) + amount > MAX_BALANCE) throw fieldError('amount', 'max', { max: MAX_BALANCE - (await c.tx.credits.balanceOf(accountId)) });
      const balance = amount > 0 ? await c.tx.credits.credit({ accountId, amount, reason: 'topup', reference: ref }) : await c.tx.credits.debit({ accountId, amount: -amount, reason: 'adjustment', reference: ref });
      if (balance === null) throw fieldError('amount', 'balance_below_zero', { balance: await c.tx.credits.balanceOf(accountId) });
      await c.audit({ action: amount > 0 ? 'account.credits_added' : 'account.credits_removed', model: 'Account', modelId: accountId, new: { amount, balance } });
      return balance;
    });
  }
}

/** The 402 for a charge that cannot be made: the account's balance, or the sub-account's limit. */
export function insufficient(required: number, short: Shortfall): ServiceError {
  return short.short === 'account'
    ? new ServiceError('insufficient_credits', 'insufficient_credits', {}, { required, balance: short.balance })
    : new ServiceError('insufficient_credits', 'credit_limit_reached', {}, { required, available: short.available });
}
