/**
 * Accounts (balance, top-up, suspend / activate), sender ID requests (approve / reject) and
 * package orders (confirm / reject): the same admin API routes as provisioning scripts use, so
 * every action goes through the same services and lands in the admin's audit log.
 */
import { get, post, query } from '/web/api.js';
import { h, mount, table } from '/web/dom.js';
import { dateTime, int, shortTime } from '/web/format.js';
import { act, empty, loading, notifyError, pagerOf, pill } from '/web/ui.js';
import type { Account, Order, Paginated } from '/web/types.js';
import type { Page, PageContext } from './page.js';

interface SenderId {
  id: number;
  account_id: number;
  name: string;
  status: string;
  created_at: string;
  decided_at: string | null;
}
/** An order as the operator sees it: whose it is, too. */
interface AccountOrder extends Order {
  account_id: number;
}

// --- Accounts --------------------------------------------------------------------------------------

export const accountsPage: Page = {
  title: 'Accounts',
  render(ctx) {
    const page = Math.max(1, Number(ctx.params.get('page')) || 1);
    const host = h('div', { class: 'card' }, loading());
    mount(ctx.root, h('p', { class: 'muted intro' }, 'Balances are in the smallest currency unit. Top-ups are recorded in the ledger with their reference; a suspended account\'s tokens and keys are refused at once.'), host);
    void loadAccounts(ctx, host, page);
  },
};

async function loadAccounts(ctx: PageContext, host: HTMLElement, page: number): Promise<void> {
  let res: Paginated<Account>;
  try {
    res = await get(`/api/admin/accounts${query({ page, per_page: 50 })}`);
  } catch (e) {
    if (ctx.active()) mount(host, h('p', { class: 'bad-text' }, 'The accounts could not be read.'));
    notifyError(e);
    return;
  }
  if (!ctx.active()) return;
  const reload = () => loadAccounts(ctx, host, page);
  const rows = res.data.flatMap((a) => accountRows(a, reload));
  mount(host,
    table([['ID', 'num'], 'Name', 'Email', 'Role', 'Status', ['Balance', 'num'], 'Default sender', 'Created', ['Actions', 'actions']],
      rows.length ? rows : [empty('No account yet.', 9)], { class: 'accounts' }),
    pagerOf(res, 'account', (n) => ctx.go('accounts', { page: n })),
  );
}

function accountRows(a: Account, reload: () => void): HTMLTableRowElement[] {
  const topupRow = h('tr', { class: 'inline-form', hidden: true, 'data-topup': a.id });
  const amount = h('input', { type: 'number', name: 'amount', step: 1, required: true, placeholder: 'e.g. 5000 (negative removes)', 'aria-label': `Amount for ${a.email}` });
  const reference = h('input', { type: 'text', name: 'reference', maxlength: 200, placeholder: 'invoice or payment reference', 'aria-label': 'Reference' });
  const form = h('form', { class: 'row-form' },
    h('span', null, 'Top up ', h('strong', null, a.email)),
    h('label', { class: 'field' }, h('span', null, 'Amount'), amount),
    h('label', { class: 'field grow' }, h('span', null, 'Reference'), reference),
    h('button', { type: 'submit', class: 'primary' }, 'Add credits'),
    h('button', { type: 'button', class: 'ghost', onclick: () => (topupRow.hidden = true) }, 'Cancel'),
  );
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const n = Number(amount.value);
    if (!Number.isInteger(n) || n === 0) {
      amount.setCustomValidity('A whole number, not 0');
      amount.reportValidity();
      return;
    }
    amount.setCustomValidity('');
    const body: { amount: number; reference?: string } = { amount: n };
    if (reference.value.trim()) body.reference = reference.value.trim();
    const res = await act(form, () => post<{ message?: string; data: { balance: number } }>(`/api/admin/accounts/${a.id}/credits`, body), (r) => `${n > 0 ? `${int(n)} credits added to` : `${int(-n)} credits removed from`} ${a.email}: balance ${int(r.data.balance)}`);
    if (res) reload();
  });
  topupRow.appendChild(h('td', { colspan: 9 }, form));

  const suspended = a.status === 'suspended';
  const toggle = h('button', { type: 'button', class: suspended ? 'ghost' : 'ghost danger' }, suspended ? 'Activate' : 'Suspend');
  toggle.addEventListener('click', async () => {
    if (!suspended && !confirm(`Suspend ${a.email}? Its tokens and API keys are refused at once (queued messages still go out).`)) return;
    const res = await act(toggle, () => post(`/api/admin/accounts/${a.id}/${suspended ? 'activate' : 'suspend'}`), `${a.email} ${suspended ? 'activated' : 'suspended'}`);
    if (res) reload();
  });
  const topupBtn = h('button', { type: 'button', class: 'ghost', onclick: () => {
    topupRow.hidden = !topupRow.hidden;
    if (!topupRow.hidden) amount.focus();
  } }, 'Top up');

  const row = h('tr', { 'data-account': a.id, 'data-email': a.email },
    h('td', { class: 'num' }, a.id),
    h('td', null, a.name),
    h('td', null, a.email),
    h('td', null, a.role === 'admin' ? pill('admin', 'info') : 'user'),
    h('td', null, pill(a.status)),
    h('td', { class: 'num balance' }, int(a.balance)),
    h('td', null, a.default_sender_id ?? h('span', { class: 'muted' }, '—')),
    h('td', { title: dateTime(a.created_at) }, shortTime(a.created_at)),
    h('td', { class: 'actions' }, topupBtn, a.role === 'admin' ? null : toggle, h('a', { class: 'button ghost', href: `#/messages?account_id=${a.id}` }, 'Messages')),
  );
  return [row, topupRow];
}

