/**
 * Messages: search by number, account, status and time range (GET /api/admin/messages), and one
 * message's story in a side panel (GET /api/admin/messages/:id): its parts with their SMSC ids and
 * receipts, every state change with its time, the webhook deliveries. The search lives in the
 * hash (#/messages?phone=…&open=42) so reloading or going back shows the same thing.
 */
import { get, query } from '/web/api.js';
import { h, mount, table, type Child } from '/web/dom.js';
import { dateTime, fromLocalInput, int, shortTime, toLocalInput } from '/web/format.js';
import { clickableRow, empty, facts, loading, notifyError, pagerOf, pill } from '/web/ui.js';
import type { Paginated } from '/web/types.js';
import type { Page, PageContext } from './page.js';

const STATUSES = ['queued', 'submitting', 'sent', 'delivered', 'undelivered', 'expired', 'rejected', 'failed', 'paused', 'cancelled', 'unconfirmed'];
const FILTERS = ['phone', 'account_id', 'status', 'from', 'to'] as const;
const PER_PAGE = 50;

interface MessageItem {
  id: number;
  account_id: number | null;
  account_email: string | null;
  recipient: string;
  sender: string;
  status: string;
  operator: string | null;
  parts: number;
  created_at: string;
  done_at: string | null;
  error: string | null;
}
/** Paginated like /api/admin/accounts (Laravel's paginator: the counts beside `data`). */
type Results = Paginated<MessageItem>;
interface Story {
  id: number;
  account: { id: number; name: string; email: string } | null;
  recipient: string;
  sender: string;
  body: string;
  status: string;
  operator: string | null;
  bind: string | null;
  parts: number;
  encoding: string | null;
  cost: number | null;
  attempts: number;
  error: string | null;
  error_code: string | number | null;
  campaign_id?: number | null;
  created_at: string;
  submitted_at?: string | null;
  sent_at: string | null;
  done_at: string | null;
  part_list: { part_no: number; smsc_id: string | null; state: string; sent_at: string | null; receipt_at: string | null; receipt_err: string | null; receipt_text: string | null }[];
  events: { at: string; state: string; detail: string | null }[];
  webhooks: { delivery_id: number | string; event: string; url: string; status: string; attempts: number; created_at: string; done_at: string | null }[];
}

export const messagesPage: Page = {
  title: 'Messages',
  render(ctx) {
    const p = ctx.params;
    const current = Object.fromEntries(FILTERS.map((k) => [k, p.get(k) ?? ''])) as Record<(typeof FILTERS)[number], string>;
    const page = Math.max(1, Number(p.get('page')) || 1);
    const openId = p.get('open');

    const form = searchForm(current, (values) => ctx.go('messages', values));
    const results = h('div', { class: 'card results' }, loading('Searching…'));
    const drawer = h('div', { class: 'drawer-host' });
    mount(ctx.root, form, results, drawer);

    const keep = (extra: Record<string, string | number | null>) => ({ ...current, page: page > 1 ? page : null, ...extra });
    void search(ctx, results, current, page, keep);
    if (openId) {
      const close = () => ctx.go('messages', keep({ open: null }));
      void openStory(ctx, drawer, Number(openId), close);
      const onKey = (ev: KeyboardEvent) => {
        if (ev.key === 'Escape') close();
      };
      document.addEventListener('keydown', onKey);
      return () => document.removeEventListener('keydown', onKey);
    }
  },
};

