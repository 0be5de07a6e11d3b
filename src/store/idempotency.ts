/** Stored results of requests that carried an Idempotency-Key: a retry gets the first result. */
import { Prepared, Repo, type Db, type Executor } from './repo.js';

export interface StoredResult {
  request_hash: string;
  /** The neutral result as JSON: each dialect renders it again in its own shape. */
  response: string;
}

export class IdempotencyRepo extends Repo {
  private readonly getQuery: Prepared<StoredResult>;
  private readonly putQuery: Prepared<unknown>;

  constructor(db: Db, exec: Executor) {
    super(db, exec);
    this.getQuery = new Prepared(db.selectFrom('idempotency_keys').select(['request_hash', 'response']).where('account_id', '=', 0).where('key', '=', ''));
    this.putQuery = new Prepared(db.insertInto('idempotency_keys').values({ account_id: 0, key: '', request_hash: '', status: 200, response: '', created_at: 0 }));
  }

  get(accountId: number, key: string): Promise<StoredResult | undefined> {
    return this.getQuery.first(this.exec, [accountId, key]);
  }

  async put(accountId: number, key: string, result: StoredResult): Promise<void> {
    await this.putQuery.run(this.exec, [accountId, key, result.request_hash, 200, result.response, Date.now()]);
  }
}
