/**
 * Group commit: work submitted in the same event-loop turn (concurrent HTTP sends) runs in ONE
 * transaction, so the commit cost is paid once per turn instead of once per request.
 * Each unit must throw a ServiceError only before it writes anything (the credit check, the
 * idempotency check): such a unit fails alone. Any other error aborts the whole group, and every
 * unit in it is rejected — nothing of it was committed.
 */
import type { Store } from '../store/db.js';
import type { Repos } from '../store/repos.js';
import { ServiceError } from './errors.js';

interface Unit {
  fn: (tx: Repos) => Promise<unknown>;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

export class GroupCommit {
  private pending: Unit[] = [];
  private scheduled = false;
  /**
   * One group at a time: what arrives meanwhile waits and forms the next group. SQLite has one
   * writer anyway; on PostgreSQL, overlapping groups of one node would debit the same balance rows
   * at once and fail each other with serialization conflicts (retried, but under load a retry
   * storm, and each retry longer than a wait).
   */
  private running = false;

  constructor(private readonly store: Store) {}

  run<T>(fn: (tx: Repos) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ fn, resolve: resolve as (v: unknown) => void, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.running || !this.pending.length) return;
    this.scheduled = true;
    setImmediate(() => void this.flush());
  }

  private async flush(): Promise<void> {
    const units = this.pending;
    this.pending = [];
    this.scheduled = false;
    this.running = true;
    try {
      await this.commit(units);
    } finally {
      this.running = false;
      this.schedule();
    }
  }

  private async commit(units: Unit[]): Promise<void> {
    const outcomes: { unit: Unit; ok: boolean; value: unknown }[] = [];
    try {
      await this.store.transaction(async (tx) => {
        // PostgreSQL runs the transaction again after a conflict (another node's concurrent send
        // with the same Idempotency-Key): only the attempt that commits answers.
        outcomes.length = 0;
        for (const unit of units) {
          try {
            outcomes.push({ unit, ok: true, value: await unit.fn(tx) });
          } catch (err) {
            if (!(err instanceof ServiceError)) throw err;
            outcomes.push({ unit, ok: false, value: err });
          }
        }
      });
    } catch (err) {
      for (const unit of units) unit.reject(err);
      return;
    }
    // Answers only after the commit: a unit's success is durable when its caller hears of it.
    for (const { unit, ok, value } of outcomes) (ok ? unit.resolve : unit.reject)(value);
  }
}
