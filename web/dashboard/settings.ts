/**
 * Settings → API & Webhooks, where the Mifumo documents send an integrator: the base URL each
 * existing client sets (GET /web/config, on the host the browser used), API keys (the key is shown
 * once, in the create or regenerate answer, with a copy button; revoke, regenerate), webhooks
 * (create with their events, turn off and on, test and watch the test delivery land in the log,
 * delete, the last deliveries), and the account's signing secret (reveal, rotate).
 */
import { del, get, post } from '/web/api.js';
import { h, mount, table, type Child } from '/web/dom.js';
import { dateTime, shortTime } from '/web/format.js';
import { act, copyField, empty, loadFailed, loading, notify, notifyError, pill } from '/web/ui.js';
import type { Page, PageContext } from './page.js';

interface ApiKey {
  id: number;
  name: string;
  prefix: string;
  created_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
  is_active: boolean;
  key?: string;
}
interface Webhook {
  id: number;
  name: string;
  url: string;
  events: string[];
  retry_limit: number;
  timeout: number;
  is_active: boolean;
  last_triggered_at: string | null;
  created_at: string;
  secret?: string;
}
interface DeliveryLog {
  id: number;
  delivery_id: string;
  event: string;
  url: string;
  attempt: number;
  success: boolean;
  status_code: number | null;
  error: string | null;
  duration_ms: number | null;
  created_at: string;
}

export const apiPage: Page = {
  title: 'API & Webhooks',
  intro: 'Everything an application needs to send through this gateway: the base URL of the API it was written for, an API key, and webhooks for delivery receipts.',
  needs: ['manage_api_keys', 'manage_webhooks'],
  render(ctx) {
    const sections: HTMLElement[] = [baseUrls(ctx)];
    if (ctx.can('manage_api_keys')) sections.push(apiKeys(ctx));
    if (ctx.can('manage_webhooks')) sections.push(webhooks(ctx), signingSecret(ctx));
    mount(ctx.root, sections);
  },
};

// --- Base URLs ---------------------------------------------------------------------------------------

function baseUrls(ctx: PageContext): HTMLElement {
  const docs = h('span', { class: 'docs-link' });
  // The API reference is its own page (built beside this one); linked when this gateway serves it.
  fetch('/api/integration/documentation/', { method: 'HEAD', credentials: 'same-origin' }).then((r) => {
    if (r.ok) mount(docs, ' The full reference of each API: ', h('a', { href: '/api/integration/documentation/' }, 'API documentation'), '.');
  }, () => undefined);
  return h('section', { class: 'card', id: 'base-urls' },
    h('header', { class: 'card-head' }, h('h2', null, 'Base URLs')),
    h('p', { class: 'muted intro' }, 'An application written for one of these APIs works here by changing only its base URL. Authenticate with ', h('code', null, 'Authorization: Bearer <API key>'), '.', docs),
    table(['Existing client written for', 'Base URL to set'], ctx.config.base_urls.map((b) => h('tr', { 'data-dialect': b.dialect, 'data-path': b.path },
      h('td', null, h('strong', null, b.name)),
      h('td', { class: 'copy-cell' }, copyField(b.url, { label: `Base URL for ${b.name}` })),
    )), { class: 'base-urls' }),
  );
}

// --- API keys ------------------------------------------------------------------------------------------

function apiKeys(ctx: PageContext): HTMLElement {
  const reveal = h('div', { class: 'new-secret', id: 'new-key', hidden: true });
  const list = h('div', null, loading());
  const name = h('input', { type: 'text', name: 'name', id: 'key-name', required: true, maxlength: 100, placeholder: 'backend, crm…', autocomplete: 'off' });
  const form = h('form', { class: 'row-form', id: 'key-create' },
    h('label', { class: 'field' }, h('span', null, 'New key\'s name'), name),
    h('button', { type: 'submit', class: 'primary' }, 'Create key'),
  );
  const show = (k: ApiKey, verb: string) => {
    mount(reveal,
      h('p', null, h('strong', null, `${verb} “${k.name}”. Copy the key now: it is never shown again.`), ' Only its first characters (', h('code', null, k.prefix), ') are kept to tell keys apart.'),
      copyField(k.key ?? '', { label: `API key ${k.name}`, name: 'api-key', class: 'api-key' }),
      h('button', { type: 'button', class: 'ghost small-btn', onclick: () => (reveal.hidden = true) }, 'I have stored it'),
    );
    reveal.hidden = false;
    reveal.querySelector('input')?.focus();
  };
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const n = name.value.trim();
    if (!n) return;
    const res = await act(form, () => post<{ message?: string; data: ApiKey }>('/api/api-keys', { name: n }), `API key ${n} created`);
    if (res) {
      name.value = '';
      show(res.data, 'Key created:');
      void loadKeys(ctx, list, show);
    }
  });
  void loadKeys(ctx, list, show);
  return h('section', { class: 'card', id: 'api-keys' },
    h('header', { class: 'card-head' }, h('h2', null, 'API keys')),
    h('p', { class: 'muted intro' }, 'For server-to-server use: the same rights as your login, no expiry, valid on every API above. Revoking or regenerating one stops the old key at once.'),
    form, reveal, list,
  );
}

