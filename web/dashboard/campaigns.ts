/**
 * Campaigns: create one (a name, a text, groups, segments and numbers), list them, and follow one
 * (#/campaigns?open=7): its counters from the messages' own states, progress, delivery rate, runs,
 * and the actions its state allows (send now, pause, resume, cancel). The open campaign is read
 * again every 2 s while it runs.
 */
import { get, post, query } from '/web/api.js';
import { gauge } from '/web/chart.js';
import { h, mount, table } from '/web/dom.js';
import { dateTime, int, money, percent, shortTime } from '/web/format.js';
import { act, empty, facts, loadFailed, loading, notify, pagerOf, pill } from '/web/ui.js';
import type { Paginated } from '/web/types.js';
import { listSegments, type Group, type Segment } from './contacts.js';
import { numbersIn, type Page, type PageContext } from './page.js';

interface Stats {
  total_recipients: number;
  queued: number;
  sent: number;
  delivered: number;
  failed: number;
  cancelled: number;
  removed?: number;
  duplicates?: number;
  delivery_rate: number;
}
interface Campaign {
  id: number;
  name: string;
  message_content: string;
  status: string;
  sender_id: string | null;
  scheduled_at: string | null;
  group_ids: number[];
  contact_ids: number[];
  segment_ids: number[];
  recipients_count: number;
  stats: Stats;
  delivery_rate: number;
  runs: { id: number; phase: string; total: number; removed: number; duplicates: number; reserved: number; started_at: string | null; finished_at: string | null }[];
  last_error: string | null;
  created_at: string;
  updated_at: string;
}

const STARTABLE = new Set(['draft', 'scheduled', 'completed', 'failed', 'cancelled']);
const POLL_MS = 2000;

export const campaignsPage: Page = {
  title: 'Campaigns',
  // Reading: create_campaigns or view_analytics (a viewer follows campaigns); acting: create_campaigns.
  needs: ['create_campaigns', 'view_analytics'],
  render(ctx) {
    const open = Number(ctx.params.get('open')) || null;
    if (open) return campaignDetail(ctx, open);
    const page = Math.max(1, Number(ctx.params.get('page')) || 1);
    const list = h('div', { class: 'card' }, loading());
    const form = createForm(ctx);
    const toggle = h('button', { type: 'button', class: 'primary send-controls', id: 'campaign-new', onclick: () => {
      form.hidden = !form.hidden;
      if (!form.hidden) form.querySelector('input')?.focus();
    } }, 'New campaign');
    mount(ctx.root, ctx.can('create_campaigns') ? h('div', { class: 'toolbar' }, toggle) : null, ctx.can('create_campaigns') ? form : null, list);
    void loadList(ctx, list, page);
  },
};

// --- Creating ----------------------------------------------------------------------------------------

