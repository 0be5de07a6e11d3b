/**
 * Admin commands that work on the database directly (the daemon shares it): the CLI
 * equivalents of /api/admin/*, for provisioning scripts and for a locked-out operator. They go
 * through the same services as the API, as the operator (audited with actor type `cli`).
 */
import { parseArgs } from 'node:util';
import type { Config } from '../config/schema.js';
import { createLogger } from '../log.js';
import { Router } from '../routing/router.js';
import type { Services } from '../services/index.js';
import { cliActor } from '../services/policy.js';
import { randomSecret } from '../services/secrets.js';
import { createServices } from '../services/wiring.js';
import type { MessageService } from '../services/messages.js';
import { migrate, openDatabase, type Store } from '../store/db.js';
import { Outbox } from '../webhooks/outbox.js';
import { printJson as print } from './format.js';
import { UsageError, type CommandHelp } from './usage.js';

export interface CliContext {
  store: Store;
  services: Services;
  messages: MessageService;
}

/** Opens the database (migrated), builds the services over it, runs `fn`, closes. */
export async function withServices<T>(config: Config, fn: (c: CliContext) => Promise<T>): Promise<T> {
  const store = openDatabase(config.database);
  try {
    await migrate(store);
    await store.repos.blacklist.load();
    const outbox = new Outbox();
    await outbox.load(store.repos);
    // The daemon's webhook worker delivers what the CLI queues, at its next poll.
    const { services, messages } = await createServices({ config, store, outbox, router: new Router(config.routes, config.default_route), wake: () => undefined, binds: () => [], log: createLogger('warn', process.stderr) });
    return await fn({ store, services, messages });
  } finally {
    await store.close();
  }
}

/** The usage of each admin command (`relais <command> --help`, and after a usage error). */
export const ADMIN_HELP = {
  user: {
    forms: ['create --email E [--name N] [--username U] [--password P] [--admin]', 'list'],
    summary: 'create an account (a generated password is printed once), or list the accounts',
    options: [
      '  --email E                  the login email (create)',
      '  --name N                   display name (default: the email)',
      '  --username U               a login name besides the email',
      '  --password P               the password (default: generated, printed once)',
      '  --admin                    an operator (admin) account instead of a customer',
    ],
  },
  credits: {
    forms: ['--email E --amount N'],
    summary: 'add credits to an account (a negative amount removes them)',
    options: ['  --email E                  the account', '  --amount N                 a non-zero integer, in the smallest currency unit'],
  },
  'sender-ids': {
    forms: ['list [--status pending|approved|rejected]', 'approve --id N', 'reject --id N'],
    summary: 'list the sender id requests, or approve / reject one',
  },
  packages: {
    forms: ['list', 'create --name N --sms N --price P [--bonus N] [--currency C] [--validity-days D]', 'disable --id N', 'enable --id N'],
    summary: 'list, create, disable or enable the SMS packages customers can order',
    options: [
      '  --sms N                    SMS in the package',
      '  --price P                  its price, in the smallest currency unit',
      '  --bonus N                  bonus SMS (default 0)',
      '  --currency C               default: billing.currency of the configuration',
      '  --validity-days D          the credits expire after D days (default: never)',
    ],
  },
  orders: {
    forms: ['list [--status pending|confirmed|rejected]', 'confirm --id N', 'reject --id N'],
    summary: 'list package orders, or confirm (credits the account) / reject one',
  },
  doctor: {
    forms: [''],
    summary: 'check every balance against its ledger (exit 1 if anything differs)',
  },
} satisfies Record<string, CommandHelp>;

/** relais user create --email E [--name N] [--username U] [--password P] [--admin] | relais user list */
export async function userCommand(config: Config, args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  const { values } = parseArgs({ args: rest, options: { email: { type: 'string' }, name: { type: 'string' }, username: { type: 'string' }, password: { type: 'string' }, admin: { type: 'boolean' } } });
  if (sub !== 'list' && sub !== 'create') throw new UsageError(sub ? `unknown subcommand "${sub}"` : 'a subcommand is needed: create or list');
  if (sub === 'create' && !values.email) throw new UsageError('user create needs --email');
  return withServices(config, async ({ services }) => {
    if (sub === 'list') {
      (await services.accounts.list(cliActor(), { page: 1, size: 1_000_000 })).rows.forEach(print);
      return 0;
    }
    const password = values.password ?? randomSecret(15);
    const account = await services.accounts.create({ name: values.name ?? values.email!, email: values.email!, username: values.username, password, role: values.admin ? 'admin' : 'user' });
    print({ ...account, ...(values.password ? {} : { password }) });
    return 0;
  });
}