// --- Account names for the decision pages ------------------------------------------------------------

async function accountNames(): Promise<Map<number, Account>> {
  try {
    const res = await get<Paginated<Account>>('/api/admin/accounts?per_page=500');
    return new Map(res.data.map((a) => [a.id, a]));
  } catch {
    return new Map();
  }
}

function accountCell(id: number, names: Map<number, Account>): HTMLTableCellElement {
  const a = names.get(id);
  return h('td', null, a ? [h('strong', null, a.name), h('div', { class: 'muted small' }, `${a.email} · #${id}`)] : `#${id}`);
}

function statusTabs(ctx: PageContext, path: string, statuses: readonly string[], current: string): HTMLElement {
  return h('nav', { class: 'tabs', 'aria-label': 'Status' }, statuses.map((st) =>
    h('a', { href: `#/${path}${st === statuses[0] ? '' : `?status=${st}`}`, 'aria-current': st === current ? 'page' : null }, st)));
}

// --- Sender IDs -------------------------------------------------------------------------------------

export const senderIdsPage: Page = {
  title: 'Sender IDs',
  render(ctx) {
    const statuses = ['pending', 'approved', 'rejected'] as const;
    const status = (statuses as readonly string[]).includes(ctx.params.get('status') ?? '') ? ctx.params.get('status')! : 'pending';
    const host = h('div', { class: 'card' }, loading());
    mount(ctx.root, statusTabs(ctx, 'sender-ids', statuses, status), host);
    void loadSenderIds(ctx, host, status);
  },
};

async function loadSenderIds(ctx: PageContext, host: HTMLElement, status: string): Promise<void> {
  let list: SenderId[];
  let names: Map<number, Account>;
  try {
    [list, names] = await Promise.all([get<{ data: SenderId[] }>(`/api/admin/sender-ids?status=${status}`).then((r) => r.data), accountNames()]);
  } catch (e) {
    if (ctx.active()) mount(host, h('p', { class: 'bad-text' }, 'The sender IDs could not be read.'));
    notifyError(e);
    return;
  }
  if (!ctx.active()) return;
  const reload = () => {
    ctx.refreshBadges();
    void loadSenderIds(ctx, host, status);
  };
  const rows = list.map((r) => {
    const approve = h('button', { type: 'button', class: 'primary small-btn' }, 'Approve');
    const reject = h('button', { type: 'button', class: 'ghost danger small-btn' }, 'Reject');
    approve.addEventListener('click', async () => {
      if (await act(approve, () => post(`/api/admin/sender-ids/${r.id}/approve`), `Sender ID ${r.name} approved`)) reload();
    });
    reject.addEventListener('click', async () => {
      if (await act(reject, () => post(`/api/admin/sender-ids/${r.id}/reject`), `Sender ID ${r.name} rejected`)) reload();
    });
    return h('tr', { 'data-sender-id': r.id, 'data-name': r.name },
      h('td', { class: 'num' }, r.id),
      h('td', null, h('strong', { class: 'mono' }, r.name)),
      accountCell(r.account_id, names),
      h('td', { title: dateTime(r.created_at) }, shortTime(r.created_at)),
      h('td', null, pill(r.status)),
      h('td', { title: dateTime(r.decided_at) }, shortTime(r.decided_at)),
      // A decision can be changed later: approved ones can be rejected and the other way round.
      h('td', { class: 'actions' }, r.status !== 'approved' ? approve : null, r.status !== 'rejected' ? reject : null),
    );
  });
  mount(host, table([['ID', 'num'], 'Sender ID', 'Account', 'Requested', 'Status', 'Decided', ['Actions', 'actions']],
    rows.length ? rows : [empty(status === 'pending' ? 'No sender ID waits for a decision.' : `No ${status} sender ID.`, 7)], { class: 'sender-ids' }));
}

