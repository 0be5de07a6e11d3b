/**
 * The integrators' dashboard ("Relais — your account"): one page with hash routes and a left
 * navigation, for an account or one of its sub-accounts. Sign-up (when the operator opened
 * registration), log-in through /web/session (an HttpOnly cookie; the CSRF token stays in memory and
 * goes with every change), then the pages this login's permissions allow (GET /api/auth/me): a
 * control the role does not grant is not shown, and a refusal that still happens is said plainly.
 */
import { ApiError, currentSession, get, login, logout, onUnauthorized, post, type Session } from '/web/api.js';
import { h, mount } from '/web/dom.js';
import { money } from '/web/format.js';
import { brandLogo, clearFlash, setFlashHost } from '/web/ui.js';
import { campaignsPage } from './campaigns.js';
import { contactsPage } from './contacts.js';
import { creditsPage } from './credits.js';
import { homePage } from './home.js';
import { messagesPage } from './messages.js';
import { ACCOUNT_PERMISSIONS, type Me, type Page, type PageContext, type Permission, type WebConfig } from './page.js';
import { senderIdsPage } from './sender-ids.js';
import { apiPage } from './settings.js';
import { subAccountsPage } from './sub-accounts.js';

const PAGES: Record<string, Page> = {
  home: homePage,
  messages: messagesPage,
  credits: creditsPage,
  'sender-ids': senderIdsPage,
  contacts: contactsPage,
  campaigns: campaignsPage,
  'settings/api': apiPage,
  'settings/sub-accounts': subAccountsPage,
};
/** The navigation: a heading (null: none) and its links. */
const NAV: readonly (readonly [string | null, readonly (readonly [string, string])[]])[] = [
  [null, [['home', 'Home'], ['messages', 'Messages'], ['credits', 'Credits & packages'], ['sender-ids', 'Sender IDs']]],
  ['Audience', [['contacts', 'Contacts'], ['campaigns', 'Campaigns']]],
  ['Settings', [['settings/api', 'API & Webhooks'], ['settings/sub-accounts', 'Sub-accounts']]],
];

const app = document.getElementById('app')!;
let session: Session | null = null;
let me: Me | null = null;
let config: WebConfig | null = null;
let permissions = new Set<Permission>();
let cleanup: (() => void) | null = null;
let renderSeq = 0;
let shell: { title: HTMLElement; intro: HTMLElement; page: HTMLElement; nav: Map<string, HTMLAnchorElement>; balance: HTMLElement } | null = null;

const can = (p: Permission) => permissions.has(p);
const allowed = (page: Page) => !page.needs || page.needs.some(can);

// --- Log in and sign up ------------------------------------------------------------------------------

function brand(): HTMLElement {
  return h('div', { class: 'login-brand' }, brandLogo(), h('div', null, h('strong', null, 'Relais'), h('span', null, 'your account')));
}

