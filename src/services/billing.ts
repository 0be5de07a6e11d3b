/**
 * Billing: the operator's SMS packages, accounts' orders of them (no payment network reaches an
 * on-prem box: an order waits for the operator to confirm it), credits that expire, and what an
 * account reads of its money — balance and statistics, for itself or one sub-account.
 */
import { randomUUID } from 'node:crypto';
import type { OrderRecord, PackageRecord } from '../store/billing.js';
import type { Store } from '../store/db.js';
import type { PageRequest } from '../store/repo.js';
import type { OrderStatus } from '../store/tables.js';
import type { Changes } from './changes.js';
import { ServiceError, notFound } from './errors.js';
import { authorize, systemActor, type Actor } from './policy.js';

export type { OrderRecord, PackageRecord };

export interface PackageInput {
  name: string;
  sms_count: number;
  bonus_sms: number;
  price: number;
  currency: string;
  validity_days: number | null;
  is_active: boolean;
}

export interface BillingConfig {
  currency: string;
  /** Credits one SMS of a package is worth (an SMS part costs its operator's price_per_part). */
  creditsPerSms: number;
}

export interface Balance {
  credits: number;
  currency: string;
  last_movement_at: number | null;
  /** For a sub-account: its limit, what it spent, what is left of it (null: no limit of its own). */
  sub_account?: { credit_limit: number | null; credits_used: number; credits_available: number | null } | undefined;
}

export interface Stats {
  total: number;
  sent: number;
  delivered: number;
  failed: number;
  pending: number;
  delivery_rate: number;
  cost: number;
  currency: string;
  from: number | null;
  to: number | null;
}

const FAILED = new Set(['failed', 'undelivered', 'rejected', 'expired', 'cancelled']);
const DAY_MS = 86_400_000;

export class BillingService {
  constructor(private readonly store: Store, private readonly changes: Changes, private readonly cfg: BillingConfig) {}

  // ---- packages ----

  /** Accounts see the active ones; the operator sees them all. */
  packages(actor: Actor): Promise<PackageRecord[]> {
    return this.store.repos.billing.packages(!actor.permissions.has('operator.credits'));
  }

  createPackage(actor: Actor, input: PackageInput): Promise<PackageRecord> {
    authorize(actor, 'operator.credits');
    const now = Date.now();
    return this.changes.run(actor, async (c) => {
      const p = await c.tx.billing.insertPackage({ ...input, is_active: input.is_active ? 1 : 0, created_at: now, updated_at: now });
      await c.audit({ action: 'package.created', model: 'Package', modelId: p.id, new: { ...input } });
      return p;
    });
  }

  updatePackage(actor: Actor, id: number, patch: Partial<PackageInput>): Promise<PackageRecord> {
    authorize(actor, 'operator.credits');
    return this.changes.run(actor, async (c) => {
      const before = await c.tx.billing.package(id);
      if (!before) throw notFound('package');
      const { is_active: active, ...rest } = patch;
      const p = (await c.tx.billing.updatePackage(id, { ...rest, ...(active !== undefined ? { is_active: active ? 1 : 0 } : {}), updated_at: Date.now() }))!;
      await c.audit({ action: 'package.updated', model: 'Package', modelId: id, old: { ...before }, new: { ...p } });
      return p;
    });
  }

  // ---- orders ----

  /** An order of an active package, pending until the operator confirms it. */
  async purchase(actor: Actor, packageId: number, payment: { method?: string | undefined; provider?: string | undefined }): Promise<OrderRecord> {
    authorize(actor, 'manage_billing');
    const p = await this.store.repos.billing.package(packageId);
    if (!p || !p.is_active) throw notFound('package');
    return this.changes.run(actor, async (c) => {
      const o = await c.tx.billing.insertOrder({
        uuid: randomUUID(), account_id: actor.account.id, package_id: p.id, status: 'pending', payment_method: payment.method ?? null, provider: payment.provider ?? null,
        price: p.price, currency: p.currency, credits: (p.sms_count + p.bonus_sms) * this.cfg.creditsPerSms, created_at: Date.now(),
      });
      await c.audit({ action: 'order.created', model: 'Order', modelId: o.id, new: { package_id: p.id, price: o.price, currency: o.currency, credits: o.credits } });
      return o;
    });
  }

  orders(actor: Actor, f: { status?: OrderStatus | undefined } = {}): Promise<OrderRecord[]> {
    if (actor.permissions.has('operator.credits')) return this.store.repos.billing.orders(f);
    authorize(actor, 'view_balance');
    return this.store.repos.billing.orders({ ...f, accountId: actor.account.id });
  }

