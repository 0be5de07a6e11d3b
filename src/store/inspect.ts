/**
 * A read-only look at a running daemon's SQLite file from another process (the benchmark): in
 * WAL mode this connection reads the daemon's commits while the daemon keeps writing.
 */
import SQLite from 'better-sqlite3';

export interface SentRow {
  bind: string | null;
  created_at: number;
  sent_at: number;
  done_at: number | null;
  status: string;
}

export class DatabaseInspector {
  private readonly db: SQLite.Database;
  private readonly countStmt: SQLite.Statement;

  constructor(path: string) {
    this.db = new SQLite(path, { readonly: true, fileMustExist: true });
    this.db.pragma('busy_timeout = 5000');
    this.countStmt = this.db.prepare('SELECT status, COUNT(*) AS n FROM messages GROUP BY status');
  }

  /** Messages by state, now. */
  statusCounts(): Record<string, number> {
    return Object.fromEntries((this.countStmt.all() as { status: string; n: number }[]).map((r) => [r.status, r.n]));
  }

  /** Every message that reached the SMSC, with its times. */
  sentRows(): SentRow[] {
    return this.db.prepare('SELECT bind, created_at, sent_at, done_at, status FROM messages WHERE sent_at IS NOT NULL').all() as SentRow[];
  }

  contactCounts(): { contacts: number; groups: number; memberships: number } {
    const count = (table: string) => Number((this.db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n);
    return { contacts: count('contacts'), groups: count('contact_groups'), memberships: count('contact_group_members') };
  }

  close(): void {
    this.db.close();
  }
}
