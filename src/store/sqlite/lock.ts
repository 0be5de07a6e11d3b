/**
 * First-come first-served ownership of the one SQLite connection. Free: taken at once. Held: the
 * caller waits its turn. A wait that lasts far longer than any transaction should is almost
 * always a deadlock — code inside a transaction calling the store outside it — so it fails with
 * that explanation instead of hanging the daemon.
 */
export class ConnectionLock {
  private held = false;
  private readonly waiters: { grant: () => void; fail: (err: Error) => void }[] = [];

  constructor(private readonly maxWaitMs = 30_000) {}

  acquire(): Promise<void> {
    if (!this.held) {
      this.held = true;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const waiter = {
        grant: () => {
          clearTimeout(timer);
          resolve();
        },
        fail: reject,
      };
      const timer = setTimeout(() => {
        const i = this.waiters.indexOf(waiter);
        if (i >= 0) this.waiters.splice(i, 1);
        waiter.fail(new Error(`database connection not released within ${this.maxWaitMs} ms: a query outside an open transaction waits for it (use the transaction's repositories)`));
      }, this.maxWaitMs);
      this.waiters.push(waiter);
    });
  }

  /** Hands the connection to the next waiter, if any (it stays held), else frees it. */
  release(): void {
    const next = this.waiters.shift();
    if (next) next.grant();
    else this.held = false;
  }

  get busy(): boolean {
    return this.held;
  }
}
