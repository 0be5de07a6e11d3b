/** Widgets shared by the web pages: status pills, feedback messages, buttons that call the API, copy buttons. */
import { ApiError } from './api.js';
import { h, mount, s, type Child } from './dom.js';
import { int } from './format.js';
import type { Paginated } from './types.js';

/** A coloured label for a state: the colour follows its meaning (ok / wait / bad / muted). */
export type Tone = 'ok' | 'wait' | 'bad' | 'muted' | 'info';

const TONES: Record<string, Tone> = {
  // binds
  bound: 'ok', connecting: 'wait', binding: 'wait', unbinding: 'wait', disconnected: 'bad', stopped: 'bad',
  // messages
  delivered: 'ok', sent: 'info', queued: 'wait', submitting: 'wait', paused: 'muted', undelivered: 'bad', expired: 'bad',
  rejected: 'bad', failed: 'bad', cancelled: 'muted', unconfirmed: 'muted',
  // accounts, sender IDs, orders, webhooks
  active: 'ok', suspended: 'bad', pending: 'wait', approved: 'ok', confirmed: 'ok', success: 'ok', succeeded: 'ok', failure: 'bad',
  revoked: 'muted', off: 'muted', on: 'ok',
  // campaigns, contacts
  draft: 'muted', scheduled: 'info', running: 'wait', completed: 'ok', inactive: 'muted', unsubscribed: 'bad',
};

/** SMPP receipt states (stat:…), as parts and timelines show them. */
const RECEIPT_TONES: Record<string, Tone> = {
  DELIVRD: 'ok', ACCEPTD: 'info', ENROUTE: 'wait', UNDELIV: 'bad', EXPIRED: 'bad', REJECTD: 'bad', DELETED: 'bad', UNKNOWN: 'bad',
};

export function toneOf(state: string | null | undefined): Tone {
  if (!state) return 'muted';
  const known = TONES[state] ?? RECEIPT_TONES[state];
  if (known) return known;
  // Timeline entries: "receipt DELIVRD", "webhook message.delivered".
  const [head, rest] = state.split(' ', 2);
  if (head === 'receipt' && rest) return RECEIPT_TONES[rest] ?? 'muted';
  if (head === 'webhook') return 'info';
  return 'muted';
}

export function pill(state: string | null | undefined, tone: Tone = toneOf(state)): HTMLSpanElement {
  return h('span', { class: `pill pill-${tone}`, 'data-state': state ?? '' }, state ?? '—');
}

// --- Feedback -----------------------------------------------------------------------------------

let flashHost: HTMLElement | null = null;

/** Where notify() writes (the page shell's feedback area). */
export function setFlashHost(el: HTMLElement | null): void {
  flashHost = el;
}

export function clearFlash(): void {
  if (flashHost) mount(flashHost);
}

/** A success or error message, with optional detail lines; success messages fade after 8 s. */
export function notify(kind: 'success' | 'error' | 'info', message: string, details: readonly Child[] = []): HTMLElement {
  const item = h('div', { class: `flash flash-${kind}`, role: kind === 'error' ? 'alert' : 'status' },
    h('div', { class: 'flash-text' }, h('strong', null, message), details.length ? h('ul', null, details.map((d) => h('li', null, d))) : null),
    h('button', { type: 'button', class: 'flash-close', 'aria-label': 'Dismiss', onclick: () => item.remove() }, '×'),
  );
  if (flashHost) {
    flashHost.prepend(item);
    while (flashHost.children.length > 4) flashHost.lastElementChild?.remove();
  }
  if (kind !== 'error') setTimeout(() => item.remove(), 8000);
  return item;
}

export function notifyError(e: unknown, prefix = ''): void {
  if (e instanceof ApiError) {
    // A lone detail that only repeats the message ("phone: The phone field format is invalid.") is left out.
    const details = e.details();
    const repeats = details.length === 1 && details[0]!.endsWith(e.message);
    notify('error', prefix ? `${prefix}: ${e.message}` : e.message, repeats ? [] : details);
  } else notify('error', prefix ? `${prefix}: ${String(e)}` : String(e));
}

/**
 * Runs an API call from a button or form: the control is disabled meanwhile; on success `what`
 * (what was done) is shown with the API's own message, on failure the API's error message and
 * details. Returns the result, or null when it failed.
 */
export async function act<T extends { message?: string } | undefined>(control: HTMLButtonElement | HTMLFormElement | null, call: () => Promise<T>, what: string | ((res: T) => string)): Promise<T | null> {
  const buttons = control instanceof HTMLFormElement ? [...control.querySelectorAll('button')] : control ? [control] : [];
  for (const b of buttons) b.disabled = true;
  control?.setAttribute('aria-busy', 'true');
  try {
    const res = await call();
    const done = typeof what === 'function' ? what(res) : what;
    const msg = res && typeof res === 'object' && typeof res.message === 'string' && res.message ? res.message : null;
    notify('success', msg && msg !== done ? `${done} — ${msg}` : done);
    return res;
  } catch (e) {
    notifyError(e);
    return null;
  } finally {
    for (const b of buttons) b.disabled = false;
    control?.removeAttribute('aria-busy');
  }
}

