/**
 * Password guessing, slowed per account as well as per IP. Failed logins are counted per login
 * name from one client, and per login name from everywhere, over a short window: a client that
 * fails too often on one login is refused for the rest of the window (it locks out only itself),
 * and a login attacked from many clients is refused to everyone for at most one window — long
 * enough to make guessing hopeless, short enough that nobody can keep a victim out for long. Unknown
 * logins are counted the same way, so the answer says nothing about which logins exist.
 */
import { ServiceError } from './errors.js';

export interface LoginGuardConfig {
  /** Failures of one login from one client within a window. */
  perClient: number;
  /** Failures of one login from all clients within a window. */
  perLogin: number;
  windowMs: number;
}

interface Window {
  start: number;
  failures: number;
}

/** Entries kept at most; the oldest windows go first beyond it. */
const MAX_ENTRIES = 100_000;

export class LoginGuard {
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
    const name = login.trim().toLowerCase();
    return [[`${name}\u0000${client}`, this.cfg.perClient], [name, this.cfg.perLogin]];
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
