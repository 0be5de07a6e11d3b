/**
 * Live traffic: GET /api/admin/status every 3 s (one request for everything on screen), per
 * operator and bind: state and since when, TPS achieved vs configured with the last 15 minutes,
 * window in use, queue, the last minute's submits, receipts and errors, the last error.
 */
import { get } from '/web/api.js';
import { sparkline, gauge, type Point } from '/web/chart.js';
import { h, mount, type Child } from '/web/dom.js';
import { dec, duration, hourMinute, int, shortTime, since } from '/web/format.js';
import { pill, toneOf } from '/web/ui.js';
import type { Page } from './page.js';

const POLL_MS = 3000;

export interface MinuteCounts {
  at: string;
  submitted: number;
  accepted: number;
  receipts: number;
  errors: number;
}

export interface BindStatus {
  name: string;
  mode: string;
  smsc: string;
  state: string;
  /** The node running the bind (several nodes on PostgreSQL); null: no node holds it now. */
  node?: string | null;
  since: string;
  tps: { configured: number; current: number; achieved_1m: number };
  window: { size: number; used: number };
  queued: number;
  last_minute: { submitted: number; accepted: number; receipts: number; mo: number; errors: number; throttled: number; failed: number; timeouts: number; reconnects: number; refusals: number };
  last_error: string | null;
  history?: MinuteCounts[];
}

export interface GatewayStatus {
  version: string;
  node?: string;
  started_at: string;
  uptime_s: number;
  database: { backend?: 'sqlite' | 'postgres'; writable: boolean; reason: string | null };
  queue_depth: number;
  operators: { name: string; queue_depth: number; binds: BindStatus[] }[];
}

export const trafficPage: Page = {
  title: 'Traffic',
  render(ctx) {
    const summary = h('div', { class: 'summary' });
    const stale = h('p', { class: 'stale', role: 'status', hidden: true });
    const ops = h('div', { class: 'operators' }, h('p', { class: 'muted loading' }, 'Loading the gateway\'s status…'));
    mount(ctx.root, summary, stale, ops);

    let timer: ReturnType<typeof setTimeout> | null = null;
    let last: GatewayStatus | null = null;
    let lastAt = 0;

    const tick = async () => {
      timer = null;
      if (!ctx.active()) return;
      if (!document.hidden) {
        try {
          const res = await get<{ data: GatewayStatus }>('/api/admin/status');
          if (!ctx.active()) return;
          last = res.data;
          lastAt = Date.now();
          stale.hidden = true;
          draw(res.data);
        } catch (e) {
          if (!ctx.active()) return;
          stale.hidden = false;
          stale.textContent = `The status could not be read (${e instanceof Error ? e.message : String(e)})${last ? `; showing the one of ${shortTime(new Date(lastAt).toISOString())}` : ''}. Retrying every ${POLL_MS / 1000} s.`;
        }
      }
      if (ctx.active()) timer = setTimeout(tick, POLL_MS);
    };

    const draw = (st: GatewayStatus) => {
      const binds = st.operators.flatMap((o) => o.binds);
      const bound = binds.filter((b) => b.state === 'bound').length;
      mount(summary,
        stat('Version', st.version),
        stat('Uptime', duration(st.uptime_s), `since ${shortTime(st.started_at)}`),
        stat('Database', st.database.writable ? pill('writable', 'ok') : pill('read-only', 'bad'), st.database.reason ?? (st.database.backend === 'postgres' ? `PostgreSQL · this node ${st.node ?? ''}` : null), st.database.writable ? '' : 'bad'),
        stat('Queue', int(st.queue_depth), 'queued + in windows'),
        stat('Binds', `${bound} / ${binds.length} bound`, null, bound === binds.length ? '' : bound === 0 ? 'bad' : 'warn'),
        stat('Updated', shortTime(new Date().toISOString()), `every ${POLL_MS / 1000} s`),
      );
      if (st.operators.length === 0) {
        mount(ops, h('p', { class: 'muted' }, 'No operator is configured.'));
        return;
      }
      mount(ops, st.operators.map((op) => operatorCard(op, st.database.backend === 'postgres')));
    };

    void tick();
    const onVisible = () => {
      if (!document.hidden && ctx.active() && timer) {
        clearTimeout(timer);
        void tick();
      }
    };
    document.addEventListener('visibilitychange', onVisible);
    return () => {
      if (timer) clearTimeout(timer);
      document.removeEventListener('visibilitychange', onVisible);
    };
  },
};

function stat(label: string, value: Child, sub: string | null = null, tone = ''): HTMLElement {
  return h('div', { class: `stat${tone ? ` stat-${tone}` : ''}` }, h('span', { class: 'stat-label' }, label), h('span', { class: 'stat-value' }, value), sub ? h('span', { class: 'stat-sub' }, sub) : null);
}

