/**
 * Home: the balance, delivered / failed / pending per day over the last 14 days (GET
 * /api/stats/daily, stacked bars), the last sends with their state (a click opens the message),
 * the last credit movements. Each card is shown only when the login may read it.
 */
import { get, query } from '/web/api.js';
import { bars, type Bar } from '/web/chart.js';
import { h, mount, table } from '/web/dom.js';
import { int, money, monthDay, percent, shortTime } from '/web/format.js';
import { empty, loadFailed, loading } from '/web/ui.js';
import { movementRow, type Movement } from './credits.js';
import { messageRow, type Message } from './messages.js';
import type { Paginated } from '/web/types.js';
import type { Page, PageContext } from './page.js';

interface Day {
  date: string;
  total: number;
  delivered: number;
  failed: number;
  pending: number;
}

export const homePage: Page = {
  title: 'Home',
  render(ctx) {
    const cards: HTMLElement[] = [];
    // A sub-account's figures (chart, credit movements) are its own; the history is the account's.
    const own = ctx.me.sub_account ? ' (yours)' : '';
    const stats = h('div', { class: 'summary home-stats' });
    cards.push(stats);
    if (ctx.can('view_analytics')) {
      const chart = h('section', { class: 'card chart-card', id: 'daily-chart' }, h('header', { class: 'card-head' }, h('h2', null, `Delivered and failed per day${own}`), h('span', { class: 'muted small' }, 'last 14 days, UTC')), h('div', { class: 'card-body' }, loading()));
      cards.push(chart);
      void loadDaily(ctx, chart, stats, own);
    }
    if (ctx.can('view_history')) {
      const last = h('section', { class: 'card', id: 'last-sends' }, h('header', { class: 'card-head' }, h('h2', null, 'Last sends'), h('a', { href: '#/messages', class: 'card-link' }, 'All messages →')), h('div', { class: 'card-body' }, loading()));
      cards.push(last);
      void loadLast(ctx, last);
    }
    if (ctx.can('view_balance')) {
      const moves = h('section', { class: 'card', id: 'last-movements' }, h('header', { class: 'card-head' }, h('h2', null, `Credit movements${own}`), h('a', { href: '#/credits', class: 'card-link' }, 'Credits & packages →')), h('div', { class: 'card-body' }, loading()));
      cards.push(moves);
      void loadBalance(ctx, stats);
      void loadMovements(ctx, moves);
    }
    if (cards.length === 1) cards.push(h('p', { class: 'card muted' }, 'Your login may not read the account\'s figures. The pages in the navigation are those your role allows.'));
    mount(ctx.root, cards);
  },
};

function stat(label: string, value: string, sub: string | null = null, attrs: Record<string, string> = {}): HTMLElement {
  return h('div', { class: 'stat', ...attrs }, h('span', { class: 'stat-label' }, label), h('span', { class: 'stat-value' }, value), sub ? h('span', { class: 'stat-sub' }, sub) : null);
}

async function loadBalance(ctx: PageContext, stats: HTMLElement): Promise<void> {
  try {
    const r = (await get<{ data: { balance: number; currency?: string; last_movement_at: string | null; sub_account?: { credit_limit: number | null; credits_used: number; credits_available: number | null } } }>('/api/balance')).data;
    if (!ctx.active()) return;
    const cur = r.currency ?? ctx.config.currency;
    stats.prepend(stat('Balance', money(r.balance, cur), r.last_movement_at ? `last movement ${shortTime(r.last_movement_at)}` : 'no movement yet', { 'data-stat': 'balance' }));
    if (r.sub_account && r.sub_account.credit_limit !== null) {
      stats.children[0]!.after(stat('Your credit limit', money(r.sub_account.credits_available, cur), `${int(r.sub_account.credits_used)} used of ${int(r.sub_account.credit_limit)}`));
    }
  } catch (e) {
    if (ctx.active()) stats.prepend(h('div', { class: 'stat' }, h('span', { class: 'stat-label' }, 'Balance'), h('span', { class: 'stat-sub bad-text' }, e instanceof Error ? e.message : String(e))));
  }
}