/** relais credits --email E --amount N */
export async function creditsCommand(config: Config, args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { email: { type: 'string' }, amount: { type: 'string' } } });
  const amount = Number(values.amount);
  if (!values.email || !Number.isInteger(amount) || amount === 0) throw new UsageError('credits needs --email and --amount (a non-zero integer)');
  return withServices(config, async ({ services }) => {
    const account = await services.accounts.byEmail(values.email!);
    const balance = await services.credits.adjust(cliActor(), account.id, amount, 'cli');
    print({ account_id: account.id, amount, balance });
    return 0;
  });
}

/** relais sender-ids list [--status pending] | approve --id N | reject --id N */
export async function senderIdsCommand(config: Config, args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  const { values } = parseArgs({ args: rest, options: { id: { type: 'string' }, status: { type: 'string' } } });
  const decision = sub === 'approve' ? 'approved' : sub === 'reject' ? 'rejected' : null;
  if (sub !== 'list' && !decision) throw new UsageError(sub ? `unknown subcommand "${sub}"` : 'a subcommand is needed: list, approve or reject');
  if (decision && !values.id) throw new UsageError(`sender-ids ${sub} needs --id`);
  return withServices(config, async ({ services }) => {
    if (decision) print(await services.senderIds.decide(cliActor(), Number(values.id), decision));
    else (await services.senderIds.listByStatus(cliActor(), values.status as 'pending' | 'approved' | 'rejected' | undefined)).forEach(print);
    return 0;
  });
}

/** relais packages list | create --name N --sms N --price P [--bonus N] [--currency C] [--validity-days D] | disable --id N | enable --id N */
export async function packagesCommand(config: Config, args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  const { values } = parseArgs({ args: rest, options: { id: { type: 'string' }, name: { type: 'string' }, sms: { type: 'string' }, price: { type: 'string' }, bonus: { type: 'string' }, currency: { type: 'string' }, 'validity-days': { type: 'string' } } });
  if (!['list', 'create', 'disable', 'enable'].includes(sub ?? '')) throw new UsageError(sub ? `unknown subcommand "${sub}"` : 'a subcommand is needed: list, create, disable or enable');
  if (sub === 'create' && !(values.name && values.sms && values.price)) throw new UsageError('packages create needs --name, --sms and --price');
  if ((sub === 'disable' || sub === 'enable') && !values.id) throw new UsageError(`packages ${sub} needs --id`);
  return withServices(config, async ({ services }) => {
    const actor = cliActor();
    if (sub === 'list') (await services.billing.packages(actor)).forEach(print);
    else if (sub === 'create') {
      print(await services.billing.createPackage(actor, {
        name: values.name!, sms_count: Number(values.sms), price: Number(values.price), bonus_sms: Number(values.bonus ?? 0), currency: values.currency ?? config.billing.currency,
        validity_days: values['validity-days'] ? Number(values['validity-days']) : null, is_active: true,
      }));
    } else print(await services.billing.updatePackage(actor, Number(values.id), { is_active: sub === 'enable' }));
    return 0;
  });
}

/** relais orders list [--status pending] | confirm --id N | reject --id N */
export async function ordersCommand(config: Config, args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  const { values } = parseArgs({ args: rest, options: { id: { type: 'string' }, status: { type: 'string' } } });
  const decision = sub === 'confirm' ? 'confirmed' : sub === 'reject' ? 'rejected' : null;
  if (sub !== 'list' && !decision) throw new UsageError(sub ? `unknown subcommand "${sub}"` : 'a subcommand is needed: list, confirm or reject');
  if (decision && !values.id) throw new UsageError(`orders ${sub} needs --id`);
  return withServices(config, async ({ services }) => {
    if (decision) print(await services.billing.decide(cliActor(), Number(values.id), decision));
    else (await services.billing.orders(cliActor(), { status: values.status as 'pending' | 'confirmed' | 'rejected' | undefined })).forEach(print);
    return 0;
  });
}

/** relais doctor: every balance against its ledger; exit 1 when something differs. */
export async function doctorCommand(config: Config, args: string[]): Promise<number> {
  parseArgs({ args, options: {} }); // no options of its own: refuse unknown ones
  return withServices(config, async ({ services }) => {
    const report = await services.doctor.check(cliActor());
    for (const p of report.problems) console.log(`PROBLEM ${p.kind} account ${p.account_id ?? '-'}: ${p.detail}`);
    console.log(`${report.ok ? 'ok' : 'NOT OK'}: ${report.accounts} accounts, ${report.ledger_rows} ledger rows checked, ${report.problems.length} problem(s)`);
    return report.ok ? 0 : 1;
  });
}
