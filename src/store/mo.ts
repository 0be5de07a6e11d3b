/** Inbound (MO) messages as received from the SMSCs. */
import type { Statement } from 'better-sqlite3';
import type { Store } from './db.js';

export class MoRepo {
  private readonly insertStmt: Statement;

  constructor(store: Store) {
    this.insertStmt = store.prepare(
      store.db.insertInto('mo_messages').values({ operator: '', bind: '', sender: '', recipient: '', body: '', opt_out: 0, received_at: 0 }),
    );
  }

  insert(mo: { operator: string; bind: string; sender: string; recipient: string; body: string; optOut: boolean; at: number }): number {
    return Number(this.insertStmt.run(mo.operator, mo.bind, mo.sender, mo.recipient, mo.body, mo.optOut ? 1 : 0, mo.at).lastInsertRowid);
  }

}
