/**
 * Contacts: the address book (GET /api/contacts with a search, a group and a status), a new
 * contact, a CSV import whose bad rows are listed by line (POST /api/contacts/import), the groups
 * (/api/contact-groups) and the segments, saved filters on tags and attributes (Mifumo's
 * /api/integration/v1/contacts/segments/, the one API that serves them). Tabs in the hash:
 * #/contacts?tab=groups.
 */
import { del, get, post, query, upload } from '/web/api.js';
import { h, mount, table } from '/web/dom.js';
import { dateTime, int, shortTime } from '/web/format.js';
import { act, empty, loadFailed, loading, notifyError, pagerOf, pill } from '/web/ui.js';
import type { Paginated } from '/web/types.js';
import type { Page, PageContext, Permission } from './page.js';

interface Contact {
  id: number;
  uuid: string;
  name: string;
  email: string | null;
  phone: string;
  groups: string[];
  status: string;
  custom_fields: Record<string, string>;
  tags: string[];
  created_at: string;
}
export interface Group {
  id: number;
  name: string;
  description: string | null;
  contacts_count: number;
  created_at: string;
}
export interface Segment {
  id: number;
  name: string;
  description: string | null;
  tags: string[];
  attributes: Record<string, string>;
  contact_count?: number;
  created_at: string;
}
interface ImportResult {
  created: number;
  updated: number;
  failed: number;
  errors: { row: number; field: string; message: string }[];
}

const TABS: readonly (readonly [string, string, Permission])[] = [['contacts', 'Contacts', 'manage_contacts'], ['groups', 'Groups', 'manage_groups'], ['segments', 'Segments', 'manage_contacts']];

/** The segments, from the Mifumo integration API (its envelope: {success, data}). */
export async function listSegments(): Promise<Segment[]> {
  return (await get<{ data: Segment[] }>('/api/integration/v1/contacts/segments/')).data;
}

export const contactsPage: Page = {
  title: 'Contacts',
  needs: ['manage_contacts', 'manage_groups'],
  render(ctx) {
    const tabs = TABS.filter(([, , perm]) => ctx.can(perm));
    const asked = ctx.params.get('tab') ?? tabs[0]![0];
    const tab = tabs.find(([id]) => id === asked)?.[0] ?? tabs[0]![0];
    const nav = h('nav', { class: 'tabs', 'aria-label': 'Contacts' }, tabs.map(([id, label]) => h('a', { href: `#/contacts${id === 'contacts' ? '' : `?tab=${id}`}`, 'aria-current': id === tab ? 'page' : null, 'data-tab': id }, label)));
    const body = h('div', { class: 'page' });
    mount(ctx.root, nav, body);
    if (tab === 'groups') groupsTab(ctx, body);
    else if (tab === 'segments') segmentsTab(ctx, body);
    else contactsTab(ctx, body);
  },
};

// --- Contacts ------------------------------------------------------------------------------------------

function contactsTab(ctx: PageContext, root: HTMLElement): void {
  const p = ctx.params;
  const current = { q: p.get('q') ?? '', group: p.get('group') ?? '', status: p.get('status') ?? '' };
  const page = Math.max(1, Number(p.get('page')) || 1);
  const q = h('input', { type: 'search', name: 'q', id: 'contact-search', value: current.q, placeholder: 'name, email or number', autocomplete: 'off' });
  const group = h('select', { name: 'group' }, h('option', { value: '' }, 'any group'), current.group ? h('option', { value: current.group, selected: true }, current.group) : null);
  const status = h('select', { name: 'status' }, h('option', { value: '' }, 'any status'), ['active', 'inactive', 'unsubscribed'].map((st) => h('option', { value: st, selected: st === current.status }, st)));
  const search = h('form', { class: 'card search', role: 'search', id: 'contact-filter' },
    h('label', { class: 'field grow' }, h('span', null, 'Search'), q),
    ctx.can('manage_groups') ? h('label', { class: 'field' }, h('span', null, 'Group'), group) : null,
    h('label', { class: 'field' }, h('span', null, 'Status'), status),
    h('div', { class: 'field buttons' }, h('button', { type: 'submit', class: 'primary' }, 'Search'), h('button', { type: 'button', class: 'ghost', onclick: () => ctx.go('contacts') }, 'Clear'),
      h('button', { type: 'button', class: 'ghost', id: 'contact-new', onclick: () => (createCard.hidden = !createCard.hidden) }, 'New contact'),
      h('button', { type: 'button', class: 'ghost', id: 'contact-import-open', onclick: () => (importCard.hidden = !importCard.hidden) }, 'Import CSV')),
  );
  search.addEventListener('submit', (ev) => {
    ev.preventDefault();
    ctx.go('contacts', { q: q.value.trim() || null, group: group.value || null, status: status.value || null });
  });
  if (ctx.can('manage_groups')) {
    get<{ data: Group[] }>('/api/contact-groups').then((r) => {
      for (const g of r.data) if (g.name !== current.group) group.append(h('option', { value: g.name }, `${g.name} (${int(g.contacts_count)})`));
    }, () => undefined);
  }
  const list = h('div', { class: 'card' }, loading());
  const reload = () => loadContacts(ctx, list, current, page);
  const createCard = createContact(ctx, reload);
  const importCard = importCsv(ctx, reload);
  mount(root, search, createCard, importCard, list);
  void reload();
}

