/**
 * The operator console: one page, hash routes (#/traffic, #/messages, #/accounts, #/sender-ids,
 * #/orders, #/routes), a left navigation. Logs in with an admin account through /web/session
 * (an HttpOnly cookie; the CSRF token stays in memory and goes with every action).
 */
import { ApiError, currentSession, get, login, logout, onUnauthorized, post, type Session } from '/web/api.js';
import { h, mount } from '/web/dom.js';
import { clearFlash, notify, notifyError, setFlashHost } from '/web/ui.js';
import { accountsPage, ordersPage, senderIdsPage } from './accounts.js';
import { messagesPage } from './messages.js';
import type { Page, PageContext } from './page.js';
import { routesPage } from './routes.js';
import { trafficPage } from './traffic.js';

const PAGES: Record<string, Page> = {
  traffic: trafficPage,
  messages: messagesPage,
  accounts: accountsPage,
  'sender-ids': senderIdsPage,
  orders: ordersPage,
  routes: routesPage,
};
const NAV: readonly (readonly [string, string])[] = [
  ['traffic', 'Traffic'],
  ['messages', 'Messages'],
  ['accounts', 'Accounts'],
  ['sender-ids', 'Sender IDs'],
  ['orders', 'Orders'],
  ['routes', 'Routes'],
];

const app = document.getElementById('app')!;
let session: Session | null = null;
let cleanup: (() => void) | null = null;
let renderSeq = 0;
let shell: { title: HTMLElement; page: HTMLElement; nav: Map<string, HTMLAnchorElement>; badges: Map<string, HTMLElement> } | null = null;

// --- Login ---------------------------------------------------------------------------------------

function showLogin(notice?: string): void {
  stopPage();
  shell = null;
  setFlashHost(null);
  document.title = 'Log in · Relais console';
  const error = h('p', { class: 'login-error', role: 'alert', hidden: !notice }, notice ?? '');
  const email = h('input', { type: 'email', name: 'email', id: 'login-email', autocomplete: 'username', required: true });
  const password = h('input', { type: 'password', name: 'password', id: 'login-password', autocomplete: 'current-password', required: true });
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Log in');
  const form = h('form', { class: 'login-card', novalidate: false },
    h('div', { class: 'login-brand' }, logo(), h('div', null, h('strong', null, 'Relais'), h('span', null, 'Operator console'))),
    h('label', { for: 'login-email' }, 'Email'), email,
    h('label', { for: 'login-password' }, 'Password'), password,
    error,
    submit,
    h('p', { class: 'muted small' }, 'For the gateway operator\'s admin accounts (relais user create … --admin).'),
  );
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    submit.disabled = true;
    error.hidden = true;
    try {
      session = await login(email.value.trim(), password.value, 'console');
      showShell();
    } catch (e) {
      error.textContent = e instanceof ApiError ? e.message : String(e);
      error.hidden = false;
      password.select();
    } finally {
      submit.disabled = false;
    }
  });
  mount(app, h('div', { class: 'login-page' }, form));
  email.focus();
}

function logo(): SVGSVGElement {
  // A relay mark: two arrows passing a message along (inline, no asset to fetch).
  const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  svg.setAttribute('viewBox', '0 0 32 32');
  svg.setAttribute('width', '32');
  svg.setAttribute('height', '32');
  svg.setAttribute('class', 'logo');
  svg.setAttribute('aria-hidden', 'true');
  for (const [d, cls] of [['M5 11h18m-5-5 5 5-5 5', 'logo-a'], ['M27 21H9m5-5-5 5 5 5', 'logo-b']] as const) {
    const p = document.createElementNS('http://www.w3.org/2000/svg', 'path');
    p.setAttribute('d', d);
    p.setAttribute('class', cls);
    svg.appendChild(p);
  }
  return svg;
}

// --- Shell and routing ----------------------------------------------------------------------------

function showShell(): void {
  const nav = new Map<string, HTMLAnchorElement>();
  const badges = new Map<string, HTMLElement>();
  const links = NAV.map(([id, label]) => {
    const badge = h('span', { class: 'badge', hidden: true });
    badges.set(id, badge);
    const a = h('a', { href: `#/${id}`, 'data-nav': id }, h('span', null, label), badge);
    nav.set(id, a);
    return a;
  });
  const title = h('h1', null);
  const page = h('section', { class: 'page', id: 'page' });
  const flash = h('div', { class: 'flash-host', id: 'flash', 'aria-live': 'polite' });
  const reload = h('button', { type: 'button', class: 'ghost', title: 'Re-read the configuration file and apply it (as systemctl reload relais)' }, 'Reload config');
  reload.addEventListener('click', () => reloadConfig(reload));
  const logoutBtn = h('button', { type: 'button', class: 'link' }, 'Log out');
  logoutBtn.addEventListener('click', async () => {
    try {
      await logout();
    } catch {
      /* the cookie is gone or the daemon is down: the login page is the right place either way */
    }
    session = null;
    showLogin();
  });
  const who = session!.account;
  mount(app, h('div', { class: 'shell' },
    h('aside', { class: 'nav' },
      h('div', { class: 'brand' }, logo(), h('div', null, h('strong', null, 'Relais'), h('span', null, 'console'))),
      h('nav', { 'aria-label': 'Console' }, links),
      h('div', { class: 'nav-foot' }, h('div', { class: 'who', title: who.email }, h('strong', null, who.name || who.email), h('span', null, who.email)), logoutBtn),
    ),
    h('main', { class: 'main' },
      h('header', { class: 'topbar' }, title, h('div', { class: 'tools' }, reload)),
      flash,
      page,
    ),
  ));
  setFlashHost(flash);
  shell = { title, page, nav, badges };
  if (!location.hash || location.hash === '#' || location.hash === '#/') history.replaceState(null, '', '#/traffic');
  route();
  refreshBadges();
}

