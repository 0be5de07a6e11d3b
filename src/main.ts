#!/usr/bin/env node
/**
 * `relais <command>`: serve | migrate | smsc-sim | send | binds.
 * Exit codes: 0 ok, 1 runtime failure, 2 usage, 78 bad configuration (EX_CONFIG: systemd
 * does not restart-loop on it when RestartPreventExitStatus=78).
 */
import { parseArgs } from 'node:util';
import { creditsCommand, doctorCommand, ordersCommand, packagesCommand, senderIdsCommand, userCommand, withServices } from './cli/admin.js';
import { ConfigError, loadConfig, resolveConfigPath } from './config/load.js';
import type { Config } from './config/schema.js';
import { startDaemon } from './daemon.js';
import { createLogger } from './log.js';
import { describeIssue, ServiceError } from './services/errors.js';
import { runSimulatorCli } from './smpp/simulator/cli.js';
import { migrate, openStore, type Store } from './store/db.js';
import { FINAL_STATES } from './store/tables.js';

const USAGE = `usage: relais <command> [options]
  serve    [--config FILE]                      run the daemon (default command)
  migrate  [--config FILE]                      apply database migrations and exit
  smsc-sim [--port N ...]                       run the SMSC simulator (relais smsc-sim --help)
  send     --to NUMBER[,NUMBER] --text TEXT [--from SENDER] [--wait SECONDS] [--config FILE]
                                                queue a message in the daemon's database
  binds    [--config FILE] [--url URL]          print the bind states of a running daemon
  user     create --email E [--name N] [--username U] [--password P] [--admin] | list
  credits  --email E --amount N                 add (or, negative, remove) credits
  sender-ids list [--status S] | approve --id N | reject --id N
  packages list | create --name N --sms N --price P [--bonus N] [--currency C] [--validity-days D] | disable --id N | enable --id N
  orders   list [--status S] | confirm --id N | reject --id N
  doctor                                        check every balance against its ledger (exit 1 if anything differs)
Config: --config, else $RELAIS_CONFIG, else config/relais.yaml, else the demo config.`;

const EX_CONFIG = 78;

/** Resolves to an exit code, or null when the command keeps running on its own (the simulator). */
async function main(argv: string[]): Promise<number | null> {
  const [command = 'serve', ...rest] = argv;
  switch (command) {
    case 'serve': return serve(rest);
    case 'migrate': return migrateCmd(rest);
    case 'smsc-sim': await runSimulatorCli(rest); return null;
    case 'send': return send(rest);
    case 'binds': return binds(rest);
    case 'user': return withConfig(rest, userCommand);
    case 'credits': return withConfig(rest, creditsCommand);
    case 'sender-ids': return withConfig(rest, senderIdsCommand);
    case 'packages': return withConfig(rest, packagesCommand);
    case 'orders': return withConfig(rest, ordersCommand);
    case 'doctor': return withConfig(rest, doctorCommand);
    case 'help': case '--help': case '-h': console.log(USAGE); return 0;
    default: console.error(`unknown command "${command}"\n${USAGE}`); return 2;
  }
}

function configFrom(args: string[], extra: Record<string, { type: 'string' | 'boolean' }> = {}) {
  const { values } = parseArgs({ args, options: { config: { type: 'string', short: 'c' }, ...extra }, allowPositionals: false });
  const path = resolveConfigPath(values.config as string | undefined);
  return { config: loadConfig(path), path, values: values as Record<string, string | boolean | undefined> };
}

/** Commands whose own flags follow; --config may appear anywhere among them. */
function withConfig(args: string[], run: (config: Config, rest: string[]) => Promise<number>): Promise<number> {
  const i = args.findIndex((a) => a === '--config' || a === '-c');
  const explicit = i >= 0 ? args[i + 1] : undefined;
  const rest = i >= 0 ? [...args.slice(0, i), ...args.slice(i + 2)] : args;
  return run(loadConfig(resolveConfigPath(explicit)), rest);
}

