/** Widgets shared by the web pages: status pills, feedback messages, buttons that call the API. */
import { ApiError } from './api.js';
import { h, mount, type Child } from './dom.js';

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

/** A "loading" placeholder. */
export function loading(text = 'Loading…'): HTMLElement {
  return h('p', { class: 'muted loading' }, text);
}

/** A definition list from label/value pairs (null values skipped). */
export function facts(pairs: readonly (readonly [string, Child] | null)[]): HTMLDListElement {
  return h('dl', { class: 'facts' }, pairs.filter((p): p is readonly [string, Child] => p !== null).map(([k, v]) => h('div', null, h('dt', null, k), h('dd', null, v ?? '—'))));
}