function createForm(ctx: PageContext): HTMLFormElement {
  const field = (label: string, input: HTMLElement, cls = '') => h('label', { class: `field ${cls}` }, h('span', null, label), input);
  const name = h('input', { type: 'text', name: 'name', id: 'campaign-name', required: true, maxlength: 200, placeholder: 'Black Friday' });
  const message = h('textarea', { name: 'message_content', id: 'campaign-message', required: true, rows: 4, maxlength: 5000, placeholder: 'Bonjour {prenom}, -20% this week with the code FRIDAY.' });
  const numbers = h('textarea', { name: 'recipients', rows: 2, placeholder: 'Extra numbers, separated by commas or lines (optional)' });
  const sender = h('select', { name: 'sender_id' }, h('option', { value: '' }, ctx.me.default_sender_id ? `${ctx.me.default_sender_id} (default)` : 'the gateway\'s default'));
  const groups = h('fieldset', { class: 'events audience-groups' }, h('legend', null, 'Groups'), h('span', { class: 'muted small' }, 'none yet'));
  const segments = h('fieldset', { class: 'events audience-segments' }, h('legend', null, 'Segments'), h('span', { class: 'muted small' }, 'none yet'));
  const startNow = h('input', { type: 'checkbox', name: 'start', checked: true });
  const form = h('form', { class: 'card campaign-create', id: 'campaign-create', hidden: true },
    h('header', { class: 'card-head' }, h('h2', null, 'New campaign')),
    h('div', { class: 'grid-2' },
      h('div', { class: 'stack' }, field('Name', name), field('Message', message), h('p', { class: 'muted small' }, 'Variables filled from each contact: {nom}, {prenom}, {email}, {telephone}, {custom.field}.')),
      h('div', { class: 'stack' }, ctx.can('manage_groups') ? groups : null, ctx.can('manage_contacts') ? segments : null, field('Numbers', numbers), ctx.can('manage_sender_ids') ? field('Sender ID', sender) : null),
    ),
    h('div', { class: 'row-form' },
      ctx.can('send_sms') ? h('label', { class: 'check' }, startNow, 'Start sending now (otherwise a draft)') : null,
      h('button', { type: 'submit', class: 'primary' }, 'Create campaign'),
      h('span', { class: 'muted small' }, 'Starting reserves the whole cost from the balance; what is never sent is refunded.'),
    ),
  );
  const checks = (host: HTMLElement, legend: string, items: { id: number; label: string }[]) => {
    if (!items.length) return;
    mount(host, h('legend', null, legend), items.map((it) => h('label', { class: 'check' }, h('input', { type: 'checkbox', name: legend.toLowerCase(), value: it.id }), it.label)));
  };
  if (ctx.can('manage_groups')) get<{ data: Group[] }>('/api/contact-groups').then((r) => checks(groups, 'Groups', r.data.map((g) => ({ id: g.id, label: `${g.name} (${int(g.contacts_count)})` }))), () => undefined);
  if (ctx.can('manage_contacts')) listSegments().then((r: Segment[]) => checks(segments, 'Segments', r.map((s) => ({ id: s.id, label: s.name }))), () => undefined);
  if (ctx.can('manage_sender_ids')) {
    get<{ data: { name: string; status: string }[] }>('/api/sender-ids').then((r) => {
      for (const s of r.data.filter((x) => x.status === 'approved')) sender.append(h('option', { value: s.name }, s.name));
    }, () => undefined);
  }
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const ids = (n: string) => [...form.querySelectorAll<HTMLInputElement>(`input[name="${n}"]:checked`)].map((i) => Number(i.value));
    const body = {
      name: name.value.trim(), message_content: message.value,
      group_ids: ids('groups'), segment_ids: ids('segments'), recipients: numbersIn(numbers.value),
      ...(sender.value ? { sender_id: sender.value } : {}),
    };
    if (!body.group_ids.length && !body.segment_ids.length && !body.recipients.length) {
      notify('error', 'Choose who receives it: a group, a segment or numbers.');
      return;
    }
    const created = await act(form, () => post<{ message?: string; data: Campaign }>('/api/campaigns', body), `Campaign ${body.name} created`);
    if (!created) return;
    if (ctx.can('send_sms') && startNow.checked) {
      await act(null, () => post<{ message?: string; data: Campaign }>(`/api/campaigns/${created.data.id}/send`), (r) => `Campaign ${body.name} started: ${int(r.data.stats.total_recipients)} recipients`);
      ctx.refreshBalance();
    }
    ctx.go('campaigns', { open: created.data.id });
  });
  return form;
}

// --- The list ------------------------------------------------------------------------------------------

async function loadList(ctx: PageContext, host: HTMLElement, page: number): Promise<void> {
  let res: Paginated<Campaign>;
  try {
    res = await get(`/api/campaigns${query({ page, per_page: 25 })}`);
  } catch (e) {
    if (ctx.active()) loadFailed(host, e, 'the campaigns');
    return;
  }
  if (!ctx.active()) return;
  const rows = res.data.map((c) => {
    const href = `#/campaigns?open=${c.id}`;
    const tr = h('tr', { class: 'clickable', 'data-campaign': c.id, 'data-name': c.name, tabindex: 0 },
      h('td', null, h('a', { href }, h('strong', null, c.name)), h('div', { class: 'muted small text-cell', title: c.message_content }, c.message_content)),
      h('td', null, pill(c.status)),
      h('td', { class: 'num' }, int(c.stats.total_recipients)),
      h('td', { class: 'num' }, int(c.stats.sent)),
      h('td', { class: 'num' }, int(c.stats.delivered)),
      h('td', { class: 'num' }, int(c.stats.failed)),
      h('td', { class: 'num' }, percent(c.delivery_rate)),
      h('td', { title: dateTime(c.created_at) }, shortTime(c.created_at)),
    );
    tr.addEventListener('click', (ev) => {
      if (!(ev.target instanceof HTMLAnchorElement)) location.hash = href;
    });
    return tr;
  });
  mount(host,
    table(['Campaign', 'Status', ['Recipients', 'num'], ['Sent', 'num'], ['Delivered', 'num'], ['Failed', 'num'], ['Delivery rate', 'num'], 'Created'], rows.length ? rows : [empty('No campaign yet.', 8)], { class: 'campaigns' }),
    pagerOf(res, 'campaign', (n) => ctx.go('campaigns', { page: n })),
  );
}

// --- One campaign ----------------------------------------------------------------------------------------

function campaignDetail(ctx: PageContext, id: number): () => void {
  const host = h('div', { class: 'page campaign', 'data-campaign-detail': id }, loading());
  mount(ctx.root, h('p', null, h('a', { href: '#/campaigns' }, '← All campaigns')), host);
  let timer: ReturnType<typeof setTimeout> | null = null;
  const refresh = async () => {
    timer = null;
    let c: Campaign;
    try {
      c = (await get<{ data: Campaign }>(`/api/campaigns/${id}`)).data;
    } catch (e) {
      if (ctx.active()) loadFailed(host, e, 'this campaign');
      return;
    }
    if (!ctx.active()) return;
    draw(ctx, host, c, () => {
      if (timer) clearTimeout(timer);
      void refresh();
    });
    if (c.status === 'running' || (c.stats.queued > 0 && c.status !== 'paused' && c.status !== 'draft') || c.stats.sent > c.stats.delivered + c.stats.failed) timer = setTimeout(() => void refresh(), POLL_MS);
  };
  void refresh();
  return () => {
    if (timer) clearTimeout(timer);
  };
}