function showLogin(notice?: string, kind: 'error' | 'info' = 'error'): void {
  stopPage();
  shell = null;
  setFlashHost(null);
  document.title = 'Log in · Relais — your account';
  const error = h('p', { class: kind === 'error' ? 'login-error' : 'login-notice', role: kind === 'error' ? 'alert' : 'status', hidden: !notice }, notice ?? '');
  const email = h('input', { type: 'email', name: 'email', id: 'login-email', autocomplete: 'username', required: true });
  const password = h('input', { type: 'password', name: 'password', id: 'login-password', autocomplete: 'current-password', required: true });
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Log in');
  const open = config?.registration === 'open';
  const form = h('form', { class: 'login-card', id: 'login-form' },
    brand(),
    h('label', { for: 'login-email' }, 'Email'), email,
    h('label', { for: 'login-password' }, 'Password'), password,
    error,
    submit,
    open
      ? h('p', { class: 'muted small switch' }, 'No account yet? ', h('button', { type: 'button', class: 'link', id: 'to-signup', onclick: () => showSignup() }, 'Create one'))
      : h('p', { class: 'muted small switch' }, 'Accounts are created by the gateway\'s operator. A sub-account logs in here with its own email.'),
  );
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    submit.disabled = true;
    error.hidden = true;
    try {
      session = await login(email.value.trim(), password.value, 'dashboard');
      await enter();
    } catch (e) {
      error.className = 'login-error';
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

function showSignup(): void {
  document.title = 'Create an account · Relais — your account';
  const bySms = config?.activation === 'sms_code';
  const error = h('div', { class: 'login-error', role: 'alert', hidden: true });
  const field = (id: string, label: string, input: HTMLInputElement) => [h('label', { for: id }, label), input];
  const name = h('input', { type: 'text', name: 'name', id: 'signup-name', autocomplete: 'organization', required: true, maxlength: 100, placeholder: 'Acme Shop' });
  const email = h('input', { type: 'email', name: 'email', id: 'signup-email', autocomplete: 'email', required: true, maxlength: 190 });
  const phone = h('input', { type: 'tel', name: 'phone_number', id: 'signup-phone', autocomplete: 'tel', required: bySms, placeholder: '+241…' });
  const password = h('input', { type: 'password', name: 'password', id: 'signup-password', autocomplete: 'new-password', required: true, minlength: 8 });
  const confirmation = h('input', { type: 'password', name: 'password_confirmation', id: 'signup-password2', autocomplete: 'new-password', required: true, minlength: 8 });
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Create the account');
  const form = h('form', { class: 'login-card', id: 'signup-form' },
    brand(),
    h('h2', null, 'Create an account'),
    field('signup-name', 'Name (you or your company)', name),
    field('signup-email', 'Email', email),
    bySms ? [field('signup-phone', 'Mobile number (a code is sent to it)', phone)] : null,
    field('signup-password', 'Password (8 characters or more)', password),
    field('signup-password2', 'Password again', confirmation),
    error,
    submit,
    h('p', { class: 'muted small switch' }, 'Already have an account? ', h('button', { type: 'button', class: 'link', onclick: () => showLogin() }, 'Log in')),
  );
  const fail = (e: unknown) => {
    mount(error, h('strong', null, e instanceof ApiError ? e.message : String(e)), e instanceof ApiError && e.details().length > 1 ? h('ul', null, e.details().map((d) => h('li', null, d))) : null);
    error.hidden = false;
  };
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (password.value !== confirmation.value) {
      confirmation.setCustomValidity('The two passwords differ');
      confirmation.reportValidity();
      return;
    }
    confirmation.setCustomValidity('');
    submit.disabled = true;
    error.hidden = true;
    try {
      if (bySms) {
        // The operator wants a phone check: Mifumo's registration sends the code through the gateway.
        await post('/api/auth/register/', { first_name: name.value.trim(), email: email.value.trim(), phone_number: phone.value.trim(), password: password.value, password_confirm: confirmation.value }, { quiet401: true });
        showVerify(email.value.trim(), password.value);
        return;
      }
      await post('/api/auth/register', { name: name.value.trim(), email: email.value.trim(), password: password.value, password_confirmation: confirmation.value }, { quiet401: true });
      session = await login(email.value.trim(), password.value, 'dashboard');
      await enter();
    } catch (e) {
      fail(e);
    } finally {
      submit.disabled = false;
    }
  });
  mount(app, h('div', { class: 'login-page' }, form));
  name.focus();
}

function showVerify(email: string, password: string): void {
  const error = h('p', { class: 'login-error', role: 'alert', hidden: true });
  const code = h('input', { type: 'text', name: 'code', id: 'verify-code', inputmode: 'numeric', autocomplete: 'one-time-code', required: true, maxlength: 6, pattern: '[0-9]{6}' });
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Activate');
  const form = h('form', { class: 'login-card', id: 'verify-form' },
    brand(),
    h('h2', null, 'Check your phone'),
    h('p', { class: 'muted' }, 'A 6-digit code was sent by SMS to the number you gave. Type it here to activate the account.'),
    h('label', { for: 'verify-code' }, 'Code'), code,
    error,
    submit,
  );
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    submit.disabled = true;
    error.hidden = true;
    try {
      await post('/api/auth/verify-phone/', { email, code: code.value.trim() }, { quiet401: true });
      session = await login(email, password, 'dashboard');
      await enter();
    } catch (e) {
      error.textContent = e instanceof ApiError ? e.message : String(e);
      error.hidden = false;
    } finally {
      submit.disabled = false;
    }
  });
  mount(app, h('div', { class: 'login-page' }, form));
  code.focus();
}

// --- Shell and routing --------------------------------------------------------------------------------

/** After a login: who this is and what it may do, then the pages. */
async function enter(): Promise<void> {
  me = (await get<{ data: Me }>('/api/auth/me')).data;
  // What the gateway says this login may do (operator rights are the console's, not ours).
  permissions = new Set(me.permissions.filter((p): p is Permission => (ACCOUNT_PERMISSIONS as readonly string[]).includes(p)));
  showShell();
}

