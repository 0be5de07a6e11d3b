/**
 * Messages: the account's sends, newest first (GET /api/messages/history), filtered by number,
 * state and day, refreshed while some are still on their way; one message in a side panel (GET
 * /api/messages/{id}: its parts with the SMSC's ids and receipt states). With send_sms, a form to
 * send a text; with export_data, the CSV export of the same filter. The filter lives in the hash
 * (#/messages?phone=…&open=42), so reloading or going back shows the same thing.
 */
import { get, post, query } from '/web/api.js';
import { h, mount, table, type Child } from '/web/dom.js';
import { dateTime, int, money, shortTime } from '/web/format.js';
import { clickableRow, empty, facts, loadFailed, loading, notify, notifyError, pagerOf, pill, toneOf, type Tone } from '/web/ui.js';
import type { Paginated } from '/web/types.js';
import { numbersIn, type Page, type PageContext } from './page.js';

const STATUSES = ['queued', 'submitting', 'sent', 'delivered', 'undelivered', 'expired', 'rejected', 'failed', 'paused', 'cancelled', 'unconfirmed'];
/** On their way: the list is read again while one of these is on screen. */
const MOVING = new Set(['queued', 'submitting', 'sent']);
const FILTERS = ['phone', 'status', 'start_date', 'end_date'] as const;
const POLL_MS = 3000;

export interface Message {
  id: number;
  recipient: string;
  message: string;
  sender_id: string;
  status: string;
  operator: string | null;
  sms_count: number;
  encoding: string;
  cost: number;
  attempts: number;
  error: string | null;
  error_code: number | null;
  smsc_message_id: string | null;
  scheduled_at: string | null;
  created_at: string;
  sent_at: string | null;
  delivered_at: string | null;
  done_at: string | null;
}
interface Part {
  part: number;
  smsc_message_id: string | null;
  state: string;
  sent_at: string | null;
  receipt_at: string | null;
  error: string | null;
}
interface SenderId {
  id: number;
  name: string;
  status: string;
}

/** A row of a message list; a click opens the message. */
export function messageRow(m: Message, opts: { compact?: boolean; href?: string; selected?: boolean } = {}): HTMLTableRowElement {
  const href = opts.href ?? `#/messages?open=${m.id}`;
  const tr = h('tr', { class: `clickable${opts.selected ? ' selected' : ''}`, 'data-message': m.id, 'data-recipient': m.recipient, tabindex: 0 },
    h('td', { class: 'num' }, h('a', { href }, `#${m.id}`)),
    h('td', { title: dateTime(m.created_at) }, shortTime(m.created_at)),
    h('td', { class: 'mono' }, m.recipient),
    opts.compact ? null : h('td', null, m.sender_id),
    h('td', { class: 'text-cell', title: m.message }, m.message),
    h('td', { class: 'num' }, m.sms_count),
    opts.compact ? null : h('td', { class: 'num' }, int(m.cost)),
    h('td', null, pill(m.status), m.error ? h('div', { class: 'small bad-text error-cell', title: m.error }, m.error) : null),
    opts.compact ? null : h('td', { title: dateTime(m.done_at) }, shortTime(m.done_at)),
  );
  return clickableRow(tr, href);
}