// --- Orders ------------------------------------------------------------------------------------------

export const ordersPage: Page = {
  title: 'Orders',
  render(ctx) {
    const statuses = ['pending', 'confirmed', 'rejected'] as const;
    const status = (statuses as readonly string[]).includes(ctx.params.get('status') ?? '') ? ctx.params.get('status')! : 'pending';
    const host = h('div', { class: 'card' }, loading());
    mount(ctx.root, statusTabs(ctx, 'orders', statuses, status), h('p', { class: 'muted intro' }, 'Package orders wait here until their payment is confirmed: confirming adds the package\'s credits to the balance (through the ledger); rejecting changes nothing. Each order is decided once.'), host);
    void loadOrders(ctx, host, status);
  },
};

async function loadOrders(ctx: PageContext, host: HTMLElement, status: string): Promise<void> {
  let list: AccountOrder[];
  let names: Map<number, Account>;
  try {
    [list, names] = await Promise.all([get<{ data: AccountOrder[] }>(`/api/admin/orders?status=${status}`).then((r) => r.data), accountNames()]);
  } catch (e) {
    if (ctx.active()) mount(host, h('p', { class: 'bad-text' }, 'The orders could not be read.'));
    notifyError(e);
    return;
  }
  if (!ctx.active()) return;
  const reload = () => {
    ctx.refreshBadges();
    void loadOrders(ctx, host, status);
  };
  const rows = list.map((o) => {
    const confirmBtn = h('button', { type: 'button', class: 'primary small-btn' }, 'Confirm');
    const reject = h('button', { type: 'button', class: 'ghost danger small-btn' }, 'Reject');
    confirmBtn.addEventListener('click', async () => {
      if (await act(confirmBtn, () => post(`/api/admin/orders/${o.id}/confirm`), `Order #${o.id} confirmed: ${int(o.credits)} credits added`)) reload();
    });
    reject.addEventListener('click', async () => {
      if (!confirm(`Reject order #${o.id}? This cannot be undone.`)) return;
      if (await act(reject, () => post(`/api/admin/orders/${o.id}/reject`), `Order #${o.id} rejected`)) reload();
    });
    return h('tr', { 'data-order': o.id },
      h('td', { class: 'num' }, o.id),
      accountCell(o.account_id, names),
      h('td', null, `package #${o.package_id}`),
      h('td', { class: 'num' }, int(o.credits)),
      h('td', { class: 'num' }, `${int(o.price)} ${o.currency}`),
      h('td', null, [o.payment_method, o.provider].filter(Boolean).join(' · ') || h('span', { class: 'muted' }, '—')),
      h('td', { title: dateTime(o.created_at) }, shortTime(o.created_at)),
      h('td', null, pill(o.status)),
      h('td', { class: 'actions' }, o.status === 'pending' ? [confirmBtn, reject] : h('span', { class: 'muted small' }, dateTime(o.decided_at))),
    );
  });
  mount(host, table([['ID', 'num'], 'Account', 'Package', ['Credits', 'num'], ['Price', 'num'], 'Payment', 'Ordered', 'Status', ['Actions', 'actions']],
    rows.length ? rows : [empty(status === 'pending' ? 'No order waits for a payment to be confirmed.' : `No ${status} order.`, 9)], { class: 'orders' }));
}