function searchForm(current: Record<string, string>, submit: (values: Record<string, string | null>) => void): HTMLFormElement {
  const field = (label: string, input: HTMLElement) => h('label', { class: 'field' }, h('span', null, label), input);
  const phone = h('input', { type: 'search', name: 'phone', placeholder: 'digits: +24162000001, 62000001…', title: 'Digits anywhere in the number (stored in E.164: +241…)', value: current.phone ?? '', autocomplete: 'off' });
  const account = h('input', { type: 'number', name: 'account_id', min: 1, placeholder: 'id', value: current.account_id ?? '' });
  const status = h('select', { name: 'status' }, h('option', { value: '' }, 'any'), STATUSES.map((st) => h('option', { value: st, selected: st === current.status }, st)));
  const from = h('input', { type: 'datetime-local', name: 'from', value: toLocalInput(current.from) });
  const to = h('input', { type: 'datetime-local', name: 'to', value: toLocalInput(current.to) });
  const form = h('form', { class: 'card search', role: 'search' },
    field('Number', phone), field('Account id', account), field('Status', status), field('From', from), field('To', to),
    h('div', { class: 'field buttons' }, h('button', { type: 'submit', class: 'primary' }, 'Search'), h('button', { type: 'button', class: 'ghost', onclick: () => submit({}) }, 'Clear')),
  );
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    submit({ phone: phone.value.trim() || null, account_id: account.value.trim() || null, status: status.value || null, from: fromLocalInput(from.value), to: fromLocalInput(to.value) });
  });
  return form;
}

/** The last results, shown at once when only the open message changes (then read again). */
let lastResults: { url: string; res: Results } | null = null;

async function search(ctx: PageContext, host: HTMLElement, filters: Record<string, string>, page: number, keep: (extra: Record<string, string | number | null>) => Record<string, string | number | null>): Promise<void> {
  const url = `/api/admin/messages${query({ ...filters, page, per_page: PER_PAGE })}`;
  if (lastResults?.url === url) drawResults(ctx, host, lastResults.res, keep);
  let res: Results;
  try {
    res = await get(url);
  } catch (e) {
    if (!ctx.active()) return;
    mount(host, h('p', { class: 'bad-text' }, 'The search failed.'));
    notifyError(e, 'Search');
    return;
  }
  lastResults = { url, res };
  if (ctx.active()) drawResults(ctx, host, res, keep);
}

function drawResults(ctx: PageContext, host: HTMLElement, res: Results, keep: (extra: Record<string, string | number | null>) => Record<string, string | number | null>): void {
  const { data } = res;
  const meta = res;
  const open = Number(ctx.params.get('open')) || null;
  const rows = data.map((m) => {
    const href = `#/messages${query(keep({ open: m.id }))}`;
    const tr = h('tr', { class: `clickable${m.id === open ? ' selected' : ''}`, 'data-message': m.id, tabindex: 0 },
      h('td', { class: 'num' }, h('a', { href }, `#${m.id}`)),
      h('td', { title: dateTime(m.created_at) }, shortTime(m.created_at)),
      h('td', { class: 'mono' }, m.recipient),
      h('td', null, m.sender),
      h('td', null, m.account_email ?? (m.account_id ? `#${m.account_id}` : h('span', { class: 'muted' }, 'gateway'))),
      h('td', null, m.operator ?? '—'),
      h('td', { class: 'num' }, m.parts),
      h('td', null, pill(m.status)),
      h('td', { title: dateTime(m.done_at) }, shortTime(m.done_at)),
      h('td', { class: 'error-cell' }, m.error ? h('span', { class: 'bad-text', title: m.error }, m.error) : ''),
    );
    return clickableRow(tr, href);
  });
  const pager = pagerOf(meta, 'message', (n) => ctx.go('messages', keep({ page: n, open: null })), ['← Newer', 'Older →']);
  mount(host,
    table([['ID', 'num'], 'Created', 'Recipient', 'Sender', 'Account', 'Operator', ['Parts', 'num'], 'Status', 'Done', 'Error'],
      rows.length ? rows : [empty('No message matches this search.', 10)], { class: 'messages' }),
    pager,
  );
}

