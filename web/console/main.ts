/**
 * The operator console: one page, hash routes (#/traffic, #/messages, #/accounts, #/sender-ids,
 * #/orders, #/routes), a left navigation. Logs in with an admin account through /web/session
 * (an HttpOnly cookie; the CSRF token stays in memory and goes with every action).
 */
import { currentSession, get, post } from '/web/api.js';
import { App, type View } from '/web/app.js';
import { h } from '/web/dom.js';
import { notify, notifyError } from '/web/ui.js';
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

const app = new App<Page, PageContext, View & { badges: Map<string, HTMLElement> }>({
  root: document.getElementById('app')!,
  name: 'Relais console',
  app: 'console',
  pages: PAGES,
  home: ['traffic', 'Traffic'],
  pageId: (path) => path.split('/')[0] || 'traffic',
  context: (base) => ({ ...base, refreshBadges }),
});

// --- Login ---------------------------------------------------------------------------------------

function showLogin(notice?: string): void {
  app.showLogin({
    brand: 'Operator console',
    notice,
    footer: h('p', { class: 'muted small' }, 'For the gateway operator\'s admin accounts (relais user create … --admin).'),
    entered: showShell,
  });
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
  const reload = h('button', { type: 'button', class: 'ghost', title: 'Re-read the configuration file and apply it (as systemctl reload relais)' }, 'Reload config');
  reload.addEventListener('click', () => reloadConfig(reload));
  const who = app.session!.account;
  app.showShell({
    brand: 'console',
    navLabel: 'Console',
    links,
    foot: [h('div', { class: 'who', title: who.email }, h('strong', null, who.name || who.email), h('span', null, who.email)), app.logoutButton(null, () => showLogin())],
    topbar: [title, h('div', { class: 'tools' }, reload)],
  }, { title, nav, badges });
  refreshBadges();
}

/** Pending sender IDs and orders, shown next to their links (read on login and after decisions). */
function refreshBadges(): void {
  const set = (id: string, n: number | null) => {
    const b = app.view?.badges.get(id);
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

app.listen(() => showLogin('Your session has ended: log in again.'));

async function start(): Promise<void> {
  if (!(await app.boot('daemon', async () => {
    app.session = await currentSession();
  }))) return;
  if (app.session && app.session.account.role !== 'admin') {
    // A session of another web app (an integrator's dashboard): not for the console.
    app.session = null;
    showLogin('This console is for the operator\'s admin accounts.');
    return;
  }
  if (app.session) showShell();
  else showLogin();
}

void start();
