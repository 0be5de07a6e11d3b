/** The benchmark's command line: flags, their defaults and limits, and the usage text. */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';

export const USAGE = `usage: npm run bench -- [options]     (or: node --import tsx bench/run.ts [options])
  --messages <n>        messages per scenario (default 20000)
  --single-messages <n> messages of the scenario single, at most --messages (default 5000)
  --tps <n>             configured TPS of each bind (default 2000)
  --binds <n>           SMPP sessions to the simulator, all on one operator (default 2)
  --window <n>          window of each bind (default 50)
  --batch <n>           recipients per POST /api/messages/send (default 100; single: 1)
  --concurrency <n>     HTTP requests in flight, one connection each (default 16)
  --scenarios <list>    comma-separated: plain, single, receipts, throttle5, import, webhooks, bulk,
                        probe, tps500, throttle1k (default these ten); queue1m (a million messages
                        into the queue) and campaign (minutes) only when named; \`speed\` stands for
                        the Speed table's scenarios (webhooks, single, bulk, queue1m, probe, tps500, throttle1k)
  --webhook-messages <n> messages of the scenario webhooks, each a message.delivered callback (default 5000)
  --bulk-messages <n>   messages of the scenario bulk (default 100000)
  --probe-messages <n>  messages of the scenario probe, 10 000 per request (default 200000)
  --queue-messages <n>  messages of the scenario queue1m, 10 000 per request (default 1000000)
  --big-clients <n>     clients posting 10 000-recipient requests back to back in probe and queue1m (default 4)
  --import-rows <n>     rows of the CSV the scenario import posts to /api/contacts/import (default 100000)
  --campaign-recipients <n>
                        recipients of the scenario campaign, imported into one contact group (default 1000000)
  --timeout <s>         longest wait for the messages to arrive, per scenario (default 300)
  --log-level <l>       daemon log level (default warn; info, debug, trace copy its logs to stderr)
  --cpu-prof <dir>      write a CPU profile of each daemon (node --cpu-prof) into <dir>
  --database-url <url>  run the daemon on PostgreSQL (postgres://…), a fresh schema of that
                        database per scenario, dropped after it (default: env
                        RELAIS_BENCH_DATABASE_URL, else SQLite: a fresh file per scenario)
  --json                also print one JSON object with every figure at the end
  --help`;

/**
 * The message scenarios (send-scenarios.ts), `import`: the contacts CSV import, no messages; the
 * message scenarios of the Speed table (webhooks … queue1m); `campaign`: a campaign to a contact
 * group started and expanded. queue1m and campaign are not in the default list.
 */
export const SCENARIO_NAMES = ['plain', 'single', 'receipts', 'throttle5', 'import', 'webhooks', 'bulk', 'probe', 'tps500', 'throttle1k', 'queue1m', 'campaign'] as const;
export type ScenarioName = (typeof SCENARIO_NAMES)[number];
export type MessageScenario = Exclude<ScenarioName, 'import' | 'campaign'>;

const DEFAULT_SCENARIOS = 'plain,single,receipts,throttle5,import,webhooks,bulk,probe,tps500,throttle1k';

/** `--scenarios speed`: every scenario a row of the Speed table comes from, in the table's order. */
export const SPEED_SCENARIOS: readonly ScenarioName[] = ['webhooks', 'single', 'bulk', 'queue1m', 'probe', 'tps500', 'throttle1k'];

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export interface Options {
  messages: number;
  singleMessages: number;
  tps: number;
  binds: number;
  window: number;
  batch: number;
  concurrency: number;
  scenarios: ScenarioName[];
  importRows: number;
  campaignRecipients: number;
  webhookMessages: number;
  bulkMessages: number;
  probeMessages: number;
  queueMessages: number;
  /** Clients posting 10 000-recipient requests (probe, queue1m). */
  bigClients: number;
  timeoutS: number;
  logLevel: string;
  /** Directory for the daemon's CPU profiles (node --cpu-prof), or null. */
  cpuProfDir: string | null;
  /** PostgreSQL (--database-url, else env RELAIS_BENCH_DATABASE_URL), or null: SQLite. */
  databaseUrl: string | null;
  json: boolean;
}