function createContact(ctx: PageContext, reload: () => Promise<void>): HTMLElement {
  const field = (label: string, input: HTMLElement, grow = false) => h('label', { class: `field${grow ? ' grow' : ''}` }, h('span', null, label), input);
  const name = h('input', { type: 'text', name: 'name', required: true, maxlength: 200 });
  const phone = h('input', { type: 'tel', name: 'phone', required: true, maxlength: 32, placeholder: '+24162000001 or 062000001' });
  const email = h('input', { type: 'email', name: 'email', maxlength: 190 });
  const group = h('input', { type: 'text', name: 'group', maxlength: 100, placeholder: 'created if new', list: 'group-names' });
  const tags = h('input', { type: 'text', name: 'tags', placeholder: 'vip, lead' });
  const form = h('form', { class: 'card row-form', id: 'contact-create', hidden: true },
    field('Name', name, true), field('Phone', phone), field('Email', email), ctx.can('manage_groups') ? field('Group', group) : null, field('Tags', tags),
    h('button', { type: 'submit', class: 'primary' }, 'Add contact'),
  );
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const body: Record<string, unknown> = { name: name.value.trim(), phone: phone.value.trim() };
    if (email.value.trim()) body.email = email.value.trim();
    if (group.value.trim()) body.group = group.value.trim();
    const t = tags.value.split(',').map((x) => x.trim()).filter(Boolean);
    if (t.length) body.tags = t;
    if (await act(form, () => post('/api/contacts', body), `Contact ${name.value.trim()} added`)) {
      form.reset();
      void reload();
    }
  });
  return form;
}

function importCsv(ctx: PageContext, reload: () => Promise<void>): HTMLElement {
  const file = h('input', { type: 'file', name: 'file', id: 'import-file', accept: '.csv,text/csv', required: true });
  const result = h('div', { class: 'import-result', id: 'import-result', 'aria-live': 'polite' });
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Import');
  const form = h('form', { class: 'card', id: 'contact-import', hidden: true },
    h('header', { class: 'card-head' }, h('h2', null, 'Import a CSV')),
    h('p', { class: 'muted intro' }, 'A header line with at least a ', h('code', null, 'phone'), ' column; also ', h('code', null, 'name, email, group, status'), ', and any other column becomes a custom field. Comma or semicolon, UTF-8. A number already in the book updates that contact with the cells the file fills. Bad rows are skipped and listed below.'),
    h('div', { class: 'row-form' }, file, submit),
    result,
  );
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const f = file.files?.[0];
    if (!f) return;
    submit.disabled = true;
    mount(result, loading('Importing…'));
    try {
      const r = (await upload<{ message?: string; data: ImportResult }>('/api/contacts/import', f)).data;
      if (!ctx.active()) return;
      mount(result,
        h('p', { class: 'import-counts' }, h('strong', null, `${int(r.created)} created, ${int(r.updated)} updated`), r.failed ? h('span', { class: 'bad-text' }, `, ${int(r.failed)} row${r.failed === 1 ? '' : 's'} refused`) : ', no error'),
        r.errors.length
          ? table([['Line', 'num'], 'Field', 'Problem'], r.errors.map((e) => h('tr', { 'data-row': e.row }, h('td', { class: 'num' }, e.row), h('td', null, h('code', null, e.field)), h('td', null, e.message))), { class: 'compact import-errors' })
          : null,
        r.failed > r.errors.length ? h('p', { class: 'muted small' }, `Only the first ${int(r.errors.length)} problems are listed.`) : null,
      );
      void reload();
    } catch (e) {
      if (ctx.active()) mount(result);
      notifyError(e, 'Import refused');
    } finally {
      submit.disabled = false;
    }
  });
  return form;
}