export const messagesPage: Page = {
  title: 'Messages',
  needs: ['view_history', 'send_sms'],
  render(ctx) {
    const p = ctx.params;
    const current = Object.fromEntries(FILTERS.map((k) => [k, p.get(k) ?? ''])) as Record<(typeof FILTERS)[number], string>;
    const page = Math.max(1, Number(p.get('page')) || 1);
    const openId = Number(p.get('open')) || null;
    const keep = (extra: Record<string, string | number | null>) => ({ ...current, page: page > 1 ? page : null, ...extra });

    const parts: HTMLElement[] = [];
    if (ctx.can('send_sms')) parts.push(composer(ctx, p.get('compose') === '1', () => ctx.go('messages', { ...current })));
    let cleanup: (() => void) | undefined;
    if (ctx.can('view_history')) {
      const results = h('div', { class: 'card results' }, loading());
      const drawer = h('div', { class: 'drawer-host' });
      parts.push(searchForm(ctx, current), results, drawer);
      let timer: ReturnType<typeof setTimeout> | null = null;
      let openState: string | null = null;
      const refresh = async (first: boolean) => {
        timer = null;
        if (!ctx.active()) return;
        const res = await loadPage(ctx, results, current, page, keep, openId, first);
        if (!ctx.active()) return;
        const opened = openId ? res?.data.find((m) => m.id === openId) : undefined;
        if (opened && !first && opened.status !== openState) void openMessage(ctx, drawer, openId!, close, false);
        if (opened) openState = opened.status;
        // Read again while a message on screen is on its way (not one scheduled for later), and
        // only while the tab is visible.
        const now = Date.now();
        const moving = res?.data.some((m) => MOVING.has(m.status) && !(m.scheduled_at && Date.parse(m.scheduled_at) > now));
        if (moving) timer = setTimeout(() => (document.hidden ? document.addEventListener('visibilitychange', () => void refresh(false), { once: true }) : void refresh(false)), POLL_MS);
      };
      const close = () => ctx.go('messages', keep({ open: null }));
      void refresh(true);
      if (openId) void openMessage(ctx, drawer, openId, close, true);
      const onKey = (ev: KeyboardEvent) => {
        if (ev.key === 'Escape' && openId) close();
      };
      document.addEventListener('keydown', onKey);
      cleanup = () => {
        if (timer) clearTimeout(timer);
        document.removeEventListener('keydown', onKey);
      };
    } else {
      parts.push(h('p', { class: 'card muted' }, 'Your login may send but not read the history.'));
    }
    mount(ctx.root, parts);
    return cleanup;
  },
};

// --- Sending ------------------------------------------------------------------------------------------

function composer(ctx: PageContext, open: boolean, sent: () => void): HTMLElement {
  const recipients = h('textarea', { name: 'recipients', rows: 3, required: true, placeholder: '+24162000001, 077000002 … (one or more, separated by commas or lines)' });
  const text = h('textarea', { name: 'message', rows: 4, required: true, maxlength: 5000, placeholder: 'Your message' });
  const counter = h('span', { class: 'muted small counter' }, '0 characters');
  const sender = h('select', { name: 'sender_id' }, h('option', { value: '' }, ctx.me.default_sender_id ? `${ctx.me.default_sender_id} (the account's default)` : 'the gateway\'s default'));
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Send');
  const form = h('form', { class: 'card compose send-controls', id: 'compose', hidden: !open },
    h('header', { class: 'card-head' }, h('h2', null, 'Send a message')),
    h('div', { class: 'grid-2' },
      h('label', { class: 'field' }, h('span', null, 'To'), recipients),
      h('label', { class: 'field' }, h('span', null, 'Text'), text, counter),
    ),
    h('div', { class: 'row-form' },
      h('label', { class: 'field' }, h('span', null, 'Sender ID'), sender),
      submit,
      h('button', { type: 'button', class: 'ghost', onclick: () => {
        form.hidden = true;
        toggle.hidden = false;
      } }, 'Close'),
      h('span', { class: 'muted small' }, 'The cost is debited when the message is accepted, and refunded if no operator takes it.'),
    ),
  );
  const toggle = h('button', { type: 'button', class: 'primary send-controls', id: 'compose-open', hidden: open, onclick: () => {
    form.hidden = false;
    toggle.hidden = true;
    recipients.focus();
  } }, 'New message');
  text.addEventListener('input', () => {
    const n = [...text.value].length;
    counter.textContent = `${n} character${n === 1 ? '' : 's'}`;
  });
  if (ctx.can('manage_sender_ids')) {
    get<{ data: SenderId[] }>('/api/sender-ids').then((r) => {
      for (const sid of r.data.filter((x) => x.status === 'approved')) sender.append(h('option', { value: sid.name }, sid.name));
    }, () => undefined);
  }
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const to = numbersIn(recipients.value);
    if (!to.length) return;
    submit.disabled = true;
    try {
      const res = await post<{ message?: string; data: { total: number; sent: number; failed: number; total_cost: number; message_ids: number[]; failures: { recipient: string; error: string; reason: string }[]; sender_id: string; balance: number } }>(
        '/api/messages/send', { recipients: to, message: text.value, ...(sender.value ? { sender_id: sender.value } : {}) });
      const d = res.data;
      notify(d.sent ? 'success' : 'error', `${int(d.sent)} of ${int(d.total)} accepted from ${d.sender_id}, cost ${money(d.total_cost, ctx.config.currency)}; balance ${money(d.balance, ctx.config.currency)}`,
        d.failures.map((f) => `${f.recipient}: ${f.reason}`));
      ctx.refreshBalance();
      if (d.sent) {
        text.value = '';
        recipients.value = '';
        sent();
      }
    } catch (e) {
      notifyError(e, 'Not sent');
    } finally {
      submit.disabled = false;
    }
  });
  return h('div', { class: 'compose-host' }, toggle, form);
}