async function loadDaily(ctx: PageContext, card: HTMLElement, stats: HTMLElement, own: string): Promise<void> {
  let days: Day[];
  try {
    days = (await get<{ data: Day[] }>('/api/stats/daily?days=14')).data;
  } catch (e) {
    if (ctx.active()) loadFailed(card.lastElementChild!, e, 'the daily figures');
    return;
  }
  if (!ctx.active()) return;
  const sum = (k: keyof Omit<Day, 'date'>) => days.reduce((n, d) => n + d[k], 0);
  const total = sum('total');
  const delivered = sum('delivered');
  const failed = sum('failed');
  const decided = delivered + failed;
  stats.append(
    stat(`Messages, 14 days${own}`, int(total), `${int(sum('pending'))} not final yet`, { 'data-stat': 'total' }),
    stat('Delivered', int(delivered), decided ? `${percent((delivered / decided) * 100)} of those decided` : 'none decided yet', { 'data-stat': 'delivered' }),
    stat('Failed', int(failed), 'undelivered, rejected, expired…', { 'data-stat': 'failed' }),
  );
  const items: Bar[] = days.map((d) => ({
    label: monthDay(d.date),
    title: `${d.date}: ${int(d.total)} messages — ${int(d.delivered)} delivered, ${int(d.failed)} failed, ${int(d.pending)} pending`,
    segments: [{ value: d.delivered, class: 'chart-bar-ok' }, { value: d.failed, class: 'chart-bar-bad' }, { value: d.pending, class: 'chart-bar-wait' }],
  }));
  mount(card.lastElementChild!,
    h('div', { class: 'chart-scroll' }, bars(items, { width: 1000, height: 220, label: `Messages per day over the last 14 days: ${int(delivered)} delivered, ${int(failed)} failed` })),
    h('div', { class: 'legend' }, h('span', { class: 'ok' }, 'delivered'), h('span', { class: 'bad' }, 'failed'), h('span', { class: 'wait' }, 'pending (queued or sent, no receipt yet)')),
  );
}

async function loadLast(ctx: PageContext, card: HTMLElement): Promise<void> {
  let res: Paginated<Message>;
  try {
    res = await get(`/api/messages/history${query({ per_page: 8 })}`);
  } catch (e) {
    if (ctx.active()) loadFailed(card.lastElementChild!, e, 'the messages');
    return;
  }
  if (!ctx.active()) return;
  if (!res.data.length) {
    mount(card.lastElementChild!, gettingStarted(ctx));
    return;
  }
  mount(card.lastElementChild!, table([['ID', 'num'], 'Created', 'To', 'Text', ['Parts', 'num'], 'Status'],
    res.data.map((m) => messageRow(m, { compact: true })), { class: 'messages compact-messages' }));
}

/** For a new account: what to do before the first send. */
function gettingStarted(ctx: PageContext): HTMLElement {
  const steps = [
    ctx.can('view_balance') ? h('li', null, h('a', { href: '#/credits' }, 'Get credits'), ': order a package (the operator confirms the payment) or ask the operator for a top-up.') : null,
    ctx.can('manage_sender_ids') ? h('li', null, h('a', { href: '#/sender-ids' }, 'Request a sender ID'), ' (optional): what phones show as the sender, once the operator approves it.') : null,
    ctx.can('manage_api_keys') ? h('li', null, h('a', { href: '#/settings/api' }, 'Create an API key'), ' and point your application at the base URL of the API it was written for.') : null,
    ctx.can('send_sms') ? h('li', null, 'Send: from your application, or ', h('a', { href: '#/messages?compose=1' }, 'from this page'), '.') : null,
  ];
  return h('div', { class: 'getting-started' }, h('p', { class: 'muted' }, 'No message sent yet.'), steps.some(Boolean) ? h('ol', null, steps) : null);
}

async function loadMovements(ctx: PageContext, card: HTMLElement): Promise<void> {
  let res: Paginated<Movement>;
  try {
    res = await get(`/api/credits/transactions${query({ per_page: 6 })}`);
  } catch (e) {
    if (ctx.active()) loadFailed(card.lastElementChild!, e, 'the credit movements');
    return;
  }
  if (!ctx.active()) return;
  mount(card.lastElementChild!, table(['When', ['Amount', 'num'], 'What', 'Reference', ['Balance after', 'num']],
    res.data.length ? res.data.map((t) => movementRow(t, ctx.config.currency)) : [empty('No credit movement yet.', 5)], { class: 'movements' }));
}