function showShell(): void {
  const nav = new Map<string, HTMLAnchorElement>();
  const groups = NAV.map(([heading, links]) => {
    const shown = links.filter(([id]) => allowed(PAGES[id]!));
    if (!shown.length) return null;
    return [
      heading ? h('div', { class: 'nav-heading' }, heading) : null,
      shown.map(([id, label]) => {
        const a = h('a', { href: `#/${id}`, 'data-nav': id }, h('span', null, label));
        nav.set(id, a);
        return a;
      }),
    ];
  });
  const title = h('h1', null);
  const intro = h('p', { class: 'muted page-intro', hidden: true });
  const page = h('section', { class: 'page', id: 'page' });
  const flash = h('div', { class: 'flash-host', id: 'flash', 'aria-live': 'polite' });
  const balance = h('a', { class: 'topbar-balance', href: '#/credits', hidden: !can('view_balance'), title: 'Credit balance' });
  const logoutBtn = h('button', { type: 'button', class: 'link', id: 'logout' }, 'Log out');
  logoutBtn.addEventListener('click', async () => {
    try {
      await logout();
    } catch {
      /* the cookie is gone or the daemon is down: the login page is the right place either way */
    }
    session = null;
    me = null;
    showLogin('You are logged out.', 'info');
  });
  const m = me!;
  const sub = m.sub_account;
  const who = sub
    ? h('div', { class: 'who', title: sub.email }, h('strong', null, sub.name), h('span', null, sub.email), h('span', { class: 'role' }, `${sub.role} · sub-account of ${m.name}`))
    : h('div', { class: 'who', title: m.email }, h('strong', null, m.name || m.email), h('span', null, m.email), m.role === 'admin' ? h('span', { class: 'role' }, 'operator admin') : null);
  mount(app, h('div', { class: 'shell' },
    h('aside', { class: 'nav' },
      h('div', { class: 'brand' }, brandLogo(), h('div', null, h('strong', null, 'Relais'), h('span', null, 'your account'))),
      h('nav', { 'aria-label': 'Dashboard' }, groups),
      h('div', { class: 'nav-foot' }, who, logoutBtn),
    ),
    h('main', { class: 'main' },
      h('header', { class: 'topbar' }, h('div', null, title, intro), balance),
      flash,
      page,
    ),
  ));
  setFlashHost(flash);
  shell = { title, intro, page, nav, balance };
  if (!location.hash || location.hash === '#' || location.hash === '#/') history.replaceState(null, '', '#/home');
  route();
}

function parseHash(): { id: string; params: URLSearchParams } {
  const raw = location.hash.replace(/^#\/?/, '');
  const [path = '', q = ''] = raw.split('?', 2);
  return { id: path.replace(/\/+$/, '') || 'home', params: new URLSearchParams(q) };
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
  if (!shell || !session || !me || !config) return;
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
  shell.intro.hidden = true;
  if (!page) {
    shell.title.textContent = 'Not found';
    mount(shell.page, h('p', null, 'No such page. ', h('a', { href: '#/home' }, 'Go to Home')));
    return;
  }
  shell.title.textContent = id.startsWith('settings/') ? `Settings › ${page.title}` : page.title;
  document.title = `${page.title} · Relais — your account`;
  if (!allowed(page)) {
    mount(shell.page, h('div', { class: 'card', 'data-forbidden': '' }, h('p', null, 'Your login is not allowed to use this page.'), h('p', { class: 'muted' }, 'Ask the account\'s owner for the permission, or go back ', h('a', { href: '#/home' }, 'Home'), '.')));
    return;
  }
  if (page.intro) {
    shell.intro.textContent = page.intro;
    shell.intro.hidden = false;
  }
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
    can,
    me: me,
    config: config,
    refreshBalance,
  };
  const c = page.render(ctx);
  cleanup = typeof c === 'function' ? c : null;
  // Read on every page: sends made from outside (with an API key) move it too.
  refreshBalance();
}

/** The balance in the top bar (and a sub-account's own credit left). */
function refreshBalance(): void {
  if (!shell || !can('view_balance') || !config) return;
  const el = shell.balance;
  get<{ data: { balance: number; currency?: string; sub_account?: { credits_available: number | null } } }>('/api/balance').then((r) => {
    const cur = r.data.currency ?? config!.currency;
    mount(el, h('span', { class: 'muted' }, 'Balance '), h('strong', { id: 'balance' }, money(r.data.balance, cur)),
      r.data.sub_account && r.data.sub_account.credits_available !== null ? h('span', { class: 'muted small' }, ` · your limit: ${money(r.data.sub_account.credits_available, cur)} left`) : null);
  }, () => mount(el));
}

// --- Start ----------------------------------------------------------------------------------------------

onUnauthorized(() => {
  if (session) {
    session = null;
    me = null;
    showLogin('Your session has ended: log in again.');
  }
});
window.addEventListener('hashchange', route);

async function start(): Promise<void> {
  mount(app, h('p', { class: 'muted boot' }, 'Loading…'));
  try {
    config = (await get<{ data: WebConfig }>('/web/config', { quiet401: true })).data;
    session = await currentSession();
    if (session) await enter();
    else showLogin();
  } catch (e) {
    mount(app, h('div', { class: 'login-page' }, h('div', { class: 'login-card' }, h('p', { class: 'login-error', role: 'alert' }, `The gateway cannot be reached: ${e instanceof Error ? e.message : String(e)}`), h('button', { type: 'button', onclick: () => location.reload() }, 'Retry'))));
  }
}

void start();
