/**
 * Relais end-to-end benchmark (loopback only; prints figures, asserts nothing).
 *
 * Three processes per scenario: this one (the HTTP client, and a read-only reader of the daemon's
 * database), the daemon (`relais serve`, its own process, on a fresh database: a SQLite file, or
 * with --database-url a fresh schema of a PostgreSQL database) and the SMSC simulator. Messages are accepted the way an integrator sends them, POST /api/messages/send with
 * an API key; then the wait until every message is `sent` (or `delivered` with receipts). Figures
 * come from the message rows themselves (created_at, sent_at, done_at, bind).
 *
 *   npm run bench -- --messages 20000 --tps 2000 --binds 2
 *   node --import tsx bench/run.ts --messages 2000 --scenarios plain --json
 *
 * See bench/README.md for what every number means. This file runs the scenarios in turn; the parts:
 *   options.ts          the flags and their defaults
 *   setup.ts            a scenario's processes (ports, temp directory, config), their release, Ctrl-C
 *   database.ts         its database (SQLite file or PostgreSQL schema) and the benchmark's reader of it
 *   processes.ts        spawning the simulator (smsc.ts: it also keeps the arrival times) and the daemon; their /proc figures
 *   http.ts             the daemon's API as the benchmark calls it
 *   send-scenarios.ts   plain, single, receipts, throttle5, and the Speed table's webhooks, bulk,
 *                       probe, tps500, throttle1k, queue1m (webhook-receiver.ts: the callbacks' receiver)
 *   import-scenario.ts  import (contacts-csv.ts: the CSV and its POST, shared with campaign)
 *   campaign-scenario.ts campaign (latency-probe.ts: the light requests it times meanwhile, also in probe)
 *   report.ts           the markdown tables and the JSON (speed-table.ts: issue 12's Speed table;
 *                       format.ts, stats.ts: the numbers)
 */
import os from 'node:os';
import { runCampaign } from './campaign-scenario.js';
import { describePostgres, redactUrl, SQLITE_INFO, type DatabaseInfo } from './database.js';
import { runImport } from './import-scenario.js';
import { parseOptions, USAGE, type Options } from './options.js';
import { jsonReport, report, type Outcomes } from './report.js';
import { runScenario, setSurvival } from './send-scenarios.js';
import { handleSignals, Interrupted, isInterrupted } from './setup.js';

/** Exit code: 0 when every scenario ran, 1 if one failed, 2 on a bad flag, 130 when interrupted. */
async function main(): Promise<number> {
  let opts: Options | null;
  try {
    opts = parseOptions(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`bench: ${(err as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (!opts) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  let database: DatabaseInfo;
  try {
    database = opts.databaseUrl ? await describePostgres(opts.databaseUrl) : SQLITE_INFO;
  } catch (err) {
    process.stderr.write(`bench: cannot reach PostgreSQL at ${redactUrl(opts.databaseUrl!)}: ${(err as Error).message}\n`);
    return 1;
  }
  process.stderr.write(`database: ${database.description}\n`);
  handleSignals();

  const loadAtStart = os.loadavg();
  const outcomes = await runAll(opts);
  setSurvival(outcomes.results);

  const ran = outcomes.results.length + outcomes.imports.length + outcomes.campaigns.length;
  if (ran) {
    process.stdout.write(`\n${report(opts, outcomes, loadAtStart, database)}\n`);
    if (opts.json) process.stdout.write(`${jsonReport(opts, outcomes, loadAtStart, database)}\n`);
  }
  if (isInterrupted()) return 130;
  return ran === opts.scenarios.length ? 0 : 1;
}

/** The scenarios in the order asked; one that fails is reported and the next one runs. */
async function runAll(opts: Options): Promise<Outcomes> {
  const outcomes: Outcomes = { results: [], imports: [], campaigns: [] };
  for (const name of opts.scenarios) {
    try {
      if (name === 'import') outcomes.imports.push(await runImport(opts));
      else if (name === 'campaign') outcomes.campaigns.push(await runCampaign(opts));
      else outcomes.results.push(await runScenario(name, opts));
    } catch (err) {
      if (err instanceof Interrupted) break;
      process.stderr.write(`[${name}] failed: ${(err as Error).stack ?? String(err)}\n`);
    }
    if (isInterrupted()) break;
  }
  return outcomes;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