function parseHash(): { id: string; params: URLSearchParams } {
  const raw = location.hash.replace(/^#\/?/, '');
  const [path = '', q = ''] = raw.split('?', 2);
  const id = path.split('/')[0] || 'traffic';
  return { id, params: new URLSearchParams(q) };
}

function stopPage(): void {
  renderSeq++;
  if (cleanup) {
    try {
      cleanup();
    } catch {
      /* a page's cleanup must not stop navigation */
    }
  }
  cleanup = null;
}

let lastPageId = '';

function route(): void {
  if (!shell || !session) return;
  const { id, params } = parseHash();
  const page = PAGES[id];
  stopPage();
  if (id !== lastPageId) clearFlash();
  lastPageId = id;
  const seq = renderSeq;
  for (const [nid, a] of shell.nav) {
    if (nid === id) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  mount(shell.page);
  if (!page) {
    shell.title.textContent = 'Not found';
    mount(shell.page, h('p', null, 'No such page. ', h('a', { href: '#/traffic' }, 'Go to Traffic')));
    return;
  }
  shell.title.textContent = page.title;
  document.title = `${page.title} · Relais console`;
  const ctx: PageContext = {
    root: shell.page,
    params,
    active: () => seq === renderSeq,
    go: (path, p = {}) => {
      const q = new URLSearchParams();
      for (const [k, v] of Object.entries(p)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
      const hash = `#/${path}${q.toString() ? `?${q}` : ''}`;
      if (location.hash === hash) route();
      else location.hash = hash;
    },
    refreshBadges,
  };
  const c = page.render(ctx);
  cleanup = typeof c === 'function' ? c : null;
}

/** Pending sender IDs and orders, shown next to their links (read on login and after decisions). */
function refreshBadges(): void {
  const set = (id: string, n: number | null) => {
    const b = shell?.badges.get(id);
    if (!b) return;
    b.textContent = n ? String(n) : '';
    b.hidden = !n;
    b.title = n ? `${n} pending` : '';
  };
  get<{ data: unknown[] }>('/api/admin/sender-ids?status=pending').then((r) => set('sender-ids', r.data.length), () => set('sender-ids', null));
  get<{ data: unknown[] }>('/api/admin/orders?status=pending').then((r) => set('orders', r.data.length), () => set('orders', null));
}

interface ReloadReport {
  changed: boolean;
  applied?: string[];
  restart_needed?: string[];
  binds?: { added?: string[]; removed?: string[]; replaced?: string[]; retuned?: string[] };
  rerouted?: number;
}

async function reloadConfig(button: HTMLButtonElement): Promise<void> {
  button.disabled = true;
  try {
    const res = await post<{ message?: string; data: ReloadReport }>('/api/admin/reload');
    const r = res.data;
    const lines: string[] = [];
    if (!r.changed) lines.push('The file is the same as the running configuration: nothing changed.');
    if (r.applied?.length) lines.push(`Applied: ${r.applied.join(', ')}`);
    const b = r.binds ?? {};
    for (const [k, label] of [['added', 'Binds added'], ['removed', 'Binds removed'], ['replaced', 'Binds replaced'], ['retuned', 'Binds retuned']] as const) {
      const list = b[k];
      if (list?.length) lines.push(`${label}: ${list.join(', ')}`);
    }
    if (r.rerouted) lines.push(`Re-routed: ${r.rerouted} queued message(s)`);
    if (r.restart_needed?.length) lines.push(`Need a restart to apply: ${r.restart_needed.join(', ')}`);
    notify('success', res.message ?? 'Configuration reloaded', lines);
  } catch (e) {
    notifyError(e, 'Reload refused');
  } finally {
    button.disabled = false;
  }
}

// --- Start ----------------------------------------------------------------------------------------

onUnauthorized(() => {
  if (session) {
    session = null;
    showLogin('Your session has ended: log in again.');
  }
});
window.addEventListener('hashchange', route);

async function start(): Promise<void> {
  mount(app, h('p', { class: 'muted boot' }, 'Loading…'));
  try {
    session = await currentSession();
  } catch (e) {
    mount(app, h('div', { class: 'login-page' }, h('div', { class: 'login-card' }, h('p', { class: 'login-error', role: 'alert' }, `The daemon cannot be reached: ${e instanceof Error ? e.message : String(e)}`), h('button', { type: 'button', onclick: () => location.reload() }, 'Retry'))));
    return;
  }
  if (session && session.account.role !== 'admin') {
    // A session of another web app (an integrator's dashboard): not for the console.
    session = null;
    showLogin('This console is for the operator\'s admin accounts.');
    return;
  }
  if (session) showShell();
  else showLogin();
}

void start();
