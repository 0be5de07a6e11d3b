/**
 * First-come first-served ownership of the one SQLite connection. Free: taken at once. Held: the
 * caller waits its turn. A wait that lasts far longer than any transaction should is almost
 * always a deadlock — code inside a transaction calling the store outside it — so it fails with
 * that explanation instead of hanging the daemon. One watchdog timer serves every waiter (a
 * timer per wait would cost more than most statements).
 */
interface Waiter {
  since: number;
  grant: () => void;
  fail: (err: Error) => void;
}

export class ConnectionLock {
  private held = false;
  private waiters: Waiter[] = [];
  private watchdog: NodeJS.Timeout | null = null;

  constructor(private readonly maxWaitMs = 30_000) {}

  /** Takes the connection if it is free right now. */
  tryAcquire(): boolean {
    if (this.held) return false;
    this.held = true;
    return true;
  }

  acquire(): Promise<void> {
    if (this.tryAcquire()) return Promise.resolve();
    return new Promise<void>((grant, fail) => {
      this.waiters.push({ since: Date.now(), grant, fail });
      this.watchdog ??= setInterval(() => this.expire(), Math.min(1000, this.maxWaitMs)).unref();
    });
  }

  /** Hands the connection to the next waiter, if any (it stays held), else frees it. */
  release(): void {
    const next = this.waiters.shift();
    if (next) next.grant();
    else {
      this.held = false;
      this.stopWatchdog();
    }
  }

  get busy(): boolean {
    return this.held;
  }

  private expire(): void {
    const cutoff = Date.now() - this.maxWaitMs;
    const late = this.waiters.filter((w) => w.since <= cutoff);
    if (!late.length) return;
    this.waiters = this.waiters.filter((w) => w.since > cutoff);
    for (const w of late) w.fail(new Error(`database connection not released within ${this.maxWaitMs} ms: a query outside an open transaction waits for it (use the transaction's repositories)`));
    if (!this.waiters.length) this.stopWatchdog();
  }

  private stopWatchdog(): void {
    if (this.watchdog) clearInterval(this.watchdog);
    this.watchdog = null;
  }
}
