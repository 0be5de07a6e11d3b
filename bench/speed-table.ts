/**
 * The Speed table of issue 12: one row per kind of work, Relais's figure from this run next to
 * Kannel's, the issue's "Relais today" and the target (those three are text, from the issue: the
 * Kannel columns come from the shared kit, run by hand). A row whose scenario did not run says
 * which one to name in --scenarios.
 */
import { fmtInt, fmtLatency, fmtNum, mb, table } from './format.js';
import type { MessageScenario } from './options.js';
import type { ScenarioResult } from './send-scenarios.js';

interface SpeedRow {
  work: string;
  kannel: string;
  issue: string;
  target: string;
  scenario: MessageScenario;
  /** The figure, then how it was taken (in parentheses). */
  figure(r: ScenarioResult): string;
}

const ROWS: readonly SpeedRow[] = [
  {
    work: 'receipts delivered to an HTTP callback', kannel: '3 100–4 500/s', issue: '42/s', target: '≥ Kannel', scenario: 'webhooks',
    figure: (r) => {
      const c = r.callbacks;
      if (!c) return '–';
      return `${fmtInt(c.perSecond)}/s first → last callback (${fmtInt(c.totalPerSecond)}/s from the first request; ${fmtInt(c.delivered)}/${fmtInt(r.accepted)} message.delivered${c.duplicates ? `, ${fmtInt(c.duplicates)} duplicates` : ''}${incomplete(r)})`;
    },
  },
  {
    work: 'one SMS per HTTP request, received at the SMSC', kannel: '4 900/s median (its runs are bimodal: 4.7 k or 9.3 k)', issue: '3 900/s',
    target: "≥ Kannel's median, pairs alternated on the same box", scenario: 'single',
    figure: (r) => (r.smsc ? `${fmtInt(r.smsc.perSecond)}/s (${smscCount(r)} received, first request → last arrival${incomplete(r)})` : '–'),
  },
  {
    work: 'CPU per accepted message (Relais vs bearerbox + smsbox)', kannel: '86–94 µs', issue: '290–326 µs', target: "≤ 1.5 × Kannel's", scenario: 'single',
    figure: (r) => `${fmtInt(r.daemon.acceptCpuPerMessageUs)} µs (daemon user + sys over the accept phase of \`single\` / ${fmtInt(r.accepted)} accepted; ${fmtInt(r.daemon.cpuPerMessageUs)} µs until all sent)`,
  },
  {
    work: 'bulk, 100 recipients a request, uncapped', kannel: '–', issue: "9 800/s end to end (dispatcher's 500 per 50 ms is the ceiling)", target: '≥ 20 000/s', scenario: 'bulk',
    figure: (r) => (r.smsc ? `${fmtInt(r.smsc.perSecond)}/s end to end (${smscCount(r)} received; ${bindsText(r)}${incomplete(r)})` : '–'),
  },
  {
    work: '1 000 000 queued while the SMSC is down', kannel: '–', issue: 'peak RSS 463–602 MB', target: '< 200 MB', scenario: 'queue1m',
    figure: (r) => `peak RSS ${mb(r.daemon.peakRssBytes)} MB (VmHWM; ${fmtInt(r.accepted)} accepted at ${fmtInt(r.acceptPerSecond)}/s, ${r.batch.toLocaleString('en-US')} a request, ${r.concurrency} clients${errors(r)})`,
  },
  {
    work: "light request's p99 while 10 000-recipient sends are accepted", kannel: '–', issue: '5 300 ms', target: '< 50 ms', scenario: 'probe',
    figure: (r) => {
      const l = r.light;
      if (!l) return '–';
      return `${fmtLatency(l.p99Ms)} ms (p50 ${fmtLatency(l.p50Ms)}, max ${fmtLatency(l.maxMs)}; ${fmtInt(l.requests)} GET /api/balance${l.errors ? `, ${fmtInt(l.errors)} failed` : ''} while ${r.concurrency} clients sent ${fmtInt(r.accepted)} messages${errors(r)})`;
    },
  },
  {
    work: 'TPS cap 500, 5 000 messages: most in any sliding second / mean', kannel: '889–926 / 554', issue: '500 / 479', target: '≤ 500 / ≥ 485', scenario: 'tps500',
    figure: (r) => (r.smsc ? `${fmtInt(r.smsc.maxInOneSecond)} / ${fmtInt(r.smsc.perSecond)} (at the SMSC; mean from the first request, ${fmtInt(r.smsc.steadyPerSecond)}/s first → last arrival${incomplete(r)})` : '–'),
  },
  {
    work: '5 % of submits throttled: time for 1 000 messages', kannel: '180 s', issue: '1 s', target: 'keep', scenario: 'throttle1k',
    figure: (r) => (r.smsc ? `${fmtNum(r.smsc.lastAfterMs / 1000, 2)} s (first request → last arrival at the SMSC; ${fmtInt(r.simulator.stats?.throttled ?? NaN)} answered 0x58; ${bindsText(r)}${incomplete(r)})` : '–'),
  },
];

export function speedSection(results: readonly ScenarioResult[]): string[] {
  return [
    '### Speed (issue 12)',
    '',
    table(
      ['work', 'Kannel (issue 12)', 'Relais in issue 12', 'Relais, this run', 'target'],
      ROWS.map((row) => {
        const r = results.find((x) => x.scenario === row.scenario);
        return [row.work, row.kannel, row.issue, r ? row.figure(r) : `not run (--scenarios ${row.scenario})`, row.target];
      }),
      5,
    ),
  ];
}

function smscCount(r: ScenarioResult): string {
  return `${fmtInt(r.smsc?.accepted ?? NaN)}/${fmtInt(r.accepted)}`;
}

function bindsText(r: ScenarioResult): string {
  const b = r.bindSetup;
  return `${b.count} bind${b.count > 1 ? 's' : ''} × ${fmtInt(b.tps)} TPS, window ${b.window}`;
}

/** What makes a figure suspect: a timeout, messages in another final state, HTTP errors. */
function incomplete(r: ScenarioResult): string {
  return `${r.timedOut ? '; TIMEOUT' : ''}${r.otherFinal ? `; ${fmtInt(r.otherFinal)} other final` : ''}${errors(r)}`;
}

function errors(r: ScenarioResult): string {
  return r.httpErrors ? `; ${fmtInt(r.httpErrors)} HTTP errors` : '';
}