async function serve(args: string[]): Promise<number> {
  const { config, path } = configFrom(args);
  const log = createLogger(config.log.level);
  log.info({ config: path }, 'configuration loaded');
  const daemon = await startDaemon(config, log);
  await new Promise<void>((resolve) => {
    const onSignal = (signal: string) => {
      log.info({ signal }, 'signal received');
      void daemon.stop().then(resolve);
    };
    process.once('SIGTERM', () => onSignal('SIGTERM'));
    process.once('SIGINT', () => onSignal('SIGINT'));
  });
  return 0;
}

async function migrateCmd(args: string[]): Promise<number> {
  const { config } = configFrom(args);
  const store = openStore(config.database.path);
  const applied = await migrate(store);
  await store.close();
  console.log(applied.length ? `applied: ${applied.join(', ')}` : 'database is up to date');
  return 0;
}

/** Writes straight into the queue (the database): the running daemon's dispatcher picks it up. */
async function send(args: string[]): Promise<number> {
  const { config, values } = configFrom(args, { to: { type: 'string' }, text: { type: 'string' }, from: { type: 'string' }, wait: { type: 'string' } });
  if (typeof values.to !== 'string' || typeof values.text !== 'string') {
    console.error('send needs --to and --text');
    return 2;
  }
  const to = values.to.split(',');
  const text = values.text;
  return withServices(config, async ({ store, services }) => {
    const result = await services.sending.sendAsOperator({ sender: (values.from as string) ?? config.default_sender_id, recipients: to, text });
    for (const r of result.results) console.log(JSON.stringify(r.ok ? { to: r.e164, id: r.id, operator: r.operator, parts: r.parts, status: 'queued' } : { to: r.input, error: r.error, reason: r.reason }));
    const ids = result.results.flatMap((r) => (r.ok ? [r.id] : []));
    const wait = Number(values.wait ?? 0);
    if (wait > 0 && ids.length) return waitFinal(store, ids, wait * 1000);
    return result.failed ? 1 : 0;
  });
}

async function waitFinal(store: Store, ids: number[], ms: number): Promise<number> {
  const deadline = Date.now() + ms;
  for (;;) {
    const rows = await store.repos.queue.states(ids);
    const done = rows.every((r) => FINAL_STATES.includes(r.status));
    if (done || Date.now() > deadline) {
      for (const r of rows) console.log(JSON.stringify(r));
      return done && rows.every((r) => r.status === 'delivered') ? 0 : 1;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function binds(args: string[]): Promise<number> {
  const { config, values } = configFrom(args, { url: { type: 'string' } });
  const url = (values.url as string) ?? `http://127.0.0.1:${config.http.port}`;
  const res = await fetch(`${url}/ops/binds`).catch((err: Error) => {
    throw new Error(`cannot reach the daemon at ${url}: ${err.message}`);
  });
  const body = (await res.json()) as { data: { operator: string; name: string; state: string; tps: number; window: number; window_used: number; last_error: string | null; counters: { accepted: number } }[] };
  console.log(['OPERATOR', 'BIND', 'STATE', 'TPS', 'WINDOW', 'ACCEPTED', 'LAST ERROR'].join('\t'));
  for (const b of body.data) console.log([b.operator, b.name, b.state, b.tps, `${b.window_used}/${b.window}`, b.counters.accepted, b.last_error ?? ''].join('\t'));
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    // Exit explicitly: a stopped daemon must not linger on a stray handle under systemd.
    if (code !== null) process.exit(code);
  },
  (err: unknown) => {
    if (err instanceof ServiceError) {
      const fields = Object.entries(err.fields).flatMap(([field, issues]) => issues.map((i) => describeIssue(field, i)));
      console.error([err.message, ...fields].join('\n'));
      process.exit(err.kind === 'validation' ? 2 : 1);
    }
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(EX_CONFIG);
    }
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  },
);