function operatorCard(op: GatewayStatus['operators'][number], shared: boolean): HTMLElement {
  const bound = op.binds.filter((b) => b.state === 'bound').length;
  const tone = bound === op.binds.length && bound > 0 ? 'ok' : bound === 0 ? 'bad' : 'wait';
  return h('section', { class: 'card operator', 'data-operator': op.name },
    h('header', { class: 'card-head' },
      h('h2', null, op.name),
      pill(`${bound}/${op.binds.length} bound`, tone),
      h('span', { class: 'muted' }, 'queue ', h('strong', { class: 'op-queue' }, int(op.queue_depth))),
    ),
    h('table', { class: 'binds' },
      h('thead', null, h('tr', null,
        h('th', null, 'Bind'), h('th', null, 'State'), h('th', { class: 'num' }, 'TPS', h('br'), h('small', null, 'achieved / configured')),
        h('th', null, 'Last 15 min', h('br'), h('small', null, 'submits per second, errors')), h('th', null, 'Window'), h('th', { class: 'num' }, 'Queued'),
        h('th', { class: 'num' }, 'Submits', h('br'), h('small', null, 'last min')), h('th', { class: 'num' }, 'Receipts', h('br'), h('small', null, 'last min')),
        h('th', { class: 'num' }, 'Errors', h('br'), h('small', null, 'last min')), h('th', null, 'Last error'),
      )),
      h('tbody', null, op.binds.length ? op.binds.map((b) => bindRow(b, shared)) : h('tr', { class: 'empty' }, h('td', { colspan: 10 }, 'No bind configured.'))),
    ),
  );
}

/** `shared`: several nodes may run binds, so each row says which runs it. */
function bindRow(b: BindStatus, shared: boolean): HTMLTableRowElement {
  const m = b.last_minute;
  const errorParts = [
    m.throttled ? `${m.throttled} throttled` : '', m.failed ? `${m.failed} refused` : '', m.timeouts ? `${m.timeouts} timeouts` : '',
    m.refusals ? `${m.refusals} bind refusals` : '', m.reconnects ? `${m.reconnects} reconnects` : '',
  ].filter(Boolean);
  const throttledNow = b.tps.current < b.tps.configured;
  return h('tr', { 'data-bind': b.name, 'data-state': b.state },
    h('td', null, h('strong', null, b.name), h('div', { class: 'muted small' }, `${b.mode} · ${b.smsc}`)),
    h('td', null, pill(b.state, toneOf(b.state)), h('div', { class: 'muted small', title: b.since }, `for ${since(b.since)}${shared ? ` · on ${b.node ?? 'no node'}` : ''}`)),
    h('td', { class: 'num' },
      h('span', { class: 'big' }, dec(b.tps.achieved_1m)), h('span', { class: 'muted' }, ` / ${int(b.tps.configured)}`),
      throttledNow ? h('div', { class: 'small warn-text', title: 'The throttle governor holds the rate below the configured TPS' }, `held at ${int(b.tps.current)}`) : null,
    ),
    h('td', { class: 'chart-cell' }, historyChart(b)),
    h('td', null, h('div', { class: 'window' }, gauge(b.window.used, b.window.size, { width: 44 }), h('span', { class: 'small' }, `${b.window.used} / ${b.window.size}`))),
    h('td', { class: 'num' }, int(b.queued)),
    h('td', { class: 'num' }, int(m.submitted)),
    h('td', { class: 'num' }, int(m.receipts)),
    h('td', { class: `num${m.errors ? ' bad-text' : ''}`, title: errorParts.join(', ') || 'no errors' }, int(m.errors), errorParts.length ? h('div', { class: 'small' }, errorParts.join(', ')) : null),
    h('td', { class: 'last-error' }, b.last_error ? h('span', { class: 'bad-text', title: b.last_error }, b.last_error) : h('span', { class: 'muted' }, '—')),
  );
}

function historyChart(b: BindStatus): Child {
  const hist = b.history ?? [];
  if (!hist.length) return h('span', { class: 'muted small' }, 'no history yet');
  const points: Point[] = hist.map((m) => ({
    value: m.submitted / 60,
    bar: m.errors,
    title: `${hourMinute(m.at)} — ${int(m.submitted)} submitted (${dec(m.submitted / 60)}/s), ${int(m.receipts)} receipts, ${int(m.errors)} errors`,
  }));
  // Scaled to the traffic; the configured TPS is drawn (dashed) when the traffic comes near it, so a
  // quiet bind still shows the shape of its minutes instead of a flat line under a far-away limit.
  const peak = Math.max(0, ...points.map((p) => p.value ?? 0));
  const nearLimit = b.tps.configured > 0 && b.tps.configured <= peak * 2;
  const top = nearLimit ? Math.max(peak, b.tps.configured) * 1.1 : Math.max(peak * 1.15, 0.05);
  const svg = sparkline(points, {
    slots: 15, width: 136, height: 36, max: top, reference: nearLimit ? b.tps.configured : null,
    label: `${b.name}: submits per second over the last 15 minutes (peak ${dec(peak)}/s, configured ${b.tps.configured})`,
  });
  return h('div', { class: 'chart-wrap' }, svg, h('span', { class: 'chart-peak small muted' }, `peak ${dec(peak)}/s`));
}
