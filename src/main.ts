#!/usr/bin/env node
/**
 * `relais <command>`: the commands are the table COMMANDS below (serve is the default).
 * Every command answers --help / -h with its usage (exit 0); a usage error prints the message
 * and the usage (exit 2).
 * Exit codes: 0 ok, 1 runtime failure, 2 usage, 65 a migration failed (EX_DATAERR), 78 bad
 * configuration (EX_CONFIG); systemd does not restart-loop on either (RestartPreventExitStatus=78 65).
 */
import { parseArgs } from 'node:util';
import { ADMIN_HELP, creditsCommand, doctorCommand, ordersCommand, packagesCommand, senderIdsCommand, userCommand, withServices } from './cli/admin.js';
import { BACKUP_HELP, backupCommand, restoreCommand } from './cli/backup.js';
import { bindsCommand, defaultUrl, reloadCommand, statusCommand } from './cli/daemon-client.js';
import { printJson } from './cli/format.js';
import { commandUsage, isUsageError, overallUsage, UsageError, wantsHelp, type CommandHelp } from './cli/usage.js';
import { ConfigError, loadConfig, resolveConfigPath } from './config/load.js';
import type { Config } from './config/schema.js';
import { startDaemon } from './daemon.js';
import { createLogger } from './log.js';
import { describeIssue, ServiceError } from './services/errors.js';
import { runSimulatorCli } from './smpp/simulator/cli.js';
import { migrate, MigrationFailed, openDatabase, type Store } from './store/db.js';
import { FINAL_STATES } from './store/tables.js';

const EX_CONFIG = 78;
/** EX_DATAERR: the database cannot be upgraded by this build; systemd must not retry it every 2 s. */
const EX_DATAERR = 65;

interface Command extends CommandHelp {
  /** Resolves to an exit code, or null when the command keeps running on its own (the simulator). */
  run(args: string[]): Promise<number | null>;
  /** The command answers --help itself (smsc-sim). */
  ownHelp?: boolean;
}

/** Every command, in the order `relais --help` lists them. To add one, add an entry. */
const COMMANDS: Record<string, Command> = {
  serve: { forms: ['[--config FILE]'], summary: 'run the daemon (the default command)', run: (a) => serve(a) },
  migrate: { forms: ['[--config FILE]'], summary: 'apply the database migrations and exit', run: (a) => migrateCmd(a) },
  'smsc-sim': {
    forms: ['[--port N] [options]'], summary: 'run the SMSC simulator (benchmarks, demos)', config: false, ownHelp: true,
    options: ['  (relais smsc-sim --help lists the simulator\'s options)'],
    run: async (a) => { await runSimulatorCli(a); return null; },
  },
  send: {
    forms: ['--to NUMBER[,NUMBER...] --text TEXT [--from SENDER] [--wait SECONDS]'],
    summary: "queue a message in the daemon's database (the running daemon sends it)",
    options: [
      '  --to NUMBERS               recipients, comma-separated (international or national form)',
      '  --text TEXT                the message',
      '  --from SENDER              sender id (default: default_sender_id of the configuration)',
      '  --wait SECONDS             then wait for the final states and print them (exit 0 if all delivered)',
    ],
    run: (a) => send(a),
  },
  binds: {
    forms: ['[--url URL]'], summary: 'print the bind states of the running daemon',
    options: ['  --url URL                  the daemon (default http://127.0.0.1:<http.port>; loopback only)'],
    run: (a) => bindsCommand(daemonAt(a).url),
  },
  status: {
    forms: ['[--url URL] [--json]'], summary: 'per operator and bind: state, TPS achieved, window, queue and the last minute of the running daemon',
    options: ['  --url URL                  the daemon (default http://127.0.0.1:<http.port>; loopback only)', '  --json                     the JSON of GET /api/admin/status'],
    run: (a) => {
      const { url, values } = daemonAt(a, { json: { type: 'boolean' } });
      return statusCommand(url, values.json === true);
    },
  },
  reload: {
    forms: ['[--url URL]'], summary: 'make the running daemon re-read its config file (as SIGHUP does), and print what changed',
    options: ['  --url URL                  the daemon (default http://127.0.0.1:<http.port>; loopback only)'],
    run: (a) => reloadCommand(daemonAt(a).url),
  },
  user: { ...ADMIN_HELP.user, run: (a) => withConfig(a, userCommand) },
  credits: { ...ADMIN_HELP.credits, run: (a) => withConfig(a, creditsCommand) },
  'sender-ids': { ...ADMIN_HELP['sender-ids'], run: (a) => withConfig(a, senderIdsCommand) },
  packages: { ...ADMIN_HELP.packages, run: (a) => withConfig(a, packagesCommand) },
  orders: { ...ADMIN_HELP.orders, run: (a) => withConfig(a, ordersCommand) },
  doctor: { ...ADMIN_HELP.doctor, run: (a) => withConfig(a, doctorCommand) },
  backup: { ...BACKUP_HELP.backup, run: (a) => withConfig(a, backupCommand) },
  restore: { ...BACKUP_HELP.restore, run: (a) => withConfig(a, restoreCommand) },
};