/** The options, or null for --help; throws on a bad flag or value. */
export function parseOptions(argv: string[], env: NodeJS.ProcessEnv = process.env): Options | null {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      messages: { type: 'string', default: '20000' },
      'single-messages': { type: 'string', default: '5000' },
      tps: { type: 'string', default: '2000' },
      binds: { type: 'string', default: '2' },
      window: { type: 'string', default: '50' },
      batch: { type: 'string', default: '100' },
      concurrency: { type: 'string', default: '16' },
      scenarios: { type: 'string', default: DEFAULT_SCENARIOS },
      'import-rows': { type: 'string', default: '100000' },
      'campaign-recipients': { type: 'string', default: '1000000' },
      'webhook-messages': { type: 'string', default: '5000' },
      'bulk-messages': { type: 'string', default: '100000' },
      'probe-messages': { type: 'string', default: '200000' },
      'queue-messages': { type: 'string', default: '1000000' },
      'big-clients': { type: 'string', default: '4' },
      timeout: { type: 'string', default: '300' },
      'log-level': { type: 'string', default: 'warn' },
      'cpu-prof': { type: 'string' },
      'database-url': { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return null;
  const scenarios = parseScenarios(values.scenarios);
  if (!LOG_LEVELS.includes(values['log-level'])) throw new Error(`invalid --log-level: ${values['log-level']} (${LOG_LEVELS.join(', ')})`);
  const databaseUrl = values['database-url'] ?? (env.RELAIS_BENCH_DATABASE_URL || null);
  if (databaseUrl !== null && !/^postgres(ql)?:\/\/\S+$/.test(databaseUrl)) {
    throw new Error(`invalid ${values['database-url'] === undefined ? 'RELAIS_BENCH_DATABASE_URL' : '--database-url'}: a postgres:// or postgresql:// URL`);
  }
  return {
    // +24162 followed by six digits: at most a million distinct recipients.
    messages: int('messages', values.messages, 1, 1_000_000),
    singleMessages: int('single-messages', values['single-messages'], 1, 1_000_000),
    tps: int('tps', values.tps, 1, 100_000),
    binds: int('binds', values.binds, 1, 64),
    window: int('window', values.window, 1, 1000),
    // The API takes at most 10 000 recipients per request.
    batch: int('batch', values.batch, 1, 10_000),
    concurrency: int('concurrency', values.concurrency, 1, 1024),
    scenarios,
    // +2416 followed by 2000000 + i (seven digits); the daemon takes files up to 200 MB.
    importRows: int('import-rows', values['import-rows'], 1, 1_000_000),
    // The same numbers as the import's: a million at most.
    campaignRecipients: int('campaign-recipients', values['campaign-recipients'], 1, 1_000_000),
    // Recipients +24162000000…: a million at most.
    webhookMessages: int('webhook-messages', values['webhook-messages'], 1, 1_000_000),
    bulkMessages: int('bulk-messages', values['bulk-messages'], 1, 1_000_000),
    probeMessages: int('probe-messages', values['probe-messages'], 1, 1_000_000),
    queueMessages: int('queue-messages', values['queue-messages'], 1, 1_000_000),
    bigClients: int('big-clients', values['big-clients'], 1, 64),
    timeoutS: int('timeout', values.timeout, 1, 24 * 3600),
    logLevel: values['log-level'],
    cpuProfDir: values['cpu-prof'] ? resolve(values['cpu-prof']) : null,
    databaseUrl,
    json: values.json,
  };
}

function int(name: string, v: string, min: number, max: number): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`invalid --${name}: ${v} (an integer ${min}..${max})`);
  return n;
}

function parseScenarios(list: string): ScenarioName[] {
  // Each once, in the order first named.
  const scenarios = [...new Set(list.split(',').map((s) => s.trim()).filter(Boolean).flatMap((s): readonly string[] => (s === 'speed' ? SPEED_SCENARIOS : [s])))];
  for (const s of scenarios) if (!(SCENARIO_NAMES as readonly string[]).includes(s)) throw new Error(`unknown scenario "${s}" (${SCENARIO_NAMES.join(', ')})`);
  if (!scenarios.length) throw new Error('--scenarios names no scenario');
  return scenarios as ScenarioName[];
}