  /**
   * The operator's decision. Confirming adds the package's credits (SMS plus bonus) to the
   * account's balance through the ledger, in a lot that expires after the package's validity.
   */
  decide(actor: Actor, orderId: number, decision: 'confirmed' | 'rejected'): Promise<OrderRecord> {
    authorize(actor, 'operator.credits');
    return this.changes.run(actor, async (c) => {
      const before = await c.tx.billing.order(orderId);
      if (!before) throw notFound('order');
      const o = await c.tx.billing.decide(orderId, decision, Date.now(), actor.credential.kind === 'cli' ? 'cli' : `admin:${actor.account.id}`);
      if (!o) throw new ServiceError('conflict', 'order_decided', {}, { status: before.status });
      if (decision === 'confirmed') {
        await c.tx.credits.credit({ accountId: o.account_id, amount: o.credits, reason: 'package', reference: `order:${o.id}` });
        const p = await c.tx.billing.package(o.package_id);
        if (p?.validity_days) await c.tx.credits.addLot({ accountId: o.account_id, orderId: o.id, credits: o.credits, expiresAt: Date.now() + p.validity_days * DAY_MS });
      }
      await c.audit({ action: `order.${decision}`, model: 'Order', modelId: o.id, new: { status: decision, account_id: o.account_id, credits: o.credits } });
      return o;
    });
  }

  /** Package credits past their validity leave the balance through the ledger (never below zero). */
  async expireLots(now = Date.now()): Promise<number> {
    let expired = 0;
    for (;;) {
      const lots = await this.store.repos.credits.expiredLots(now, 100);
      if (!lots.length) return expired;
      for (const lot of lots) {
        const account = await this.store.repos.accounts.get(lot.account_id);
        if (!account) continue;
        await this.changes.run(systemActor(account, 'expiry'), async (c) => {
          const amount = Math.min(lot.remaining, await c.tx.credits.balanceOf(lot.account_id));
          if (amount > 0) await c.tx.credits.debit({ accountId: lot.account_id, amount, reason: 'expiry', reference: `lot:${lot.id}` });
          await c.tx.credits.closeLot(lot.id);
        });
        expired += 1;
      }
    }
  }

  // ---- what an account reads ----

  /** The currency credits are counted in (its smallest unit). */
  get currency(): string {
    return this.cfg.currency;
  }

  /** A dashboard's numbers in one call: the balance and the last `days` days of messages. */
  async overview(actor: Actor, days = 30): Promise<{ balance: Balance; stats: Stats }> {
    const to = Date.now();
    return { balance: await this.balance(actor), stats: await this.stats(actor, { from: to - days * DAY_MS, to }) };
  }

  async balance(actor: Actor): Promise<Balance> {
    authorize(actor, 'view_balance');
    const credits = await this.store.repos.credits.balanceOf(actor.account.id);
    const last = await this.store.repos.credits.lastMovementAt(actor.account.id);
    const sub = actor.subAccountId === null ? undefined : await this.store.repos.subAccounts.get(actor.subAccountId);
    return {
      credits, currency: this.cfg.currency, last_movement_at: last,
      ...(sub ? { sub_account: { credit_limit: sub.credit_limit, credits_used: sub.credits_used, credits_available: sub.credit_limit === null ? null : Math.max(0, sub.credit_limit - sub.credits_used) } } : {}),
    };
  }

  /** Delivered, failed and pending per UTC day over the last `days` (a sub-account sees its own), oldest first, empty days included. */
  async daily(actor: Actor, days: number): Promise<{ date: string; total: number; delivered: number; failed: number; pending: number }[]> {
    authorize(actor, 'view_analytics');
    const today = Math.floor(Date.now() / DAY_MS);
    const first = today - days + 1;
    const rows = await this.store.repos.billing.dailyStats({ accountId: actor.account.id, subAccountId: actor.subAccountId ?? undefined, from: first * DAY_MS });
    const out = Array.from({ length: days }, (_, i) => ({ date: new Date((first + i) * DAY_MS).toISOString().slice(0, 10), total: 0, delivered: 0, failed: 0, pending: 0 }));
    for (const r of rows) {
      const d = out[r.day - first];
      if (!d) continue;
      d.total += r.n;
      if (r.status === 'delivered') d.delivered += r.n;
      else if (FAILED.has(r.status)) d.failed += r.n;
      else d.pending += r.n;
    }
    return out;
  }

  /** The account's credit movements, newest first (a sub-account sees those it caused). */
  movements(actor: Actor, req: PageRequest) {
    authorize(actor, 'view_balance');
    return this.store.repos.billing.movements(actor.account.id, actor.subAccountId ?? undefined, req);
  }

  /** Messages of a period: of the whole account, or of one sub-account (a sub-account sees its own). */
  async stats(actor: Actor, q: { from?: number | undefined; to?: number | undefined; subAccountId?: number | undefined }): Promise<Stats> {
    authorize(actor, 'view_analytics');
    const subAccountId = actor.subAccountId ?? q.subAccountId;
    if (q.subAccountId !== undefined && actor.subAccountId === null && !(await this.store.repos.subAccounts.ofAccount(actor.account.id, q.subAccountId))) throw notFound('sub-account');
    const rows = await this.store.repos.billing.messageStats({ accountId: actor.account.id, subAccountId, from: q.from, to: q.to });
    let total = 0, sent = 0, delivered = 0, failed = 0, cost = 0;
    for (const r of rows) {
      total += r.n;
      sent += r.sent;
      cost += r.cost;
      if (r.status === 'delivered') delivered += r.n;
      else if (FAILED.has(r.status)) failed += r.n;
    }
    return {
      total, sent, delivered, failed, pending: total - delivered - failed, delivery_rate: sent ? Math.round((delivered / sent) * 10_000) / 100 : 0,
      cost, currency: this.cfg.currency, from: q.from ?? null, to: q.to ?? null,
    };
  }
}