const USAGE = overallUsage(COMMANDS);

async function main(argv: string[]): Promise<number | null> {
  // `relais` alone, or `relais --config FILE`, is `relais serve`.
  const [command, ...rest] = argv.length === 0 || (argv[0]!.startsWith('-') && !wantsHelp(argv.slice(0, 1))) ? ['serve', ...argv] : argv;
  if (command === 'help' || command === '--help' || command === '-h') {
    const topic = rest[0] !== undefined ? COMMANDS[rest[0]] : undefined;
    if (topic && !topic.ownHelp) console.log(commandUsage(rest[0]!, topic));
    else if (topic) return topic.run(['--help']);
    else console.log(USAGE);
    return 0;
  }
  const cmd = Object.hasOwn(COMMANDS, command!) ? COMMANDS[command!] : undefined;
  if (!cmd) {
    console.error(`relais: unknown command "${command}"\n${USAGE}`);
    return 2;
  }
  if (wantsHelp(rest) && !cmd.ownHelp) {
    console.log(commandUsage(command!, cmd));
    return 0;
  }
  try {
    return await cmd.run(rest);
  } catch (err) {
    if (!isUsageError(err)) throw err;
    console.error(`relais ${command}: ${err.message}\n\n${commandUsage(command!, cmd)}`);
    return 2;
  }
}

function configFrom(args: string[], extra: Record<string, { type: 'string' | 'boolean' }> = {}) {
  const { values } = parseArgs({ args, options: { config: { type: 'string', short: 'c' }, ...extra }, allowPositionals: false });
  const path = resolveConfigPath(values.config as string | undefined);
  return { config: loadConfig(path), path, values: values as Record<string, string | boolean | undefined> };
}

/** The running daemon a command asks: --url, else the listener of this config. */
function daemonAt(args: string[], extra: Record<string, { type: 'string' | 'boolean' }> = {}) {
  const { config, values } = configFrom(args, { url: { type: 'string' }, ...extra });
  return { url: (values.url as string | undefined) ?? defaultUrl(config), values };
}

/** Commands whose own flags follow; --config may appear anywhere among them. */
function withConfig(args: string[], run: (config: Config, rest: string[]) => Promise<number>): Promise<number> {
  const i = args.findIndex((a) => a === '--config' || a === '-c' || a.startsWith('--config='));
  const inline = i >= 0 && args[i]!.startsWith('--config=');
  const explicit = i < 0 ? undefined : inline ? args[i]!.slice('--config='.length) : args[i + 1];
  if (i >= 0 && !explicit) throw new UsageError('--config needs a FILE');
  const rest = i >= 0 ? [...args.slice(0, i), ...args.slice(i + (inline ? 1 : 2))] : args;
  return run(loadConfig(resolveConfigPath(explicit)), rest);
}

async function serve(args: string[]): Promise<number> {
  const { config, path } = configFrom(args);
  const log = createLogger(config.log.level);
  log.info({ config: path }, 'configuration loaded');
  const daemon = await startDaemon(config, log, { configPath: path });
  // systemctl reload: re-read the file; a bad one is logged key by key and changes nothing.
  process.on('SIGHUP', () => {
    log.info({ signal: 'SIGHUP', config: path }, 'signal received: reloading the configuration');
    daemon.reload().catch((err: unknown) => {
      if (err instanceof ConfigError) log.error({ config: err.file, problems: err.problems }, 'configuration refused: the running one stays in force');
      else log.error({ err }, 'reload failed');
    });
  });
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
  const store = openDatabase(config.database);
  const applied = await migrate(store);
  await store.close();
  console.log(applied.length ? `applied: ${applied.join(', ')}` : 'database is up to date');
  return 0;
}

/** Writes straight into the queue (the database): the running daemon's dispatcher picks it up. */
async function send(args: string[]): Promise<number> {
  const { config, values } = configFrom(args, { to: { type: 'string' }, text: { type: 'string' }, from: { type: 'string' }, wait: { type: 'string' } });
  if (typeof values.to !== 'string' || typeof values.text !== 'string') throw new UsageError('send needs --to and --text');
  // Checked before anything is queued: a bad --wait must not leave messages behind a usage error.
  const wait = Number(values.wait ?? 0);
  if (!Number.isFinite(wait) || wait < 0) throw new UsageError(`--wait needs a number of seconds, not "${values.wait}"`);
  const to = values.to.split(',');
  const text = values.text;
  return withServices(config, async ({ store, services }) => {
    const result = await services.sending.sendAsOperator({ sender: (values.from as string) ?? config.default_sender_id, recipients: to, text });
    for (const r of result.results) console.log(JSON.stringify(r.ok ? { to: r.e164, id: r.id, operator: r.operator, parts: r.parts, status: 'queued' } : { to: r.input, error: r.error, reason: r.reason }));
    const ids = result.results.flatMap((r) => (r.ok ? [r.id] : []));
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
      rows.forEach(printJson);
      return done && rows.every((r) => r.status === 'delivered') ? 0 : 1;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
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
    if (err instanceof MigrationFailed) {
      console.error(err.message);
      process.exit(EX_DATAERR);
    }
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  },
);

