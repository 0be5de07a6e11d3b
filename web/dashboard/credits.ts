/**
 * Credits & packages: the balance, the packages on sale (ordering one makes a pending order the
 * operator confirms once paid: POST /api/packages/{id}/purchase), the orders, and every credit
 * movement of the ledger (GET /api/credits/transactions, newest first).
 */
import { get, post, query } from '/web/api.js';
import { h, mount, table } from '/web/dom.js';
import { dateTime, int, money, shortTime } from '/web/format.js';
import { act, empty, loadFailed, loading, pagerOf, pill } from '/web/ui.js';
import type { Order, Paginated } from '/web/types.js';
import type { Page, PageContext } from './page.js';

export interface Movement {
  id: number;
  amount: number;
  balance_after: number;
  reason: string;
  reference: string | null;
  sub_account_id: number | null;
  created_at: string;
}
interface Package {
  id: number;
  name: string;
  sms_count: number;
  bonus_sms: number;
  price: number;
  currency: string;
  validity_days: number | null;
  is_active: boolean;
}
const REASONS: Record<string, string> = {
  topup: 'Top-up by the operator', send: 'Messages sent', refund: 'Refund (not sent)', adjustment: 'Adjustment',
  reservation: 'Campaign reservation', release: 'Campaign: unused part released', package: 'Package credited', expiry: 'Package credits expired',
};

/** A ledger row: when, how much (+ or −), why, for what, and the balance after it. */
export function movementRow(t: Movement, currency: string): HTMLTableRowElement {
  return h('tr', { 'data-movement': t.id, 'data-reason': t.reason },
    h('td', { title: dateTime(t.created_at) }, shortTime(t.created_at)),
    h('td', { class: `num amount ${t.amount < 0 ? 'debit' : 'credit'}` }, `${t.amount > 0 ? '+' : ''}${int(t.amount)}`),
    h('td', null, REASONS[t.reason] ?? t.reason, t.sub_account_id ? h('span', { class: 'muted small' }, ` · sub-account #${t.sub_account_id}`) : null),
    h('td', { class: 'mono small' }, t.reference ?? '—'),
    h('td', { class: 'num' }, money(t.balance_after, currency)),
  );
}

export const creditsPage: Page = {
  title: 'Credits & packages',
  intro: 'Credits are in the smallest currency unit. A package ordered here waits for the operator to confirm the payment, then its credits are added.',
  needs: ['view_balance'],
  render(ctx) {
    const page = Math.max(1, Number(ctx.params.get('page')) || 1);
    const packages = h('section', { class: 'card', id: 'packages' }, h('header', { class: 'card-head' }, h('h2', null, 'Packages')), h('div', { class: 'card-body' }, loading()));
    const orders = h('section', { class: 'card', id: 'orders' }, h('header', { class: 'card-head' }, h('h2', null, 'Your orders')), h('div', { class: 'card-body' }, loading()));
    const moves = h('section', { class: 'card', id: 'movements' }, h('header', { class: 'card-head' }, h('h2', null, 'Credit movements')), h('div', { class: 'card-body' }, loading()));
    mount(ctx.root, packages, orders, moves);
    const names = new Map<number, string>();
    const reloadOrders = (highlight?: number) => loadOrders(ctx, orders, names, highlight);
    void loadPackages(ctx, packages, names, reloadOrders).then(() => reloadOrders());
    void loadMovements(ctx, moves, page);
  },
};

