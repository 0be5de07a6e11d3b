/**
 * Password guessing, slowed per account as well as per IP. Failed logins are counted per login
 * name from one client, and per login name from everywhere, over a short window: a client that
 * fails too often on one login is refused for the rest of the window (it locks out only itself),
 * and a login attacked from many clients is refused to everyone for at most one window — long
 * enough to make guessing hopeless, short enough that nobody can keep a victim out for long. Unknown
 * logins are counted the same way, so the answer says nothing about which logins exist.
 */
import type { Store } from '../store/db.js';
import type { SharedStateRepo } from '../store/shared.js';
import { ServiceError } from './errors.js';
import { sha256 } from './secrets.js';

export interface LoginGuardConfig {
  /** Failures of one login from one client within a window. */
  perClient: number;
  /** Failures of one login from all clients within a window. */
  perLogin: number;
  windowMs: number;
}

/** What the login paths ask: in memory on SQLite (LoginGuard), shared by every node on PostgreSQL (SharedLoginGuard). */
export interface FailedLogins {
  /** Refuses (429) a login that failed too often lately, from this client or from everywhere. */
  check(login: string, client: string): void | Promise<void>;
  failed(login: string, client: string): void | Promise<void>;
  /** A right password clears this client's failures on the login (not everyone's). */
  succeeded(login: string, client: string): void | Promise<void>;
}

export function loginGuardFor(store: Pick<Store, 'backend' | 'repos'>, cfg: LoginGuardConfig): FailedLogins {
  return store.backend === 'postgres' ? new SharedLoginGuard(store.repos.shared, cfg) : new LoginGuard(cfg);
}

interface Window {
  start: number;
  failures: number;
}

/** Entries kept at most; the oldest windows go first beyond it. */
const MAX_ENTRIES = 100_000;

export class LoginGuard implements FailedLogins {
  private readonly windows = new Map<string, Window>();

  constructor(private readonly cfg: LoginGuardConfig, private readonly now: () => number = Date.now) {}

  /** Refuses (429) a login that failed too often lately, from this client or from everywhere. */
  check(login: string, client: string): void {
    for (const [key, limit] of this.keys(login, client)) {
      const w = this.current(key);
      if (w && w.failures >= limit) {
        throw new ServiceError('rate_limited', 'rate_limited', {}, { retry_after: Math.max(1, Math.ceil((w.start + this.cfg.windowMs - this.now()) / 1000)) });
      }
    }
  }

  failed(login: string, client: string): void {
    const t = this.now();
    for (const [key] of this.keys(login, client)) {
      const w = this.current(key) ?? { start: t, failures: 0 };
      w.failures += 1;
      this.windows.delete(key); // re-inserted last: the map stays in order of last failure
      this.windows.set(key, w);
    }
    while (this.windows.size > MAX_ENTRIES) this.windows.delete(this.windows.keys().next().value!);
  }

  /** A right password clears this client's failures on the login (not everyone's). */
  succeeded(login: string, client: string): void {
    this.windows.delete(this.keys(login, client)[0]![0]);
  }

  private keys(login: string, client: string): [string, number][] {
    return loginKeys(login, client, this.cfg);
  }

  private current(key: string): Window | undefined {
    const w = this.windows.get(key);
    if (w && this.now() - w.start >= this.cfg.windowMs) {
      this.windows.delete(key);
      return undefined;
    }
    return w;
  }
}

function loginKeys(login: string, client: string, cfg: LoginGuardConfig): [string, number][] {
  const name = login.trim().toLowerCase();
  return [[`${name}\u0000${client}`, cfg.perClient], [name, cfg.perLogin]];
}

/** Old failure windows are deleted by each node about this often. */
const PRUNE_MS = 60_000;

/**
 * The same guard on PostgreSQL, counted in the database: a client failing on node A and then on
 * node B is refused after `perClient` failures in all, not per node. The keys are stored hashed
 * (no login names or addresses in the table).
 */
export class SharedLoginGuard implements FailedLogins {
  private nextPrune = 0;

  constructor(private readonly repo: SharedStateRepo, private readonly cfg: LoginGuardConfig, private readonly now: () => number = Date.now) {}

  async check(login: string, client: string): Promise<void> {
    const t = this.now();
    const keys = this.keys(login, client);
    const rows = await this.repo.failures(keys.map(([k]) => k), t - this.cfg.windowMs);
    for (const [key, limit] of keys) {
      const w = rows.find((r) => r.key === key);
      if (w && w.failures >= limit) {
        throw new ServiceError('rate_limited', 'rate_limited', {}, { retry_after: Math.max(1, Math.ceil((w.started_at + this.cfg.windowMs - t) / 1000)) });
      }
    }
    if (t >= this.nextPrune) {
      this.nextPrune = t + PRUNE_MS;
      this.repo.pruneFailures(t - this.cfg.windowMs).catch(() => {});
    }
  }

  async failed(login: string, client: string): Promise<void> {
    const t = this.now();
    for (const [key] of this.keys(login, client)) await this.repo.fail(key, t, this.cfg.windowMs);
  }

  async succeeded(login: string, client: string): Promise<void> {
    await this.repo.clearFailures(this.keys(login, client)[0]![0]);
  }

  private keys(login: string, client: string): [string, number][] {
    return loginKeys(login, client, this.cfg).map(([k, limit]) => [sha256(`login:${k}`), limit]);
  }
}