/** An empty-state line in a table or list. */
export function empty(text: string, colspan = 1): HTMLTableRowElement {
  return h('tr', { class: 'empty' }, h('td', { colspan }, text));
}

/** A pager under a table (page N of M, previous / next). */
export function pagerOf<T>(res: Paginated<T>, noun: string, go: (page: number) => void, labels: [string, string] = ['← Previous', 'Next →']): HTMLElement {
  return h('div', { class: 'pager' },
    h('span', { class: 'muted' }, `${int(res.total)} ${noun}${res.total === 1 ? '' : 's'} · page ${res.current_page} of ${Math.max(1, res.last_page)}`),
    h('button', { type: 'button', class: 'ghost', disabled: res.current_page <= 1, onclick: () => go(res.current_page - 1) }, labels[0]),
    h('button', { type: 'button', class: 'ghost', disabled: res.current_page >= res.last_page, onclick: () => go(res.current_page + 1) }, labels[1]),
  );
}

/** A table row that opens `href` when clicked (outside its links) or on Enter. */
export function clickableRow(tr: HTMLTableRowElement, href: string): HTMLTableRowElement {
  const openIt = () => {
    location.hash = href;
  };
  tr.addEventListener('click', (ev) => {
    if (!(ev.target instanceof HTMLAnchorElement)) openIt();
  });
  tr.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter') openIt();
  });
  return tr;
}

/** A "loading" placeholder. */
export function loading(text = 'Loading…'): HTMLElement {
  return h('p', { class: 'muted loading' }, text);
}

/** A definition list from label/value pairs (null values skipped). */
export function facts(pairs: readonly (readonly [string, Child] | null)[]): HTMLDListElement {
  return h('dl', { class: 'facts' }, pairs.filter((p): p is readonly [string, Child] => p !== null).map(([k, v]) => h('div', null, h('dt', null, k), h('dd', null, v ?? '—'))));
}

/**
 * What a section shows when its data could not be read: a refusal (403: the caller's role lacks
 * the permission) is said plainly, anything else with the API's message.
 */
export function loadFailed(host: Element, e: unknown, what: string): void {
  if (e instanceof ApiError && e.status === 403) {
    mount(host, h('p', { class: 'muted forbidden', 'data-forbidden': '' }, `Your login is not allowed to see ${what} (ask the account's owner for the permission).`));
    return;
  }
  mount(host, h('p', { class: 'bad-text' }, `${what[0]!.toUpperCase()}${what.slice(1)} could not be read: ${e instanceof Error ? e.message : String(e)}`));
}

// --- Copying ---------------------------------------------------------------------------------------

/** Selects an input's text, or an element's, so that Ctrl+C copies it. */
function selectText(el: HTMLElement): void {
  if (el instanceof HTMLInputElement || el instanceof HTMLTextAreaElement) {
    el.focus();
    el.select();
    return;
  }
  const range = document.createRange();
  range.selectNodeContents(el);
  const sel = window.getSelection();
  sel?.removeAllRanges();
  sel?.addRange(range);
}

/**
 * A "Copy" button: the Clipboard API where the browser allows it (a secure context: HTTPS or
 * localhost); otherwise, as on plain HTTP to a LAN address, it selects `target`'s text and says to
 * press Ctrl+C.
 */
export function copyButton(text: () => string, target: HTMLElement | null = null, label = 'Copy'): HTMLButtonElement {
  const btn = h('button', { type: 'button', class: 'ghost small-btn copy', 'aria-label': `${label} to the clipboard` }, label);
  let timer: ReturnType<typeof setTimeout> | null = null;
  const say = (what: string) => {
    btn.textContent = what;
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => (btn.textContent = label), 2500);
  };
  btn.addEventListener('click', async () => {
    const value = text();
    try {
      if (!window.isSecureContext || !navigator.clipboard) throw new Error('no clipboard');
      await navigator.clipboard.writeText(value);
      say('Copied ✓');
    } catch {
      if (target) {
        selectText(target);
        say('Selected: press Ctrl+C');
      } else say('Copy refused by the browser');
    }
  });
  return btn;
}

/** A value to copy (a key, a secret, a URL): read-only, selectable, with its copy button. */
export function copyField(value: string, attrs: { label: string; class?: string; name?: string }): HTMLElement {
  const input = h('input', { type: 'text', readonly: true, value, class: `mono copy-value${attrs.class ? ` ${attrs.class}` : ''}`, 'aria-label': attrs.label, name: attrs.name ?? null, spellcheck: 'false', size: Math.min(72, Math.max(20, value.length + 2)) });
  input.addEventListener('focus', () => input.select());
  return h('div', { class: 'copy-field' }, input, copyButton(() => input.value, input));
}

// --- Brand ------------------------------------------------------------------------------------------

/** The relay mark: two arrows passing a message along (inline, no asset to fetch). */
export function brandLogo(size = 32): SVGSVGElement {
  return s('svg', { viewBox: '0 0 32 32', width: size, height: size, class: 'logo', 'aria-hidden': 'true' },
    s('path', { d: 'M5 11h18m-5-5 5 5-5 5', class: 'logo-a' }),
    s('path', { d: 'M27 21H9m5-5-5 5 5 5', class: 'logo-b' }),
  );
}