async function loadPackages(ctx: PageContext, card: HTMLElement, names: Map<number, string>, ordered: (id: number) => Promise<void>): Promise<void> {
  const body = card.lastElementChild!;
  let list: Package[];
  try {
    list = (await get<{ data: Package[] }>('/api/packages')).data;
  } catch (e) {
    if (ctx.active()) loadFailed(body, e, 'the packages');
    return;
  }
  if (!ctx.active()) return;
  for (const p of list) names.set(p.id, p.name);
  const rows = list.flatMap((p) => {
    const formRow = h('tr', { class: 'inline-form', hidden: true, 'data-buy': p.id });
    const method = h('select', { name: 'payment_method', 'aria-label': 'Payment method' }, ['mobile_money', 'bank_transfer', 'cash', 'other'].map((m) => h('option', { value: m }, m.replace('_', ' '))));
    const provider = h('input', { type: 'text', name: 'provider', maxlength: 50, placeholder: 'Airtel Money, bank…', 'aria-label': 'Provider' });
    const form = h('form', { class: 'row-form' },
      h('label', { class: 'field' }, h('span', null, 'Payment'), method),
      h('label', { class: 'field grow' }, h('span', null, 'Provider (optional)'), provider),
      h('button', { type: 'submit', class: 'primary' }, 'Order'),
      h('button', { type: 'button', class: 'ghost', onclick: () => (formRow.hidden = true) }, 'Cancel'),
    );
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const res = await act(form, () => post<{ message?: string; data: Order }>(`/api/packages/${p.id}/purchase`, { payment_method: method.value, ...(provider.value.trim() ? { provider: provider.value.trim() } : {}) }),
        (r) => `Order #${r.data.id} for ${p.name} is pending: the operator adds ${int(r.data.credits)} credits once the payment is confirmed`);
      if (res) {
        formRow.hidden = true;
        await ordered(res.data.id);
      }
    });
    formRow.appendChild(h('td', { colspan: 5 }, form));
    // Ordering commits the account's money: only a login that may (manage_billing) sees Buy.
    const buy = ctx.can('manage_billing') ? h('button', { type: 'button', class: 'primary small-btn', onclick: () => (formRow.hidden = !formRow.hidden) }, 'Buy') : null;
    return [
      h('tr', { 'data-package': p.id },
        h('td', null, h('strong', null, p.name)),
        h('td', { class: 'num' }, int(p.sms_count), p.bonus_sms ? h('span', { class: 'muted small' }, ` + ${int(p.bonus_sms)} bonus`) : null),
        h('td', { class: 'num' }, money(p.price, p.currency)),
        h('td', null, p.validity_days ? `${p.validity_days} days` : 'no expiry'),
        h('td', { class: 'actions' }, buy),
      ),
      formRow,
    ];
  });
  mount(body, table(['Package', ['SMS', 'num'], ['Price', 'num'], 'Validity', ['', 'actions']], rows.length ? rows : [empty('No package on sale: ask the operator for a top-up.', 5)], { class: 'packages' }));
}

async function loadOrders(ctx: PageContext, card: HTMLElement, names: Map<number, string>, highlight?: number): Promise<void> {
  const body = card.lastElementChild!;
  let list: Order[];
  try {
    list = (await get<{ data: Order[] }>('/api/orders')).data;
  } catch (e) {
    if (ctx.active()) loadFailed(body, e, 'the orders');
    return;
  }
  if (!ctx.active()) return;
  const rows = [...list].sort((a, b) => b.id - a.id).map((o) => h('tr', { 'data-order': o.id, class: o.id === highlight ? 'match' : null },
    h('td', { class: 'num' }, `#${o.id}`),
    h('td', null, names.get(o.package_id) ?? `package #${o.package_id}`, h('div', { class: 'muted small' }, [o.payment_method?.replace('_', ' '), o.provider].filter(Boolean).join(' · '))),
    h('td', { class: 'num' }, int(o.credits)),
    h('td', { class: 'num' }, money(o.price, o.currency)),
    h('td', { title: dateTime(o.created_at) }, shortTime(o.created_at)),
    h('td', null, pill(o.status), o.decided_at ? h('div', { class: 'muted small' }, shortTime(o.decided_at)) : null),
  ));
  mount(body, table([['Order', 'num'], 'Package', ['Credits', 'num'], ['Price', 'num'], 'Ordered', 'Status'], rows.length ? rows : [empty('No order yet.', 6)], { class: 'orders' }));
}

async function loadMovements(ctx: PageContext, card: HTMLElement, page: number): Promise<void> {
  const body = card.lastElementChild!;
  let res: Paginated<Movement>;
  try {
    res = await get(`/api/credits/transactions${query({ page, per_page: 25 })}`);
  } catch (e) {
    if (ctx.active()) loadFailed(body, e, 'the credit movements');
    return;
  }
  if (!ctx.active()) return;
  mount(body,
    table(['When', ['Amount', 'num'], 'What', 'Reference', ['Balance after', 'num']], res.data.length ? res.data.map((t) => movementRow(t, ctx.config.currency)) : [empty('No credit movement yet.', 5)], { class: 'movements' }),
    pagerOf(res, 'movement', (n) => ctx.go('credits', { page: n }), ['← Newer', 'Older →']),
  );
}
