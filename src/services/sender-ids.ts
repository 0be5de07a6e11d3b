/** Sender IDs: an account asks, the operator's admin approves; only approved ones can send. */
import type { Store } from '../store/db.js';
import type { SenderIdStatus } from '../store/tables.js';
import { notFound, validationError } from './errors.js';

export interface SenderId {
  id: number;
  account_id: number;
  name: string;
  status: SenderIdStatus;
  created_at: number;
  decided_at: number | null;
}

/** Alphanumeric up to 11 characters (GSM 03.40), or a number up to 15 digits. */
const VALID = /^(?=.*[A-Za-z])[A-Za-z0-9 .\-_&]{1,11}$|^\+?\d{3,15}$/;

export class SenderIdService {
  constructor(private readonly store: Store, private readonly globalDefault: string) {}

  async request(accountId: number, name: string): Promise<SenderId> {
    const clean = name.trim();
    if (!VALID.test(clean)) throw validationError({ name: ['The name must be 1 to 11 letters or digits, or a number of up to 15 digits.'] });
    const exists = await this.store.db.selectFrom('sender_ids').select('id').where('account_id', '=', accountId).where('name', '=', clean).executeTakeFirst();
    if (exists) throw validationError({ name: ['The name has already been taken.'] });
    return this.store.db.insertInto('sender_ids').values({ account_id: accountId, name: clean, status: 'pending', created_at: Date.now() }).returningAll().executeTakeFirstOrThrow();
  }

  async list(accountId: number): Promise<SenderId[]> {
    return this.store.db.selectFrom('sender_ids').selectAll().where('account_id', '=', accountId).orderBy('id').execute();
  }

  async listByStatus(status?: SenderIdStatus): Promise<SenderId[]> {
    let q = this.store.db.selectFrom('sender_ids').selectAll().orderBy('id');
    if (status) q = q.where('status', '=', status);
    return q.execute();
  }

  /** Approving an account's first sender ID makes it that account's default. */
  async decide(id: number, status: 'approved' | 'rejected'): Promise<SenderId> {
    const { db } = this.store;
    return this.store.transaction(() => {
      const [row] = this.store.all(db.updateTable('sender_ids').set({ status, decided_at: Date.now() }).where('id', '=', id).returningAll());
      if (!row) throw notFound('sender id');
      if (status === 'approved') {
        this.store.run(db.updateTable('accounts').set({ default_sender_id: row.name }).where('id', '=', row.account_id).where('default_sender_id', 'is', null));
      } else {
        this.store.run(db.updateTable('accounts').set({ default_sender_id: null }).where('id', '=', row.account_id).where('default_sender_id', '=', row.name));
      }
      return row;
    });
  }

  /**
   * The sender a send will use: the one asked for (must be approved for this account), else the
   * account's default, else the operator's global default.
   */
  async resolve(accountId: number, requested: string | undefined, accountDefault: string | null): Promise<string> {
    if (requested === undefined || requested === '') return accountDefault ?? this.globalDefault;
    const row = await this.store.db.selectFrom('sender_ids').select('status')
      .where('account_id', '=', accountId).where('name', '=', requested.trim()).executeTakeFirst();
    if (row?.status !== 'approved') {
      throw validationError({ sender_id: [row ? `The sender id "${requested}" is ${row.status}, not approved.` : `The sender id "${requested}" is not approved for this account.`] });
    }
    return requested.trim();
  }
}