function draw(ctx: PageContext, host: HTMLElement, c: Campaign, reload: () => void): void {
  const k = c.stats;
  const action = (label: string, path: string, done: string, cls = 'ghost', ask?: string) => {
    const b = h('button', { type: 'button', class: `${cls} send-controls`, 'data-action': path }, label);
    b.addEventListener('click', async () => {
      if (ask && !confirm(ask)) return;
      if (await act(b, () => post(`/api/campaigns/${c.id}/${path}`), done)) {
        ctx.refreshBalance();
        reload();
      }
    });
    return b;
  };
  const actions = !ctx.can('create_campaigns') ? [] : [
    STARTABLE.has(c.status) && ctx.can('send_sms') ? action(c.status === 'draft' ? 'Send now' : 'Send again', 'send', `Campaign ${c.name} started`, 'primary', c.status === 'draft' ? undefined : `Send “${c.name}” again to its whole audience?`) : null,
    c.status === 'running' ? action('Pause', 'pause', `Campaign ${c.name} paused`) : null,
    c.status === 'paused' ? action('Resume', 'resume', `Campaign ${c.name} resumed`, 'primary') : null,
    ['running', 'paused', 'scheduled'].includes(c.status) ? action('Cancel', 'cancel', `Campaign ${c.name} cancelled`, 'ghost danger', `Cancel “${c.name}”? Messages not yet sent are cancelled and refunded.`) : null,
  ];
  const done = k.total_recipients - k.queued;
  const counters: [string, number, string][] = [
    ['Recipients', k.total_recipients, 'total'], ['Waiting', k.queued, 'queued'], ['Sent', k.sent, 'sent'], ['Delivered', k.delivered, 'delivered'], ['Failed', k.failed, 'failed'], ['Cancelled', k.cancelled, 'cancelled'],
  ];
  mount(host,
    h('section', { class: 'card' },
      h('header', { class: 'card-head campaign-head' }, h('h2', null, c.name), pill(c.status), h('div', { class: 'actions grow-right' }, actions)),
      h('div', { class: 'summary counters' }, counters.map(([label, n, key]) => h('div', { class: 'stat', 'data-counter': key }, h('span', { class: 'stat-label' }, label), h('span', { class: 'stat-value' }, int(n))))),
      h('div', { class: 'progress-row' },
        gauge(done, Math.max(1, k.total_recipients), { width: 320, height: 10 }),
        h('span', null, k.total_recipients ? `${int(done)} of ${int(k.total_recipients)} handed to the operators` : 'not started yet'),
        h('strong', { class: 'delivery-rate', 'data-rate': c.delivery_rate }, `Delivery rate ${percent(c.delivery_rate)}`),
      ),
      c.last_error ? h('p', { class: 'bad-text' }, `Last error: ${c.last_error}`) : null,
      facts([
        ['Sender', c.sender_id ?? 'default'],
        ['Audience', [c.group_ids.length ? `${c.group_ids.length} group(s)` : '', c.segment_ids.length ? `${c.segment_ids.length} segment(s)` : '', c.contact_ids.length ? `${c.contact_ids.length} contact(s)` : '', c.recipients_count ? `${c.recipients_count} number(s)` : ''].filter(Boolean).join(', ') || '—'],
        k.removed !== undefined ? ['Removed', `${int(k.removed)} (invalid, blacklisted, opted out) · ${int(k.duplicates ?? 0)} duplicates`] : null,
        ['Scheduled', c.scheduled_at ? dateTime(c.scheduled_at) : '—'],
        ['Created', dateTime(c.created_at)],
        ['Updated', dateTime(c.updated_at)],
      ]),
      h('h3', null, 'Message'),
      h('div', { class: 'body-text' }, c.message_content),
      h('h3', null, 'Runs'),
      c.runs.length
        ? table(['Started', 'Phase', ['Recipients', 'num'], ['Removed', 'num'], ['Duplicates', 'num'], ['Reserved', 'num'], 'Finished'], c.runs.map((r) => [
            dateTime(r.started_at), pill(r.phase, r.phase === 'done' ? 'ok' : 'wait'), h('td', { class: 'num' }, int(r.total)), h('td', { class: 'num' }, int(r.removed)), h('td', { class: 'num' }, int(r.duplicates)), h('td', { class: 'num' }, money(r.reserved, ctx.config.currency)), dateTime(r.finished_at),
          ]), { class: 'compact runs' })
        : h('p', { class: 'muted' }, 'Not started yet.'),
    ),
  );
}
