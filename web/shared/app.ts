/**
 * What the operator console and the integrators' dashboard share as one-page apps: the session,
 * the log-in form, the frame of a logged-in page (navigation, top bar, flash area), the hash routes
 * (#/id?query) and the life of a page (its render, its cleanup when the user goes elsewhere), and
 * the boot screen. Each app keeps what differs: its pages, its navigation, its top bar.
 */
import { ApiError, login, logout, onUnauthorized, query, type Session } from './api.js';
import { h, mount, type Child } from './dom.js';
import { brandLogo, clearFlash, setFlashHost } from './ui.js';

/** What every page gets from the shell. */
export interface BaseContext {
  /** The page's own area (emptied before each render). */
  root: HTMLElement;
  /** The hash route's query (#/messages?phone=…). */
  params: URLSearchParams;
  /** Whether this render is still the one on screen (false once the user navigated away). */
  active(): boolean;
  /** Goes to another hash route (#/…); same route and params: re-renders. */
  go(path: string, params?: Record<string, string | number | null | undefined>): void;
}

export interface BasePage<C> {
  title: string;
  /** Builds the page; may return a cleanup (timers). */
  render(ctx: C): void | (() => void);
}

/** The parts of the logged-in frame the router writes to. */
export interface View {
  title: HTMLElement;
  page: HTMLElement;
  nav: Map<string, HTMLAnchorElement>;
}

export interface AppOptions<P extends BasePage<C>, C extends BaseContext, V extends View> {
  /** The element the app lives in (#app). */
  root: HTMLElement;
  /** The app's name, after a page's title in the window's (Relais console). */
  name: string;
  /** Which app the log-in is for (the session cookie is for that one). */
  app: 'console' | 'dashboard';
  pages: Record<string, P>;
  /** The first page (#/id) and its name in the "not found" link. */
  home: readonly [string, string];
  /** The page id in a hash route's path. */
  pageId(path: string): string;
  /** Whether the app can show a page now (a session and what else it needs). */
  ready?(): boolean;
  /** After the page area was emptied: what else of the frame a page may have filled. */
  clear?(view: V): void;
  /** The heading of a page (its title unless said otherwise). */
  heading?(id: string, page: P): string;
  /** Before a page is shown: what the frame shows of it besides its title; false: not rendered (the frame says why). */
  enter?(page: P, view: V): boolean;
  /** The page's context: the shell's part, and the app's own. */
  context(base: BaseContext): C;
  /** After a page rendered. */
  rendered?(): void;
}

/** The brand: the relay mark, "Relais" and the app's name (`cls`: in the navigation or on the log-in card). */
export function brand(cls: 'brand' | 'login-brand', name: string): HTMLElement {
  return h('div', { class: cls }, brandLogo(), h('div', null, h('strong', null, 'Relais'), h('span', null, name)));
}

/** A hash route: #/path?query (empty values left out). */
export function hashOf(path: string, params: Record<string, string | number | null | undefined> = {}): string {
  return `#/${path}${query(params)}`;
}

export class App<P extends BasePage<C>, C extends BaseContext, V extends View = View> {
  session: Session | null = null;
  view: V | null = null;
  private cleanup: (() => void) | null = null;
  private renderSeq = 0;
  private lastPageId = '';

  constructor(private readonly o: AppOptions<P, C, V>) {}

  /** Stops the page on screen (its timers): a new render or the log-in page follows. */
  stopPage(): void {
    this.renderSeq++;
    if (this.cleanup) {
      try {
        this.cleanup();
      } catch {
        /* a page's cleanup must not stop navigation */
      }
    }
    this.cleanup = null;
  }

  /** Shows a card (a log-in, a sign-up) in the middle of the window. */
  card(form: HTMLElement): void {
    mount(this.o.root, h('div', { class: 'login-page' }, form));
  }

