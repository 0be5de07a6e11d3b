/** Stored answers to requests that carried an Idempotency-Key: a retry gets the first answer. */
import type { Statement } from 'better-sqlite3';
import type { Store } from './db.js';

export interface StoredAnswer {
  request_hash: string;
  status: number;
  response: string;
}

export class IdempotencyRepo {
  private readonly getStmt: Statement;
  private readonly putStmt: Statement;

  constructor(store: Store) {
    this.getStmt = store.prepare(store.db.selectFrom('idempotency_keys').select(['request_hash', 'status', 'response']).where('account_id', '=', 0).where('key', '=', ''));
    this.putStmt = store.prepare(store.db.insertInto('idempotency_keys').values({ account_id: 0, key: '', request_hash: '', status: 0, response: '', created_at: 0 }));
  }

  get(accountId: number, key: string): StoredAnswer | undefined {
    return this.getStmt.get(accountId, key) as StoredAnswer | undefined;
  }

  put(accountId: number, key: string, answer: StoredAnswer): void {
    this.putStmt.run(accountId, key, answer.request_hash, answer.status, answer.response, Date.now());
  }
}