async function loadKeys(ctx: PageContext, host: HTMLElement, show: (k: ApiKey, verb: string) => void): Promise<void> {
  let keys: ApiKey[];
  try {
    keys = (await get<{ data: ApiKey[] }>('/api/api-keys')).data;
  } catch (e) {
    if (ctx.active()) loadFailed(host, e, 'the API keys');
    return;
  }
  if (!ctx.active()) return;
  const reload = () => loadKeys(ctx, host, show);
  const rows = [...keys].sort((a, b) => Number(b.is_active) - Number(a.is_active) || b.id - a.id).map((k) => {
    const regen = h('button', { type: 'button', class: 'ghost small-btn' }, 'Regenerate');
    const revoke = h('button', { type: 'button', class: 'ghost danger small-btn' }, 'Revoke');
    regen.addEventListener('click', async () => {
      if (!confirm(`Regenerate “${k.name}”? The current key stops working at once.`)) return;
      const res = await act(regen, () => post<{ message?: string; data: ApiKey }>(`/api/api-keys/${k.id}/regenerate`), `API key ${k.name} regenerated`);
      if (res) {
        show(res.data, 'New key for');
        void reload();
      }
    });
    revoke.addEventListener('click', async () => {
      if (!confirm(`Revoke “${k.name}”? Applications using it are refused at once.`)) return;
      if (await act(revoke, () => del(`/api/api-keys/${k.id}`), `API key ${k.name} revoked`)) void reload();
    });
    return h('tr', { 'data-key': k.id, 'data-name': k.name, class: k.is_active ? null : 'revoked' },
      h('td', null, h('strong', null, k.name)),
      h('td', null, h('code', null, `${k.prefix}…`)),
      h('td', { title: dateTime(k.created_at) }, shortTime(k.created_at)),
      h('td', { title: dateTime(k.last_used_at) }, k.last_used_at ? shortTime(k.last_used_at) : h('span', { class: 'muted' }, 'never')),
      h('td', null, k.is_active ? pill('active') : pill('revoked'), k.revoked_at ? h('div', { class: 'muted small' }, shortTime(k.revoked_at)) : null),
      h('td', { class: 'actions' }, k.is_active ? [regen, revoke] : null),
    );
  });
  mount(host, table(['Name', 'Key', 'Created', 'Last used', 'Status', ['Actions', 'actions']], rows.length ? rows : [empty('No API key yet.', 6)], { class: 'api-keys' }));
}

// --- Webhooks ------------------------------------------------------------------------------------------

const DEFAULT_EVENTS = new Set(['message.sent', 'message.delivered', 'message.failed']);

function webhooks(ctx: PageContext): HTMLElement {
  const list = h('div', { class: 'webhooks' }, loading());
  const reveal = h('div', { class: 'new-secret', id: 'new-webhook-secret', hidden: true });
  const name = h('input', { type: 'text', name: 'name', id: 'webhook-name', required: true, maxlength: 100, placeholder: 'My backend' });
  const url = h('input', { type: 'url', name: 'url', id: 'webhook-url', required: true, maxlength: 2000, placeholder: 'https://example.com/hooks/sms' });
  const events = h('fieldset', { class: 'events' }, h('legend', null, 'Events'), loading());
  const form = h('form', { class: 'webhook-create', id: 'webhook-create' },
    h('div', { class: 'row-form' },
      h('label', { class: 'field' }, h('span', null, 'Name'), name),
      h('label', { class: 'field grow' }, h('span', null, 'URL (called with POST)'), url),
    ),
    events,
    h('div', { class: 'row-form' }, h('button', { type: 'submit', class: 'primary' }, 'Create webhook')),
  );
  get<{ data: Record<string, string> }>('/api/webhooks/events').then((r) => {
    mount(events, h('legend', null, 'Events'), Object.entries(r.data).map(([ev, label]) =>
      h('label', { class: 'check', title: label }, h('input', { type: 'checkbox', name: 'events', value: ev, checked: DEFAULT_EVENTS.has(ev) }), h('code', null, ev))));
  }, (e) => loadFailed(events, e, 'the webhook events'));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const chosen = [...form.querySelectorAll<HTMLInputElement>('input[name="events"]:checked')].map((i) => i.value);
    if (!chosen.length) {
      notify('error', 'Choose at least one event.');
      return;
    }
    const res = await act(form, () => post<{ message?: string; data: Webhook }>('/api/webhooks', { name: name.value.trim(), url: url.value.trim(), events: chosen }), `Webhook ${name.value.trim()} created`);
    if (!res) return;
    mount(reveal,
      h('p', null, h('strong', null, `Signing secret of “${res.data.name}”. Copy it now: it is not shown again.`), ' Each delivery carries ', h('code', null, 'X-Webhook-Signature'), ', the hex HMAC-SHA256 of the raw body with this secret.'),
      copyField(res.data.secret ?? '', { label: 'Webhook secret', name: 'webhook-secret' }),
      h('button', { type: 'button', class: 'ghost small-btn', onclick: () => (reveal.hidden = true) }, 'I have stored it'),
    );
    reveal.hidden = false;
    name.value = '';
    url.value = '';
    void loadWebhooks(ctx, list);
  });
  void loadWebhooks(ctx, list);
  return h('section', { class: 'card', id: 'webhooks' },
    h('header', { class: 'card-head' }, h('h2', null, 'Webhooks')),
    h('p', { class: 'muted intro' }, 'Relais POSTs each event (JSON: event, timestamp, data) to your URL, retrying with backoff until it answers 2xx. Each delivery has a stable X-Webhook-Delivery id: use it to ignore duplicates.'),
    form, reveal, list,
  );
}