async function loadContacts(ctx: PageContext, host: HTMLElement, filters: Record<string, string>, page: number): Promise<void> {
  let res: Paginated<Contact>;
  try {
    res = await get(`/api/contacts${query({ ...filters, page, per_page: 50 })}`);
  } catch (e) {
    if (ctx.active()) loadFailed(host, e, 'the contacts');
    return;
  }
  if (!ctx.active()) return;
  const reload = () => loadContacts(ctx, host, filters, page);
  const rows = res.data.map((c) => {
    const remove = h('button', { type: 'button', class: 'ghost danger small-btn', title: 'Delete this contact (its messages stay)' }, 'Delete');
    remove.addEventListener('click', async () => {
      if (!confirm(`Delete ${c.name} (${c.phone})?`)) return;
      if (await act(remove, () => del(`/api/contacts/${c.id}`), `Contact ${c.name} deleted`)) void reload();
    });
    const custom = Object.entries(c.custom_fields);
    return h('tr', { 'data-contact': c.id, 'data-phone': c.phone },
      h('td', null, h('strong', null, c.name), c.email ? h('div', { class: 'muted small' }, c.email) : null),
      h('td', { class: 'mono' }, c.phone),
      h('td', null, c.groups.length ? c.groups.join(', ') : h('span', { class: 'muted' }, '—')),
      h('td', null, c.tags.map((t) => h('span', { class: 'tag' }, t))),
      h('td', { class: 'small', title: custom.map(([k, v]) => `${k}: ${v}`).join('\n') }, custom.length ? custom.slice(0, 2).map(([k, v]) => `${k}: ${v}`).join(', ') + (custom.length > 2 ? '…' : '') : ''),
      h('td', null, pill(c.status)),
      h('td', { title: dateTime(c.created_at) }, shortTime(c.created_at)),
      h('td', { class: 'actions' }, remove),
    );
  });
  mount(host,
    table(['Name', 'Phone', 'Groups', 'Tags', 'Fields', 'Status', 'Added', ['', 'actions']], rows.length ? rows : [empty(Object.values(filters).some(Boolean) ? 'No contact matches.' : 'No contact yet: add one or import a CSV.', 8)], { class: 'contacts' }),
    pagerOf(res, 'contact', (n) => ctx.go('contacts', { ...filters, page: n })),
  );
}

// --- Groups ---------------------------------------------------------------------------------------------

function groupsTab(ctx: PageContext, root: HTMLElement): void {
  const name = h('input', { type: 'text', name: 'name', id: 'group-name', required: true, maxlength: 100 });
  const description = h('input', { type: 'text', name: 'description', maxlength: 500 });
  const form = h('form', { class: 'card row-form', id: 'group-create' },
    h('label', { class: 'field' }, h('span', null, 'New group'), name),
    h('label', { class: 'field grow' }, h('span', null, 'Description'), description),
    h('button', { type: 'submit', class: 'primary' }, 'Create group'),
  );
  const list = h('div', { class: 'card' }, loading());
  const reload = async () => {
    let groups: Group[];
    try {
      groups = (await get<{ data: Group[] }>('/api/contact-groups')).data;
    } catch (e) {
      if (ctx.active()) loadFailed(list, e, 'the groups');
      return;
    }
    if (!ctx.active()) return;
    mount(list, table(['Group', 'Description', ['Contacts', 'num'], 'Created', ['', 'actions']], groups.length ? groups.map((g) => {
      const remove = h('button', { type: 'button', class: 'ghost danger small-btn' }, 'Delete');
      remove.addEventListener('click', async () => {
        if (!confirm(`Delete the group ${g.name}? Its contacts stay.`)) return;
        if (await act(remove, () => del(`/api/contact-groups/${g.id}`), `Group ${g.name} deleted`)) void reload();
      });
      return h('tr', { 'data-group': g.id, 'data-name': g.name },
        h('td', null, ctx.can('manage_contacts') ? h('a', { href: `#/contacts${query({ group: g.name })}` }, h('strong', null, g.name)) : h('strong', null, g.name)),
        h('td', null, g.description ?? ''),
        h('td', { class: 'num' }, int(g.contacts_count)),
        h('td', { title: dateTime(g.created_at) }, shortTime(g.created_at)),
        h('td', { class: 'actions' }, remove),
      );
    }) : [empty('No group yet. A contact\'s group (or an imported file\'s group column) creates one too.', 5)], { class: 'groups' }));
  };
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (await act(form, () => post('/api/contact-groups', { name: name.value.trim(), ...(description.value.trim() ? { description: description.value.trim() } : {}) }), `Group ${name.value.trim()} created`)) {
      form.reset();
      void reload();
    }
  });
  mount(root, form, list);
  void reload();
}

