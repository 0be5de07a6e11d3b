/**
 * Admin commands that work on the database directly (the daemon shares it): the CLI
 * equivalents of /api/admin/*, for provisioning scripts and for a locked-out operator.
 */
import { parseArgs } from 'node:util';
import type { Config } from '../config/schema.js';
import { AccountService } from '../services/accounts.js';
import { ServiceError } from '../services/errors.js';
import { randomSecret } from '../services/secrets.js';
import { SenderIdService } from '../services/sender-ids.js';
import { CreditsRepo } from '../store/credits.js';
import { migrate, openStore, type Store } from '../store/db.js';

async function withStore<T>(config: Config, fn: (store: Store) => Promise<T>): Promise<T> {
  const store = openStore(config.database.path);
  try {
    await migrate(store);
    return await fn(store);
  } finally {
    await store.close();
  }
}

const print = (o: unknown) => console.log(JSON.stringify(o));

/** relais user create --email E [--name N] [--password P] [--admin] | relais user list */
export async function userCommand(config: Config, args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  const { values } = parseArgs({ args: rest, options: { email: { type: 'string' }, name: { type: 'string' }, password: { type: 'string' }, admin: { type: 'boolean' } } });
  return withStore(config, async (store) => {
    const accounts = new AccountService(store);
    if (sub === 'list') {
      const { rows } = await accounts.list({ limit: 10_000, offset: 0 });
      rows.forEach(print);
      return 0;
    }
    if (sub !== 'create' || !values.email) {
      console.error('usage: relais user create --email E [--name N] [--password P] [--admin] | relais user list');
      return 2;
    }
    const password = values.password ?? randomSecret(15);
    const account = await accounts.create({ name: values.name ?? values.email, email: values.email, password, role: values.admin ? 'admin' : 'user' });
    print({ ...account, ...(values.password ? {} : { password }) });
    return 0;
  });
}

/** relais credits --email E --amount N */
export async function creditsCommand(config: Config, args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { email: { type: 'string' }, amount: { type: 'string' } } });
  const amount = Number(values.amount);
  if (!values.email || !Number.isInteger(amount) || amount === 0) {
    console.error('usage: relais credits --email E --amount N (a non-zero integer, smallest currency unit)');
    return 2;
  }
  return withStore(config, async (store) => {
    const row = await store.db.selectFrom('accounts').select('id').where('email', '=', values.email!.toLowerCase()).executeTakeFirst();
    if (!row) throw new ServiceError('not_found', `no account with email ${values.email}`);
    const balance = new CreditsRepo(store).credit(row.id, amount, amount > 0 ? 'topup' : 'adjustment', 'cli');
    print({ account_id: row.id, amount, balance });
    return 0;
  });
}

/** relais sender-ids list [--status pending] | approve --id N | reject --id N */
export async function senderIdsCommand(config: Config, args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  const { values } = parseArgs({ args: rest, options: { id: { type: 'string' }, status: { type: 'string' } } });
  return withStore(config, async (store) => {
    const service = new SenderIdService(store, config.default_sender_id);
    if (sub === 'list') {
      const status = values.status as 'pending' | 'approved' | 'rejected' | undefined;
      (await service.listByStatus(status)).forEach(print);
      return 0;
    }
    if ((sub === 'approve' || sub === 'reject') && values.id) {
      print(await service.decide(Number(values.id), sub === 'approve' ? 'approved' : 'rejected'));
      return 0;
    }
    console.error('usage: relais sender-ids list [--status pending|approved|rejected] | approve --id N | reject --id N');
    return 2;
  });
}
