/**
 * Settings → Sub-accounts (for a login holding manage_sub_accounts): logins inside this account for
 * its staff, each with a role (admin, manager, sender, viewer) and the documented permissions,
 * which can be changed here; a credit limit of its own; suspend, activate, delete.
 */
import { del, get, post } from '/web/api.js';
import { h, mount, table } from '/web/dom.js';
import { dateTime, int, money, shortTime } from '/web/format.js';
import { act, empty, loadFailed, loading, pill } from '/web/ui.js';
import { DOCUMENTED_PERMISSIONS, type Page, type PageContext, type SubAccount } from './page.js';

const ROLES: readonly (readonly [string, string])[] = [
  ['sender', 'sender — sends and reads the history'],
  ['viewer', 'viewer — reads the history and figures'],
  ['manager', 'manager — everything but keys, webhooks and sub-accounts'],
  ['admin', 'admin — everything the owner can do'],
];

const LABELS: Record<string, string> = {
  send_sms: 'send SMS', view_history: 'view history', manage_contacts: 'contacts', manage_groups: 'groups', create_campaigns: 'campaigns',
  view_analytics: 'analytics', manage_templates: 'templates', export_data: 'export',
};

export const subAccountsPage: Page = {
  title: 'Sub-accounts',
  intro: 'Logins for your staff or departments. They act inside this account with their role\'s rights; their sends count against their own credit limit and your balance.',
  needs: ['manage_sub_accounts'],
  render(ctx) {
    const list = h('div', { class: 'card' }, loading());
    mount(ctx.root, createForm(() => load(ctx, list)), list);
    void load(ctx, list);
  },
};

function createForm(reload: () => Promise<void>): HTMLFormElement {
  const field = (label: string, input: HTMLElement, grow = false) => h('label', { class: `field${grow ? ' grow' : ''}` }, h('span', null, label), input);
  const name = h('input', { type: 'text', name: 'name', required: true, maxlength: 100 });
  const email = h('input', { type: 'email', name: 'email', required: true, maxlength: 190, autocomplete: 'off' });
  const password = h('input', { type: 'password', name: 'password', required: true, minlength: 8, autocomplete: 'new-password' });
  const role = h('select', { name: 'role' }, ROLES.map(([r, label]) => h('option', { value: r }, label)));
  const limit = h('input', { type: 'number', name: 'sms_credit_limit', min: 0, step: 1, placeholder: 'none' });
  const form = h('form', { class: 'card row-form', id: 'sub-account-create' },
    field('Name', name, true), field('Email (its login)', email, true), field('Password', password), field('Role', role), field('Credit limit', limit),
    h('button', { type: 'submit', class: 'primary' }, 'Create'),
  );
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const body: Record<string, unknown> = { name: name.value.trim(), email: email.value.trim(), password: password.value, role: role.value };
    if (limit.value !== '') body.sms_credit_limit = Number(limit.value);
    if (await act(form, () => post('/api/sub-accounts', body), `Sub-account ${email.value.trim()} created: it logs in here with that email`)) {
      form.reset();
      void reload();
    }
  });
  return form;
}

async function load(ctx: PageContext, host: HTMLElement): Promise<void> {
  let subs: SubAccount[];
  try {
    subs = (await get<{ data: SubAccount[] }>('/api/sub-accounts')).data;
  } catch (e) {
    if (ctx.active()) loadFailed(host, e, 'the sub-accounts');
    return;
  }
  if (!ctx.active()) return;
  const reload = () => load(ctx, host);
  const rows = subs.flatMap((sa) => {
    const editRow = h('tr', { class: 'inline-form', hidden: true, 'data-permissions-of': sa.id });
    const boxes = DOCUMENTED_PERMISSIONS.map((p) => h('label', { class: 'check' }, h('input', { type: 'checkbox', name: 'permissions', value: p, checked: sa.permissions.includes(p) }), LABELS[p] ?? p));
    const form = h('form', { class: 'row-form' }, h('span', null, 'Permissions of ', h('strong', null, sa.name)), boxes,
      h('button', { type: 'submit', class: 'primary small-btn' }, 'Save'), h('button', { type: 'button', class: 'ghost small-btn', onclick: () => (editRow.hidden = true) }, 'Cancel'));
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const chosen = [...form.querySelectorAll<HTMLInputElement>('input:checked')].map((i) => i.value);
      if (await act(form, () => post(`/api/sub-accounts/${sa.id}/permissions`, { permissions: chosen }), `Permissions of ${sa.name} saved`)) void reload();
    });
    editRow.appendChild(h('td', { colspan: 7 }, form));
    const suspended = sa.status === 'suspended';
    const toggle = h('button', { type: 'button', class: suspended ? 'ghost small-btn' : 'ghost danger small-btn' }, suspended ? 'Activate' : 'Suspend');
    toggle.addEventListener('click', async () => {
      if (!suspended && !confirm(`Suspend ${sa.email}? Its logins and keys are refused at once.`)) return;
      if (await act(toggle, () => post(`/api/sub-accounts/${sa.id}/${suspended ? 'activate' : 'suspend'}`), `${sa.email} ${suspended ? 'activated' : 'suspended'}`)) void reload();
    });
    const remove = h('button', { type: 'button', class: 'ghost danger small-btn' }, 'Delete');
    remove.addEventListener('click', async () => {
      if (!confirm(`Delete ${sa.email}? Its logins end at once.`)) return;
      if (await act(remove, () => del(`/api/sub-accounts/${sa.id}`), `${sa.email} deleted`)) void reload();
    });
    const edit = h('button', { type: 'button', class: 'ghost small-btn', onclick: () => (editRow.hidden = !editRow.hidden) }, 'Permissions');
    return [
      h('tr', { 'data-sub-account': sa.id, 'data-email': sa.email },
        h('td', null, h('strong', null, sa.name), h('div', { class: 'muted small' }, sa.email)),
        h('td', null, pill(sa.role, 'info')),
        h('td', { class: 'small perms' }, sa.permissions.map((p) => LABELS[p] ?? p).join(', ') || h('span', { class: 'muted' }, 'none')),
        h('td', null, pill(sa.status)),
        h('td', { class: 'num' }, sa.sms_credit_limit === null ? h('span', { class: 'muted' }, 'no limit') : `${int(sa.credits_used)} / ${money(sa.sms_credit_limit, ctx.config.currency)}`),
        h('td', { title: dateTime(sa.created_at) }, shortTime(sa.created_at)),
        h('td', { class: 'actions' }, edit, toggle, remove),
      ),
      editRow,
    ];
  });
  mount(host, table(['Sub-account', 'Role', 'Permissions', 'Status', ['Credit used / limit', 'num'], 'Created', ['Actions', 'actions']], rows.length ? rows : [empty('No sub-account yet.', 7)], { class: 'sub-accounts' }));
}