async function loadWebhooks(ctx: PageContext, host: HTMLElement): Promise<void> {
  let hooks: Webhook[];
  try {
    hooks = (await get<{ data: Webhook[] }>('/api/webhooks')).data;
  } catch (e) {
    if (ctx.active()) loadFailed(host, e, 'the webhooks');
    return;
  }
  if (!ctx.active()) return;
  if (!hooks.length) {
    mount(host, h('p', { class: 'muted empty-note' }, 'No webhook yet.'));
    return;
  }
  mount(host, hooks.map((w) => webhookCard(ctx, w, () => loadWebhooks(ctx, host))));
}

function webhookCard(ctx: PageContext, w: Webhook, reload: () => Promise<void>): HTMLElement {
  const logs = h('div', { class: 'webhook-logs' }, loading());
  const toggle = h('button', { type: 'button', class: 'ghost small-btn' }, w.is_active ? 'Disable' : 'Enable');
  const test = h('button', { type: 'button', class: 'ghost small-btn' }, 'Test');
  const remove = h('button', { type: 'button', class: 'ghost danger small-btn' }, 'Delete');
  toggle.addEventListener('click', async () => {
    if (await act(toggle, () => post(`/api/webhooks/${w.id}/toggle`), `Webhook ${w.name} ${w.is_active ? 'disabled' : 'enabled'}`)) void reload();
  });
  remove.addEventListener('click', async () => {
    if (!confirm(`Delete the webhook “${w.name}”? Its queued deliveries are dropped.`)) return;
    if (await act(remove, () => del(`/api/webhooks/${w.id}`), `Webhook ${w.name} deleted`)) void reload();
  });
  test.addEventListener('click', async () => {
    test.disabled = true;
    try {
      const res = await post<{ message?: string; data: { delivery_id: string } }>(`/api/webhooks/${w.id}/test`);
      const waiting = notify('info', `Test queued for ${w.name}: watching its log…`);
      const log = await waitForDelivery(ctx, w.id, res.data.delivery_id, logs);
      waiting.remove();
      if (!ctx.active()) return;
      if (!log) notify('error', `The test delivery to ${w.name} has not been attempted yet: look at its log again in a moment.`);
      else if (log.success) notify('success', `Test delivered to ${w.name}: HTTP ${log.status_code} in ${log.duration_ms ?? '?'} ms`);
      else notify('error', `Test delivery to ${w.name} failed: ${log.error ?? `HTTP ${log.status_code}`}`);
    } catch (e) {
      notifyError(e, 'Test');
    } finally {
      test.disabled = false;
    }
  });
  void showLogs(ctx, w.id, logs);
  const meta = h('div', { class: 'muted small' }, metaLine(w, w.last_triggered_at));
  lastCall.set(w.id, (at) => mount(meta, metaLine(w, at)));
  return h('article', { class: 'webhook', 'data-webhook': w.id, 'data-name': w.name },
    h('header', { class: 'webhook-head' },
      h('div', { class: 'webhook-title' }, h('strong', null, w.name), pill(w.is_active ? 'on' : 'off'), h('span', { class: 'mono url webhook-url', title: w.url }, w.url)),
      h('div', { class: 'actions' }, test, toggle, remove),
    ),
    meta,
    logs,
  );
}

const metaLine = (w: Webhook, at: string | null) => `Events: ${w.events.join(', ')} · ${w.retry_limit} retries · ${w.timeout} s timeout · last call ${at ? dateTime(at) : 'never'}`;
/** Updates a webhook card's "last call" when its log shows a newer attempt. */
const lastCall = new Map<number, (at: string) => void>();

