/**
 * Routes: the effective prefix table (GET /api/admin/routes, longest prefix first, as the router
 * matches) and a "which operator gets this number?" box (GET /api/admin/routes/lookup).
 */
import { ApiError, get, query } from '/web/api.js';
import { h, mount, table } from '/web/dom.js';
import { empty, facts, loading, notifyError, pill } from '/web/ui.js';
import type { Page, PageContext } from './page.js';

interface Route {
  prefix: string;
  operator: string;
  failover: string | null;
  priority?: number;
}
interface Lookup {
  input: string;
  e164: string | null;
  operator: string | null;
  failover: string | null;
  prefix: string | null;
  ok: boolean;
  reason: string | null;
}

export const routesPage: Page = {
  title: 'Routes',
  render(ctx) {
    const result = h('div', { class: 'lookup-result', 'aria-live': 'polite' });
    const number = h('input', { type: 'search', name: 'number', id: 'lookup-number', placeholder: '+24162000001, 0777000003, 0024166…', autocomplete: 'off', required: true, value: ctx.params.get('number') ?? '' });
    const form = h('form', { class: 'card lookup', role: 'search' },
      h('label', { for: 'lookup-number' }, h('strong', null, 'Which operator gets this number?')),
      h('div', { class: 'lookup-row' }, number, h('button', { type: 'submit', class: 'primary' }, 'Look up')),
      result,
    );
    const tableHost = h('div', { class: 'card' }, loading());
    mount(ctx.root, form, h('h2', { class: 'section-title' }, 'Prefix table'), h('p', { class: 'muted intro' }, 'Numbers are normalized to E.164, then the longest matching prefix wins. When its operator has no bound bind, messages go to the failover operator (without one they wait in the queue). Edit the routes in the configuration file and use Reload config.'), tableHost);

    let routes: Route[] = [];
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const n = number.value.trim();
      if (!n) return;
      history.replaceState(null, '', `#/routes${query({ number: n })}`);
      await lookup(ctx, n, result, tableHost);
    });
    void (async () => {
      try {
        const res = await get<{ data: Route[]; default_route: string | null }>('/api/admin/routes');
        if (!ctx.active()) return;
        routes = res.data;
        mount(tableHost,
          table(['Prefix', 'Operator', 'Failover'], routes.length ? routes.map((r) => h('tr', { 'data-prefix': r.prefix },
            h('td', { class: 'mono' }, h('strong', null, r.prefix)), h('td', null, r.operator), h('td', null, r.failover ?? h('span', { class: 'muted' }, 'none (waits in the queue)')))) : [empty('No route is configured.', 3)], { class: 'routes' }),
          h('p', { class: 'default-route' }, 'Numbers no prefix matches: ', res.default_route ? h('strong', null, `go to ${res.default_route}`) : h('strong', null, 'refused with no_route'), ' (default_route).'),
        );
        const n = ctx.params.get('number');
        if (n) await lookup(ctx, n, result, tableHost);
      } catch (e) {
        if (ctx.active()) mount(tableHost, h('p', { class: 'bad-text' }, 'The routes could not be read.'));
        notifyError(e);
      }
    })();
    number.focus();
  },
};

async function lookup(ctx: PageContext, n: string, host: HTMLElement, tableHost: HTMLElement): Promise<void> {
  mount(host, loading('Looking up…'));
  let r: Lookup;
  try {
    r = (await get<{ data: Lookup }>(`/api/admin/routes/lookup${query({ number: n })}`)).data;
  } catch (e) {
    if (!ctx.active()) return;
    mount(host, h('p', { class: 'bad-text', role: 'alert' }, e instanceof ApiError ? e.message : String(e)));
    return;
  }
  if (!ctx.active()) return;
  for (const tr of tableHost.querySelectorAll('tr.match')) tr.classList.remove('match');
  if (r.prefix) {
    for (const tr of tableHost.querySelectorAll<HTMLTableRowElement>('tr[data-prefix]')) if (tr.dataset.prefix === r.prefix) tr.classList.add('match');
  }
  mount(host,
    h('div', { class: `lookup-answer ${r.ok ? 'ok' : 'bad'}`, 'data-operator': r.operator ?? '' },
      r.ok
        ? h('p', { class: 'answer' }, h('span', { class: 'mono' }, r.e164 ?? r.input), ' → ', h('strong', { class: 'operator-name' }, r.operator ?? '—'))
        : h('p', { class: 'answer bad-text' }, h('span', { class: 'mono' }, r.input), ' → ', pill(r.reason ?? 'no route', 'bad')),
      facts([
        ['Input', r.input],
        ['E.164', r.e164 ? h('span', { class: 'mono' }, r.e164) : '—'],
        ['Matched prefix', r.prefix ?? (r.ok ? 'default route' : '—')],
        ['Failover', r.failover ?? 'none'],
        r.reason ? ['Reason', r.reason] : null,
      ]),
    ),
  );
}
