/** Inbound (MO) messages as received from the SMSCs. */
import { Prepared, Repo, type Db, type Executor } from './repo.js';

export class MoRepo extends Repo {
  private readonly insertQuery: Prepared<{ id: number }>;

  constructor(db: Db, exec: Executor) {
    super(db, exec);
    this.insertQuery = new Prepared(db.insertInto('mo_messages').values({ operator: '', bind: '', sender: '', recipient: '', body: '', opt_out: 0, received_at: 0 }).returning('id'));
  }

  async insert(mo: { operator: string; bind: string; sender: string; recipient: string; body: string; optOut: boolean; at: number }): Promise<number> {
    const row = await this.insertQuery.first(this.exec, [mo.operator, mo.bind, mo.sender, mo.recipient, mo.body, mo.optOut ? 1 : 0, mo.at]);
    return row!.id;
  }
}