// --- The list -------------------------------------------------------------------------------------------

function searchForm(ctx: PageContext, current: Record<string, string>): HTMLFormElement {
  const field = (label: string, input: HTMLElement) => h('label', { class: 'field' }, h('span', null, label), input);
  const phone = h('input', { type: 'search', name: 'phone', placeholder: 'digits: 62000001…', value: current.phone ?? '', autocomplete: 'off' });
  const status = h('select', { name: 'status' }, h('option', { value: '' }, 'any'), STATUSES.map((st) => h('option', { value: st, selected: st === current.status }, st)));
  const from = h('input', { type: 'date', name: 'start_date', value: current.start_date ?? '' });
  const to = h('input', { type: 'date', name: 'end_date', value: current.end_date ?? '', title: 'This day included (UTC)' });
  const exportLink = ctx.can('export_data')
    ? h('a', { class: 'button ghost', href: `/api/messages/export${query({ format: 'csv', phone: current.phone, status: current.status, start_date: current.start_date, end_date: current.end_date })}`, download: '' }, 'Export CSV')
    : null;
  const form = h('form', { class: 'card search', role: 'search', id: 'history-search' },
    field('Number', phone), field('Status', status), field('From (UTC day)', from), field('To', to),
    h('div', { class: 'field buttons' }, h('button', { type: 'submit', class: 'primary' }, 'Search'), h('button', { type: 'button', class: 'ghost', onclick: () => ctx.go('messages') }, 'Clear'), exportLink),
  );
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    ctx.go('messages', { phone: phone.value.trim() || null, status: status.value || null, start_date: from.value || null, end_date: to.value || null });
  });
  return form;
}

async function loadPage(ctx: PageContext, host: HTMLElement, filters: Record<string, string>, page: number, keep: (extra: Record<string, string | number | null>) => Record<string, string | number | null>, openId: number | null, first: boolean): Promise<Paginated<Message> | null> {
  let res: Paginated<Message>;
  try {
    res = await get(`/api/messages/history${query({ ...filters, page, per_page: 50 })}`);
  } catch (e) {
    // A failed refresh keeps what is on screen; a failed first read says why.
    if (ctx.active() && first) loadFailed(host, e, 'the messages');
    return null;
  }
  if (!ctx.active()) return res;
  const rows = res.data.map((m) => messageRow(m, { href: `#/messages${query(keep({ open: m.id }))}`, selected: m.id === openId }));
  mount(host,
    table([['ID', 'num'], 'Created', 'To', 'Sender', 'Text', ['Parts', 'num'], ['Cost', 'num'], 'Status', 'Done'],
      rows.length ? rows : [empty(Object.values(filters).some(Boolean) ? 'No message matches this search.' : 'No message yet.', 9)], { class: 'messages', id: 'history' }),
    pagerOf(res, 'message', (n) => ctx.go('messages', keep({ page: n, open: null })), ['← Newer', 'Older →']),
  );
  return res;
}

