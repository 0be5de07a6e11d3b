/**
 * The integrators' dashboard ("Relais — your account"): one page with hash routes and a left
 * navigation, for an account or one of its sub-accounts. Sign-up (when the operator opened
 * registration), log-in through /web/session (an HttpOnly cookie; the CSRF token stays in memory and
 * goes with every change), then the pages this login's permissions allow (GET /api/auth/me): a
 * control the role does not grant is not shown, and a refusal that still happens is said plainly.
 */
import { ApiError, currentSession, get, login, post } from '/web/api.js';
import { App, brand, type View } from '/web/app.js';
import { h, mount } from '/web/dom.js';
import { money } from '/web/format.js';
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

let me: Me | null = null;
let config: WebConfig | null = null;
let permissions = new Set<Permission>();

const can = (p: Permission) => permissions.has(p);
const allowed = (page: Page) => !page.needs || page.needs.some(can);

const app = new App<Page, PageContext, View & { intro: HTMLElement; balance: HTMLElement }>({
  root: document.getElementById('app')!,
  name: 'Relais — your account',
  app: 'dashboard',
  pages: PAGES,
  home: ['home', 'Home'],
  pageId: (path) => path.replace(/\/+$/, '') || 'home',
  ready: () => !!me && !!config,
  clear: (view) => {
    view.intro.hidden = true;
  },
  heading: (id, page) => (id.startsWith('settings/') ? `Settings › ${page.title}` : page.title),
  enter: (page, view) => {
    if (!allowed(page)) {
      mount(view.page, h('div', { class: 'card', 'data-forbidden': '' }, h('p', null, 'Your login is not allowed to use this page.'), h('p', { class: 'muted' }, 'Ask the account\'s owner for the permission, or go back ', h('a', { href: '#/home' }, 'Home'), '.')));
      return false;
    }
    if (page.intro) {
      view.intro.textContent = page.intro;
      view.intro.hidden = false;
    }
    return true;
  },
  context: (base) => ({ ...base, can, me: me!, config: config!, refreshBalance }),
  // Read on every page: sends made from outside (with an API key) move it too.
  rendered: () => refreshBalance(),
});

// --- Log in and sign up ------------------------------------------------------------------------------

function showLogin(notice?: string, kind: 'error' | 'info' = 'error'): void {
  const open = config?.registration === 'open';
  app.showLogin({
    brand: 'your account',
    id: 'login-form',
    notice,
    kind,
    footer: open
      ? h('p', { class: 'muted small switch' }, 'No account yet? ', h('button', { type: 'button', class: 'link', id: 'to-signup', onclick: () => showSignup() }, 'Create one'))
      : h('p', { class: 'muted small switch' }, 'Accounts are created by the gateway\'s operator. A sub-account logs in here with its own email.'),
    entered: enter,
  });
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
    brand('login-brand', 'your account'),
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
      app.session = await login(email.value.trim(), password.value, 'dashboard');
      await enter();
    } catch (e) {
      fail(e);
    } finally {
      submit.disabled = false;
    }
  });
  app.card(form);
  name.focus();
}

function showVerify(email: string, password: string): void {
  const error = h('p', { class: 'login-error', role: 'alert', hidden: true });
  const code = h('input', { type: 'text', name: 'code', id: 'verify-code', inputmode: 'numeric', autocomplete: 'one-time-code', required: true, maxlength: 6, pattern: '[0-9]{6}' });
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Activate');
  const form = h('form', { class: 'login-card', id: 'verify-form' },
    brand('login-brand', 'your account'),
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
      app.session = await login(email, password, 'dashboard');
      await enter();
    } catch (e) {
      error.textContent = e instanceof ApiError ? e.message : String(e);
      error.hidden = false;
    } finally {
      submit.disabled = false;
    }
  });
  app.card(form);
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
  const balance = h('a', { class: 'topbar-balance', href: '#/credits', hidden: !can('view_balance'), title: 'Credit balance' });
  const logoutBtn = app.logoutButton('logout', () => {
    me = null;
    showLogin('You are logged out.', 'info');
  });
  const m = me!;
  const sub = m.sub_account;
  const who = sub
    ? h('div', { class: 'who', title: sub.email }, h('strong', null, sub.name), h('span', null, sub.email), h('span', { class: 'role' }, `${sub.role} · sub-account of ${m.name}`))
    : h('div', { class: 'who', title: m.email }, h('strong', null, m.name || m.email), h('span', null, m.email), m.role === 'admin' ? h('span', { class: 'role' }, 'operator admin') : null);
  app.showShell({
    brand: 'your account',
    navLabel: 'Dashboard',
    links: groups,
    foot: [who, logoutBtn],
    topbar: [h('div', null, title, intro), balance],
  }, { title, intro, nav, balance });
}

/** The balance in the top bar (and a sub-account's own credit left). */
function refreshBalance(): void {
  if (!app.view || !can('view_balance') || !config) return;
  const el = app.view.balance;
  get<{ data: { balance: number; currency?: string; sub_account?: { credits_available: number | null } } }>('/api/balance').then((r) => {
    const cur = r.data.currency ?? config!.currency;
    mount(el, h('span', { class: 'muted' }, 'Balance '), h('strong', { id: 'balance' }, money(r.data.balance, cur)),
      r.data.sub_account && r.data.sub_account.credits_available !== null ? h('span', { class: 'muted small' }, ` · your limit: ${money(r.data.sub_account.credits_available, cur)} left`) : null);
  }, () => mount(el));
}

// --- Start ----------------------------------------------------------------------------------------------

app.listen(() => {
  me = null;
  showLogin('Your session has ended: log in again.');
});

async function start(): Promise<void> {
  await app.boot('gateway', async () => {
    config = (await get<{ data: WebConfig }>('/web/config', { quiet401: true })).data;
    app.session = await currentSession();
    if (app.session) await enter();
    else showLogin();
  });
}

void start();
