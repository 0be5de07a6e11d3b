/**
 * Sender IDs: what phones show as the sender. A request is pending until the operator approves
 * it (GET/POST /api/sender-ids); the account's first approved one becomes its default.
 */
import { get, post } from '/web/api.js';
import { h, mount, table } from '/web/dom.js';
import { dateTime, shortTime } from '/web/format.js';
import { act, empty, loadFailed, loading, pill } from '/web/ui.js';
import type { Page, PageContext } from './page.js';

interface SenderId {
  id: number;
  name: string;
  status: string;
  created_at: string;
  decided_at: string | null;
}

export const senderIdsPage: Page = {
  title: 'Sender IDs',
  intro: 'Up to 11 letters or digits (ACMESHOP), or a number. A request waits for the operator\'s approval; until you have one, messages go out under the gateway\'s default sender.',
  needs: ['manage_sender_ids'],
  render(ctx) {
    const name = h('input', { type: 'text', name: 'name', id: 'sender-name', required: true, maxlength: 15, placeholder: 'ACMESHOP', autocomplete: 'off' });
    const form = h('form', { class: 'card row-form', id: 'sender-request' },
      h('label', { class: 'field' }, h('span', null, 'Sender ID'), name),
      h('button', { type: 'submit', class: 'primary' }, 'Request'),
      h('span', { class: 'muted small' }, ctx.me.default_sender_id ? `Your default sender: ${ctx.me.default_sender_id}` : 'No approved sender ID yet.'),
    );
    const list = h('div', { class: 'card' }, loading());
    mount(ctx.root, form, list);
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const n = name.value.trim();
      if (!n) return;
      if (await act(form, () => post(`/api/sender-ids`, { name: n }), `Sender ID ${n} requested: pending until the operator approves it`)) {
        name.value = '';
        void load(ctx, list);
      }
    });
    void load(ctx, list);
  },
};

async function load(ctx: PageContext, host: HTMLElement): Promise<void> {
  let rows: SenderId[];
  try {
    rows = (await get<{ data: SenderId[] }>('/api/sender-ids')).data;
  } catch (e) {
    if (ctx.active()) loadFailed(host, e, 'the sender IDs');
    return;
  }
  if (!ctx.active()) return;
  mount(host, table(['Sender ID', 'Status', 'Requested', 'Decided'], rows.length
    ? [...rows].reverse().map((r) => h('tr', { 'data-sender-id': r.id, 'data-name': r.name },
        h('td', null, h('strong', { class: 'mono' }, r.name), r.name === ctx.me.default_sender_id ? h('span', { class: 'muted small' }, ' · default') : null),
        h('td', null, pill(r.status)),
        h('td', { title: dateTime(r.created_at) }, shortTime(r.created_at)),
        h('td', { title: dateTime(r.decided_at) }, shortTime(r.decided_at))))
    : [empty('No sender ID requested yet.', 4)], { class: 'sender-ids' }));
}