// --- One message ------------------------------------------------------------------------------------------

async function openMessage(ctx: PageContext, host: HTMLElement, id: number, close: () => void, first: boolean): Promise<void> {
  let body = host.querySelector<HTMLElement>('.drawer-body');
  let title = host.querySelector<HTMLElement>('.drawer-head h2');
  if (first || !body || !title) {
    body = h('div', { class: 'drawer-body' }, loading());
    const closeBtn = h('button', { type: 'button', class: 'ghost', 'aria-label': 'Close', onclick: close }, 'Close ×');
    title = h('h2', null, `Message #${id}`);
    mount(host, h('div', { class: 'drawer-backdrop', onclick: close }), h('aside', { class: 'drawer', role: 'dialog', 'aria-label': `Message ${id}`, 'data-story': id }, h('header', { class: 'drawer-head' }, title, closeBtn), body));
    closeBtn.focus();
  }
  let m: Message & { parts: Part[] };
  try {
    m = (await get<{ data: Message & { parts: Part[] } }>(`/api/messages/${id}`)).data;
  } catch (e) {
    if (ctx.active()) loadFailed(body, e, 'this message');
    return;
  }
  if (!ctx.active()) return;
  mount(title, `Message #${id} `, pill(m.status));
  mount(body, story(m, ctx.config.currency));
}

function story(m: Message & { parts: Part[] }, currency: string): Child[] {
  const final = m.done_at !== null;
  const steps: [string, string | null, Tone][] = [
    ['accepted', m.created_at, 'info'],
    ...(m.scheduled_at ? [['scheduled', m.scheduled_at, 'info'] as [string, string, Tone]] : []),
    ['sent to the operator', m.sent_at, m.sent_at ? 'info' : 'muted'],
    final ? [m.status, m.done_at, toneOf(m.status)] : [m.sent_at ? 'waiting for the receipt' : 'waiting to be sent', null, 'muted'],
  ];
  return [
    facts([
      ['To', h('span', { class: 'mono' }, m.recipient)],
      ['Sender', m.sender_id],
      ['Operator', m.operator ?? '—'],
      ['Parts', `${m.sms_count} · ${m.encoding}`],
      ['Cost', money(m.cost, currency)],
      ['Attempts', int(m.attempts)],
      m.smsc_message_id ? ['SMSC id', h('code', { class: 'smsc-id' }, m.smsc_message_id)] : null,
      m.error ? ['Error', h('span', { class: 'bad-text' }, `${m.error}${m.error_code !== null ? ` (code ${m.error_code})` : ''}`)] : null,
    ]),
    h('h3', null, 'Text'),
    h('div', { class: 'body-text' }, m.message),
    h('h3', null, 'Progress'),
    h('ol', { class: 'timeline progress' }, steps.map(([label, at, tone]) => h('li', { class: at ? null : 'future' }, h('time', { datetime: at ?? null }, at ? dateTime(at) : '—'), pill(label, tone)))),
    h('h3', null, 'Parts'),
    m.parts.length
      ? h('div', { class: 'parts' }, m.parts.map((p) => h('div', { class: 'part', 'data-part': p.part },
          h('div', { class: 'part-head' }, h('strong', null, `Part ${p.part}`), pill(p.state), h('span', { class: 'muted small' }, 'SMSC id '), h('code', { class: 'smsc-id' }, p.smsc_message_id ?? '—')),
          facts([['Sent', dateTime(p.sent_at)], ['Receipt', dateTime(p.receipt_at)], p.error ? ['Receipt err', p.error] : null]),
        )))
      : h('p', { class: 'muted' }, 'No part taken by an operator yet.'),
  ];
}
