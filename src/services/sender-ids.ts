/** Sender IDs: an account asks, the operator's admin approves; only approved ones can send. */
import type { Store } from '../store/db.js';
import type { SenderId } from '../store/sender-ids.js';
import type { SenderIdStatus } from '../store/tables.js';
import type { Changes } from './changes.js';
import { fieldError, notFound } from './errors.js';
import { authorize, type Actor } from './policy.js';

export type { SenderId };

/** Alphanumeric up to 11 characters (GSM 03.40), or a number up to 15 digits. */
const VALID = /^(?=.*[A-Za-z])[A-Za-z0-9 .\-_&]{1,11}$|^\+?\d{3,15}$/;

export class SenderIdService {
  constructor(private readonly store: Store, private readonly changes: Changes, private readonly globalDefault: string) {}

  async request(actor: Actor, name: string): Promise<SenderId> {
    authorize(actor, 'manage_sender_ids');
    const clean = name.trim();
    if (!VALID.test(clean)) throw fieldError('name', 'sender_name');
    return this.changes.run(actor, async (c) => {
      if (await c.tx.senderIds.byName(actor.account.id, clean)) throw fieldError('name', 'taken');
      const row = await c.tx.senderIds.insert(actor.account.id, clean, Date.now());
      await c.audit({ action: 'sender_id.requested', model: 'SenderId', modelId: row.id, new: { name: row.name, status: row.status } });
      return row;
    });
  }

  list(actor: Actor): Promise<SenderId[]> {
    authorize(actor, 'manage_sender_ids');
    return this.store.repos.senderIds.list(actor.account.id);
  }

  listByStatus(actor: Actor, status?: SenderIdStatus): Promise<SenderId[]> {
    authorize(actor, 'operator.sender_ids');
    return this.store.repos.senderIds.byStatus(status);
  }

  /** Approving an account's first sender ID makes it that account's default; rejecting the default clears it. */
  async decide(actor: Actor, id: number, status: 'approved' | 'rejected'): Promise<SenderId> {
    authorize(actor, 'operator.sender_ids');
    return this.changes.run(actor, async (c) => {
      const row = await c.tx.senderIds.decide(id, status, Date.now());
      if (!row) throw notFound('sender id');
      if (status === 'approved') await c.tx.accounts.adoptDefaultSender(row.account_id, row.name);
      else await c.tx.accounts.dropDefaultSender(row.account_id, row.name);
      await c.audit({ action: `sender_id.${status}`, model: 'SenderId', modelId: row.id, new: { name: row.name, account_id: row.account_id, status } });
      return row;
    });
  }

  /**
   * The sender a send will use: the one asked for (must be approved for this account), else the
   * account's default, else the operator's global default.
   */
  async resolve(accountId: number, requested: string | undefined, accountDefault: string | null): Promise<string> {
    if (requested === undefined || requested.trim() === '') return accountDefault ?? this.globalDefault;
    const name = requested.trim();
    const row = await this.store.repos.senderIds.byName(accountId, name);
    if (!row) throw fieldError('sender_id', 'sender_not_approved', { name });
    if (row.status !== 'approved') throw fieldError('sender_id', 'sender_pending', { name, status: row.status });
    return name;
  }
}