async function openStory(ctx: PageContext, host: HTMLElement, id: number, close: () => void): Promise<void> {
  const body = h('div', { class: 'drawer-body' }, loading());
  const closeBtn = h('button', { type: 'button', class: 'ghost', 'aria-label': 'Close', onclick: close }, 'Close ×');
  const title = h('h2', null, `Message #${id}`);
  const panel = h('aside', { class: 'drawer', role: 'dialog', 'aria-label': `Message ${id}`, 'data-story': id },
    h('header', { class: 'drawer-head' }, title, closeBtn),
    body,
  );
  mount(host, h('div', { class: 'drawer-backdrop', onclick: close }), panel);
  closeBtn.focus();
  let m: Story;
  try {
    m = (await get<{ data: Story }>(`/api/admin/messages/${id}`)).data;
  } catch (e) {
    if (!ctx.active()) return;
    mount(body, h('p', { class: 'bad-text' }, e instanceof Error ? e.message : String(e)));
    return;
  }
  if (!ctx.active()) return;
  title.append(' ', pill(m.status));
  mount(body, story(m));
}

function story(m: Story): Child[] {
  const account = m.account ? [h('strong', null, m.account.name), ` ${m.account.email} `, h('a', { href: `#/messages?account_id=${m.account.id}` }, `#${m.account.id}`)] : h('span', { class: 'muted' }, 'the gateway (CLI or campaign tooling)');
  return [
    facts([
      ['Recipient', h('span', { class: 'mono' }, m.recipient)],
      ['Sender', m.sender],
      ['Account', account],
      ['Operator', m.operator ? `${m.operator}${m.bind ? ` · bind ${m.bind}` : ''}` : '—'],
      ['Parts', `${m.parts}${m.encoding ? ` · ${m.encoding}` : ''}`],
      ['Cost', m.cost === null ? '—' : int(m.cost)],
      ['Attempts', int(m.attempts)],
      m.campaign_id ? ['Campaign', `#${m.campaign_id}`] : null,
      ['Created', dateTime(m.created_at)],
      m.submitted_at !== undefined ? ['Submitted', dateTime(m.submitted_at)] : null,
      ['Sent', dateTime(m.sent_at)],
      ['Done', dateTime(m.done_at)],
      m.error ? ['Error', h('span', { class: 'bad-text' }, `${m.error}${m.error_code !== null && m.error_code !== undefined ? ` (code ${m.error_code})` : ''}`)] : null,
    ]),
    h('h3', null, 'Text'),
    h('div', { class: 'body-text' }, m.body),
    h('h3', null, 'Timeline'),
    m.events.length
      ? h('ol', { class: 'timeline' }, m.events.map((e) => h('li', null, h('time', { datetime: e.at }, dateTime(e.at)), pill(e.state), e.detail ? h('span', { class: 'detail' }, e.detail) : null)))
      : h('p', { class: 'muted' }, 'No state change recorded.'),
    h('h3', null, 'Parts'),
    m.part_list.length
      ? h('div', { class: 'parts' }, m.part_list.map((p) => h('div', { class: 'part', 'data-part': p.part_no },
          h('div', { class: 'part-head' }, h('strong', null, `Part ${p.part_no}`), pill(p.state), h('span', { class: 'muted small' }, 'SMSC id '), h('code', { class: 'smsc-id' }, p.smsc_id ?? '—')),
          facts([['Sent', dateTime(p.sent_at)], ['Receipt', dateTime(p.receipt_at)], p.receipt_err ? ['Receipt error', p.receipt_err] : null]),
          p.receipt_text ? h('pre', { class: 'receipt' }, p.receipt_text) : h('p', { class: 'muted small' }, 'No receipt yet.'),
        )))
      : h('p', { class: 'muted' }, 'Not submitted yet.'),
    h('h3', null, 'Webhook deliveries'),
    m.webhooks.length
      ? table(['Event', 'URL', 'Status', ['Attempts', 'num'], 'Created', 'Done'], m.webhooks.map((w) => [
          w.event, h('span', { class: 'mono url', title: w.url }, w.url), pill(w.status), h('td', { class: 'num' }, w.attempts), dateTime(w.created_at), dateTime(w.done_at),
        ]), { class: 'compact' })
      : h('p', { class: 'muted' }, 'No webhook delivery for this message.'),
  ];
}
