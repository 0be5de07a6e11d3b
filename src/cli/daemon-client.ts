/**
 * CLI commands that ask the running daemon over its loopback-only /ops endpoints: `relais binds`,
 * `relais status` and `relais reload`. The daemon is the authority: these only print what it answers.
 */
import type { Config } from '../config/schema.js';
import type { ReloadReport } from '../ops/reload.js';
import type { GatewayStatus } from '../ops/status.js';

export const defaultUrl = (config: Config): string => `http://${config.http.host === '0.0.0.0' || config.http.host === '::' ? '127.0.0.1' : config.http.host}:${config.http.port}`;

async function ask(url: string, method: 'GET' | 'POST', path: string): Promise<{ status: number; body: any }> {
  const res = await fetch(`${url}${path}`, { method }).catch((err: Error) => {
    throw new Error(`cannot reach the daemon at ${url}: ${(err.cause as Error | undefined)?.message ?? err.message} (is it running? --url to point elsewhere)`);
  });
  return { status: res.status, body: await res.json().catch(() => null) };
}

/** `relais binds`: one line per bind. */
export async function bindsCommand(url: string): Promise<number> {
  const { status, body } = await ask(url, 'GET', '/ops/binds');
  if (status !== 200) throw new Error(`the daemon answered ${status}: ${JSON.stringify(body)}`);
  const binds = body.data as { operator: string; name: string; state: string; tps: number; window: number; window_used: number; last_error: string | null; counters: { accepted: number } }[];
  console.log(['OPERATOR', 'BIND', 'STATE', 'TPS', 'WINDOW', 'ACCEPTED', 'LAST ERROR'].join('\t'));
  for (const b of binds) console.log([b.operator, b.name, b.state, b.tps, `${b.window_used}/${b.window}`, b.counters.accepted, b.last_error ?? ''].join('\t'));
  return 0;
}

/** `relais status`: the table an operator checks first, or the JSON the console reads (--json). */
export async function statusCommand(url: string, json: boolean): Promise<number> {
  const { status, body } = await ask(url, 'GET', '/ops/status');
  if (status !== 200) throw new Error(`the daemon answered ${status}: ${JSON.stringify(body)}`);
  const s = body.data as GatewayStatus;
  if (json) {
    console.log(JSON.stringify(s, null, 2));
    return 0;
  }
  console.log(`relais ${s.version} · node ${s.node} · up ${duration(s.uptime_s)} (since ${s.started_at}) · ${s.database.backend} ${s.database.writable ? 'writable' : `NOT WRITABLE: ${s.database.reason}`} · queue ${s.queue_depth}`);
  const rows: string[][] = [['OPERATOR', 'QUEUE', 'BIND', 'STATE', 'NODE', 'SINCE', 'TPS CFG/NOW/1M', 'WINDOW', 'QUEUED', 'SUBMITS/1M', 'RECEIPTS/1M', 'ERRORS/1M', 'LAST ERROR']];
  for (const op of s.operators) {
    if (!op.binds.length) rows.push([op.name, String(op.queue_depth), '-', '', '', '', '', '', '', '', '', '', '']);
    for (const b of op.binds) {
      const m = b.last_minute;
      rows.push([
        op.name, String(op.queue_depth), b.name, b.state, b.node ?? '-', b.since, `${b.tps.configured}/${b.tps.current}/${b.tps.achieved_1m}`,
        `${b.window.used}/${b.window.size}`, String(b.queued), `${m.submitted} (${m.accepted} ok)`, String(m.receipts),
        m.errors ? `${m.errors} (${[m.throttled && `${m.throttled} throttled`, m.failed && `${m.failed} refused`, m.timeouts && `${m.timeouts} timeouts`, m.refusals && `${m.refusals} bind refusals`].filter(Boolean).join(', ')})` : '0',
        b.last_error ?? '',
      ]);
    }
  }
  printTable(rows);
  return 0;
}

/** `relais reload`: the daemon re-reads its own config file; a bad one is listed key by key (exit 78). */
export async function reloadCommand(url: string): Promise<number> {
  const { status, body } = await ask(url, 'POST', '/ops/reload');
  if (status === 422) {
    console.error(`${body.message}\n${(body.errors as string[]).map((e) => `  - ${e}`).join('\n')}`);
    return 78;
  }
  if (status !== 200) throw new Error(`the daemon answered ${status}: ${JSON.stringify(body)}`);
  const r = body.data as ReloadReport;
  if (!r.changed) {
    console.log('reloaded: nothing changed');
    return 0;
  }
  console.log('reloaded');
  for (const [what, names] of Object.entries(r.binds)) if (names.length) console.log(`  binds ${what}: ${names.join(', ')}`);
  if (r.rerouted) console.log(`  queued messages re-routed: ${r.rerouted}`);
  if (r.applied.length) console.log(`  applied: ${r.applied.join(', ')}`);
  if (r.restart_needed.length) console.log(`  NOT applied until a restart: ${r.restart_needed.join(', ')}`);
  return 0;
}

function printTable(rows: string[][]): void {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const r of rows) console.log(r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd());
}

function duration(s: number): string {
  const d = Math.floor(s / 86_400), h = Math.floor((s % 86_400) / 3600), m = Math.floor((s % 3600) / 60);
  return d ? `${d}d${h}h` : h ? `${h}h${m}m` : `${m}m${s % 60}s`;
}