  /**
   * The log-in page: `notice` above the button (an error, or an information such as "logged out"),
   * `footer` under it; `entered` runs once the session is open (a refused log-in is said on the card).
   */
  showLogin(opts: { brand: string; id?: string; notice?: string; kind?: 'error' | 'info'; footer: Child; entered(): void | Promise<void> }): void {
    this.stopPage();
    this.view = null;
    setFlashHost(null);
    document.title = `Log in · ${this.o.name}`;
    const kind = opts.kind ?? 'error';
    const error = h('p', { class: kind === 'error' ? 'login-error' : 'login-notice', role: kind === 'error' ? 'alert' : 'status', hidden: !opts.notice }, opts.notice ?? '');
    const email = h('input', { type: 'email', name: 'email', id: 'login-email', autocomplete: 'username', required: true });
    const password = h('input', { type: 'password', name: 'password', id: 'login-password', autocomplete: 'current-password', required: true });
    const submit = h('button', { type: 'submit', class: 'primary' }, 'Log in');
    const form = h('form', { class: 'login-card', id: opts.id ?? null },
      brand('login-brand', opts.brand),
      h('label', { for: 'login-email' }, 'Email'), email,
      h('label', { for: 'login-password' }, 'Password'), password,
      error,
      submit,
      opts.footer,
    );
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      submit.disabled = true;
      error.hidden = true;
      try {
        this.session = await login(email.value.trim(), password.value, this.o.app);
        await opts.entered();
      } catch (e) {
        error.className = 'login-error';
        error.textContent = e instanceof ApiError ? e.message : String(e);
        error.hidden = false;
        password.select();
      } finally {
        submit.disabled = false;
      }
    });
    this.card(form);
    email.focus();
  }

  /** The "Log out" button: ends the session (even when the daemon cannot be told), then `after`. */
  logoutButton(id: string | null, after: () => void): HTMLButtonElement {
    const button = h('button', { type: 'button', class: 'link', id }, 'Log out');
    button.addEventListener('click', async () => {
      try {
        await logout();
      } catch {
        /* the cookie is gone or the daemon is down: the login page is the right place either way */
      }
      this.session = null;
      after();
    });
    return button;
  }

  /**
   * The frame of a logged-in app: the navigation (its brand, links and foot) at the left; the top
   * bar, the flash area and the page at the right. Shows the page the hash names (the first one
   * when none).
   */
  showShell(parts: { brand: string; navLabel: string; links: Child; foot: Child[]; topbar: Child[] }, view: Omit<V, 'page'>): void {
    const page = h('section', { class: 'page', id: 'page' });
    const flash = h('div', { class: 'flash-host', id: 'flash', 'aria-live': 'polite' });
    mount(this.o.root, h('div', { class: 'shell' },
      h('aside', { class: 'nav' },
        brand('brand', parts.brand),
        h('nav', { 'aria-label': parts.navLabel }, parts.links),
        h('div', { class: 'nav-foot' }, parts.foot),
      ),
      h('main', { class: 'main' },
        h('header', { class: 'topbar' }, parts.topbar),
        flash,
        page,
      ),
    ));
    setFlashHost(flash);
    this.view = { ...view, page } as V;
    if (!location.hash || location.hash === '#' || location.hash === '#/') history.replaceState(null, '', `#/${this.o.home[0]}`);
    this.route();
  }

  /** Renders the page of the hash route, after stopping the one before. */
  route(): void {
    const view = this.view;
    if (!view || !this.session || (this.o.ready && !this.o.ready())) return;
    const raw = location.hash.replace(/^#\/?/, '');
    const [path = '', q = ''] = raw.split('?', 2);
    const id = this.o.pageId(path);
    const params = new URLSearchParams(q);
    const page = this.o.pages[id];
    this.stopPage();
    if (id !== this.lastPageId) clearFlash();
    this.lastPageId = id;
    const seq = this.renderSeq;
    for (const [nid, a] of view.nav) {
      if (nid === id) a.setAttribute('aria-current', 'page');
      else a.removeAttribute('aria-current');
    }
    mount(view.page);
    this.o.clear?.(view);
    if (!page) {
      view.title.textContent = 'Not found';
      mount(view.page, h('p', null, 'No such page. ', h('a', { href: `#/${this.o.home[0]}` }, `Go to ${this.o.home[1]}`)));
      return;
    }
    view.title.textContent = this.o.heading ? this.o.heading(id, page) : page.title;
    document.title = `${page.title} · ${this.o.name}`;
    if (this.o.enter && !this.o.enter(page, view)) return;
    const ctx = this.o.context({
      root: view.page,
      params,
      active: () => seq === this.renderSeq,
      go: (to, p = {}) => {
        const hash = hashOf(to, p);
        if (location.hash === hash) this.route();
        else location.hash = hash;
      },
    });
    const c = page.render(ctx);
    this.cleanup = typeof c === 'function' ? c : null;
    this.o.rendered?.();
  }

  /** Follows the hash routes; `ended` runs when a request answers 401 while a session was open. */
  listen(ended: () => void): void {
    onUnauthorized(() => {
      if (this.session) {
        this.session = null;
        ended();
      }
    });
    window.addEventListener('hashchange', () => this.route());
  }

  /**
   * The boot: "Loading…" while `load` runs; when it fails (the server cannot be reached), says so
   * with a Retry button and answers false.
   */
  async boot(server: 'daemon' | 'gateway', load: () => Promise<void>): Promise<boolean> {
    mount(this.o.root, h('p', { class: 'muted boot' }, 'Loading…'));
    try {
      await load();
      return true;
    } catch (e) {
      this.card(h('div', { class: 'login-card' }, h('p', { class: 'login-error', role: 'alert' }, `The ${server} cannot be reached: ${e instanceof Error ? e.message : String(e)}`), h('button', { type: 'button', onclick: () => location.reload() }, 'Retry')));
      return false;
    }
  }
}