/** The last deliveries of a webhook (GET /api/webhooks/{id}: its last 10 attempts); returns them. */
async function showLogs(ctx: PageContext, id: number, host: HTMLElement, highlight?: string): Promise<DeliveryLog[] | null> {
  let logs: DeliveryLog[];
  try {
    logs = (await get<{ data: Webhook & { logs: DeliveryLog[] } }>(`/api/webhooks/${id}`)).data.logs;
  } catch (e) {
    if (ctx.active()) loadFailed(host, e, 'the deliveries');
    return null;
  }
  if (!ctx.active()) return logs;
  if (logs[0]) lastCall.get(id)?.(logs[0].created_at);
  mount(host, h('h3', null, 'Last deliveries'), logs.length
    ? table(['When', 'Event', ['Attempt', 'num'], 'Result', ['Time', 'num'], 'Delivery id'], logs.map((l) => h('tr', { 'data-log': l.id, 'data-delivery': l.delivery_id, 'data-event': l.event, class: l.delivery_id === highlight ? 'match' : null },
        h('td', { title: dateTime(l.created_at) }, shortTime(l.created_at)),
        h('td', null, h('code', null, l.event)),
        h('td', { class: 'num' }, l.attempt),
        h('td', null, pill(l.success ? 'success' : 'failure'), ' ', resultText(l)),
        h('td', { class: 'num' }, l.duration_ms === null ? '—' : `${l.duration_ms} ms`),
        h('td', { class: 'mono small' }, l.delivery_id),
      )), { class: 'compact logs' })
    : h('p', { class: 'muted small' }, 'No delivery yet. Press Test to send a webhook.test event.'));
  return logs;
}

function resultText(l: DeliveryLog): Child {
  if (l.status_code !== null) return h('span', { class: l.success ? '' : 'bad-text' }, `HTTP ${l.status_code}`);
  return h('span', { class: 'bad-text' }, l.error ?? 'no answer');
}

/** Re-reads the webhook's log until the delivery appears (a test is attempted once, within seconds). */
async function waitForDelivery(ctx: PageContext, id: number, deliveryId: string, host: HTMLElement): Promise<DeliveryLog | null> {
  const deadline = Date.now() + 20_000;
  while (ctx.active() && Date.now() < deadline) {
    const logs = await showLogs(ctx, id, host, deliveryId);
    const found = logs?.find((l) => l.delivery_id === deliveryId);
    if (found) return found;
    await new Promise((r) => setTimeout(r, 600));
  }
  return null;
}

// --- Signing secret ----------------------------------------------------------------------------------------

function signingSecret(ctx: PageContext): HTMLElement {
  const value = h('div', { class: 'secret-value' }, h('code', { class: 'masked' }, '••••••••••••••••••••••••••••••••'));
  const revealBtn = h('button', { type: 'button', class: 'ghost small-btn', id: 'secret-reveal' }, 'Reveal');
  const rotate = h('button', { type: 'button', class: 'ghost danger small-btn', id: 'secret-rotate' }, 'Rotate');
  const show = (secret: string) => {
    mount(value, copyField(secret, { label: 'Signing secret', name: 'signing-secret' }));
    revealBtn.textContent = 'Hide';
  };
  revealBtn.addEventListener('click', async () => {
    if (value.querySelector('input')) {
      mount(value, h('code', { class: 'masked' }, '••••••••••••••••••••••••••••••••'));
      revealBtn.textContent = 'Reveal';
      return;
    }
    revealBtn.disabled = true;
    try {
      show((await get<{ data: { secret: string } }>('/api/webhooks/signing-secret')).data.secret);
    } catch (e) {
      notifyError(e, 'Signing secret');
    } finally {
      revealBtn.disabled = false;
    }
  });
  rotate.addEventListener('click', async () => {
    if (!confirm('Rotate the signing secret? Callbacks are signed with the new one from now on, queued ones included: update your receivers.')) return;
    const res = await act(rotate, () => post<{ message?: string; data: { secret: string } }>('/api/webhooks/signing-secret/rotate'), 'Signing secret rotated');
    if (res && ctx.active()) show(res.data.secret);
  });
  return h('section', { class: 'card', id: 'signing-secret' },
    h('header', { class: 'card-head' }, h('h2', null, 'Signing secret')),
    h('p', { class: 'muted intro' }, 'The account\'s secret signs the callbacks of a send\'s own ', h('code', null, 'webhook_url'), ' and the Mifumo webhooks created without a secret of their own (it is also the Mifumo ', h('code', null, 'secret_key'), ').'),
    h('div', { class: 'secret-row' }, value, revealBtn, rotate),
  );
}