// --- Segments --------------------------------------------------------------------------------------------

function segmentsTab(ctx: PageContext, root: HTMLElement): void {
  const name = h('input', { type: 'text', name: 'name', id: 'segment-name', required: true, maxlength: 150 });
  const tags = h('input', { type: 'text', name: 'tags', placeholder: 'vip, lead (all of them)' });
  const attrs = h('input', { type: 'text', name: 'attributes', placeholder: 'city=Libreville, plan=gold' });
  const form = h('form', { class: 'card row-form', id: 'segment-create' },
    h('label', { class: 'field' }, h('span', null, 'New segment'), name),
    h('label', { class: 'field grow' }, h('span', null, 'Tags'), tags),
    h('label', { class: 'field grow' }, h('span', null, 'Fields (name=value)'), attrs),
    h('button', { type: 'submit', class: 'primary' }, 'Create segment'),
  );
  const list = h('div', { class: 'card' }, loading());
  const reload = async () => {
    let segs: Segment[];
    try {
      segs = await listSegments();
      // How many contacts each one selects now (one read each; an account has a handful).
      segs = await Promise.all(segs.map(async (s) => ({ ...s, contact_count: (await get<{ data: Segment }>(`/api/integration/v1/contacts/segments/${s.id}/`).catch(() => null))?.data.contact_count })));
    } catch (e) {
      if (ctx.active()) loadFailed(list, e, 'the segments');
      return;
    }
    if (!ctx.active()) return;
    mount(list, table(['Segment', 'Tags', 'Fields', ['Contacts now', 'num'], ['', 'actions']], segs.length ? segs.map((sg) => {
      const remove = h('button', { type: 'button', class: 'ghost danger small-btn' }, 'Delete');
      remove.addEventListener('click', async () => {
        if (!confirm(`Delete the segment ${sg.name}?`)) return;
        if (await act(remove, () => del(`/api/integration/v1/contacts/segments/${sg.id}/delete/`), `Segment ${sg.name} deleted`)) void reload();
      });
      return h('tr', { 'data-segment': sg.id, 'data-name': sg.name },
        h('td', null, h('strong', null, sg.name), sg.description ? h('div', { class: 'muted small' }, sg.description) : null),
        h('td', null, sg.tags.map((t) => h('span', { class: 'tag' }, t))),
        h('td', { class: 'small' }, Object.entries(sg.attributes).map(([k, v]) => `${k} = ${v}`).join(', ')),
        h('td', { class: 'num' }, sg.contact_count === undefined ? '—' : int(sg.contact_count)),
        h('td', { class: 'actions' }, remove),
      );
    }) : [empty('No segment yet.', 5)], { class: 'segments' }));
  };
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const tagList = tags.value.split(',').map((x) => x.trim()).filter(Boolean);
    const attributes: Record<string, string> = {};
    for (const pair of attrs.value.split(',')) {
      const [k, ...v] = pair.split('=');
      if (k?.trim() && v.length) attributes[k.trim()] = v.join('=').trim();
    }
    if (!tagList.length && !Object.keys(attributes).length) {
      tags.setCustomValidity('Give tags or fields: a segment is a filter');
      tags.reportValidity();
      return;
    }
    tags.setCustomValidity('');
    if (await act(form, () => post('/api/integration/v1/contacts/segments/create/', { name: name.value.trim(), filters: { tags: tagList, attributes } }), `Segment ${name.value.trim()} created`)) {
      form.reset();
      void reload();
    }
  });
  mount(root, h('p', { class: 'muted intro' }, 'A segment is a saved filter: the contacts having all its tags and field values, read again each time a campaign uses it.'), form, list);
  void reload();
}
