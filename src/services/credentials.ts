/**
 * Credentials: access tokens (JWT, HS256, verified by koa-jwt at the HTTP edge; each carries a
 * jti recorded here, so logout revokes it at once) and API keys (shown once, stored as a SHA-256
 * hash). Either works as `Authorization: Bearer`. This service turns a verified credential into
 * the Actor every other service takes.
 */
import { randomUUID } from 'node:crypto';
import jwt from 'jsonwebtoken';
import type { Account } from '../store/accounts.js';
import type { ApiKeyRow } from '../store/credentials.js';
import type { Store } from '../store/db.js';
import type { TokenKind } from '../store/tables.js';
import type { Changes } from './changes.js';
import { ServiceError, notFound } from './errors.js';
import { accountActor, authorize, subAccountActor, type Actor, type Credential, type Origin } from './policy.js';
import { randomSecret, sha256 } from './secrets.js';

export type { ApiKeyRow };

export const API_KEY_PREFIX = 'rk_';
/**
 * How long a verified credential is trusted without reading it again. Every revocation clears the
 * node's own memory at once; on PostgreSQL another node may have revoked it, so a node trusts it
 * only one second (a revoked token or key is refused everywhere within about a second), still
 * one read per credential per second at most instead of one per request.
 */
const RECENT_MS = { sqlite: 5000, postgres: 1000 } as const;
const RECENT_MAX = 10_000;

/** The claims Relais puts in a token; `typ` is absent from access tokens issued before refresh tokens existed. */
export interface TokenClaims {
  sub: string;
  jti: string;
  typ?: TokenKind;
}

/** Refresh tokens live longer than access tokens: 30 days. */
const REFRESH_TTL_S = 30 * 24 * 3600;

const unauthenticated = () => new ServiceError('unauthenticated', 'unauthenticated');

/** Who a verified credential speaks for. */
interface Verified {
  accountId: number;
  subAccountId: number | null;
  credential: Credential;
}

/** Whom a token or key is issued to: an account, or one of its sub-accounts. */
export interface Holder {
  account: Account;
  subAccountId?: number | null | undefined;
}

export class CredentialService {
  /** Credentials verified in the last few seconds: every revocation clears it. */
  private readonly recent = new Map<string, Verified & { until: number }>();
  private readonly recentMs: number;

  private constructor(
    private readonly store: Store,
    private readonly changes: Changes,
    /** The HS256 key access tokens are signed and verified with. */
    readonly jwtSecret: string,
    private readonly ttlSeconds: number,
  ) {
    this.recentMs = RECENT_MS[store.backend];
  }

  /** The signing secret comes from config, or is generated once and kept in the database. */
  static async create(store: Store, changes: Changes, opts: { secret?: string | undefined; ttlSeconds: number }): Promise<CredentialService> {
    const secret = opts.secret ?? (await store.repos.credentials.setting('jwt_secret')) ?? (await store.repos.credentials.settingOnce('jwt_secret', randomSecret(48)));
    return new CredentialService(store, changes, secret, opts.ttlSeconds);
  }

  /** An access token (each recorded by its jti, so it can be revoked). */
  issueToken(h: Holder): Promise<string> {
    return this.sign(h, 'access', this.ttlSeconds);
  }

  /** An access token and a refresh token (the FLOW and Mifumo logins). */
  async issuePair(h: Holder): Promise<{ access: string; refresh: string }> {
    return { access: await this.issueToken(h), refresh: await this.sign(h, 'refresh', REFRESH_TTL_S) };
  }

  /** A new access token for a valid, unrevoked refresh token; `invalid_token` otherwise. */
  async refresh(refreshToken: string): Promise<string> {
    let claims: Partial<TokenClaims>;
    try {
      claims = jwt.verify(refreshToken, this.jwtSecret, { algorithms: ['HS256'] }) as Partial<TokenClaims>;
    } catch {
      throw new ServiceError('unauthenticated', 'invalid_token');
    }
    if (claims.typ !== 'refresh' || (await this.refused(claims, 'refresh'))) throw new ServiceError('unauthenticated', 'invalid_token');
    const hit = this.recent.get(claims.jti!)!;
    const actor = await this.actorOf(hit, { ip: null, userAgent: null });
    return this.issueToken({ account: actor.account, subAccountId: actor.subAccountId });
  }

  private async sign(h: Holder, kind: TokenKind, ttlSeconds: number): Promise<string> {
    const jti = randomUUID();
    const now = Date.now();
    await this.store.repos.credentials.addToken({ jti, account_id: h.account.id, sub_account_id: h.subAccountId ?? null, kind, created_at: now, expires_at: now + ttlSeconds * 1000 });
    return jwt.sign({ sub: String(h.account.id), jti, ...(kind === 'refresh' ? { typ: kind } : {}) }, this.jwtSecret, { algorithm: 'HS256', expiresIn: ttlSeconds });
  }

  /** Logout: the token the actor used stops working at once. */
  async revokeOwnToken(actor: Actor): Promise<void> {
    if (actor.credential.kind !== 'token') return;
    await this.store.repos.credentials.revokeToken(actor.credential.jti, Date.now());
    this.recent.clear();
  }

  /**
   * koa-jwt's isRevoked: a signature-valid access token is still refused when it is a refresh
   * token, or its jti is unknown, revoked or expired here, or names another account.
   */
  isRevoked(claims: Partial<TokenClaims>): Promise<boolean> {
    return claims.typ === 'refresh' ? Promise.resolve(true) : this.refused(claims, 'access');
  }

  /** Answers are remembered a few seconds; every revocation clears them. */
  private async refused(claims: Partial<TokenClaims>, kind: TokenKind): Promise<boolean> {
    if (typeof claims.jti !== 'string' || typeof claims.sub !== 'string') return true;
    const hit = this.recent.get(claims.jti);
    if (hit && hit.until >= Date.now()) return String(hit.accountId) !== claims.sub;
    const row = await this.store.repos.credentials.token(claims.jti);
    if (!row || row.kind !== kind || row.revoked_at !== null || row.expires_at < Date.now() || String(row.account_id) !== claims.sub) return true;
    this.remember(claims.jti, { accountId: row.account_id, subAccountId: row.sub_account_id, credential: { kind: 'token', jti: claims.jti } });
    return false;
  }

  /** The actor behind a verified, unrevoked access token (koa-jwt and isRevoked ran just before). */
  async actorForToken(claims: TokenClaims, origin: Origin): Promise<Actor> {
    if (await this.refused(claims, 'access')) throw unauthenticated();
    const hit = this.recent.get(claims.jti);
    if (!hit) throw unauthenticated();
    return this.actorOf(hit, origin);
  }

  /** The actor behind an API key; `unauthenticated` for an unknown or revoked key. */
  async actorForApiKey(key: string, origin: Origin): Promise<Actor> {
    let hit = this.recent.get(key);
    if (!hit || hit.until < Date.now()) {
      const row = await this.store.repos.credentials.keyByHash(sha256(key));
      if (!row || row.revoked_at !== null) throw unauthenticated();
      // Minute precision is enough for "last used": no write on every request of a busy integrator.
      const now = Date.now();
      if (row.last_used_at === null || now - row.last_used_at > 60_000) await this.store.repos.credentials.touchKey(row.id, now);
      hit = this.remember(key, { accountId: row.account_id, subAccountId: row.sub_account_id, credential: { kind: 'api_key', id: row.id } });
    }
    return this.actorOf(hit, origin);
  }

  private remember(key: string, v: Verified): Verified & { until: number } {
    if (this.recent.size >= RECENT_MAX) this.recent.clear();
    const entry = { ...v, until: Date.now() + this.recentMs };
    this.recent.set(key, entry);
    return entry;
  }

  /**
   * The account (and sub-account) are read fresh on every request: a suspension, a permission
   * change, a balance or default sender apply at once.
   */
  private async actorOf(v: Verified, origin: Origin): Promise<Actor> {
    const account = await this.store.repos.accounts.get(v.accountId);
    if (!account) throw unauthenticated();
    if (account.status !== 'active') throw new ServiceError('forbidden', 'account_suspended');
    if (v.subAccountId === null) return accountActor(account, v.credential, origin);
    const sub = await this.store.repos.subAccounts.get(v.subAccountId);
    if (!sub || sub.account_id !== account.id) throw unauthenticated();
    if (sub.status !== 'active') throw new ServiceError('forbidden', 'account_suspended');
    return subAccountActor(account, sub, v.credential, origin);
  }

  /** Forget every remembered verification (a suspension, a revocation). */
  forgetVerified(): void {
    this.recent.clear();
  }

  // ---- API keys ----

  listApiKeys(actor: Actor): Promise<ApiKeyRow[]> {
    authorize(actor, 'manage_api_keys');
    return this.store.repos.credentials.keys(actor.account.id);
  }

  async createApiKey(actor: Actor, name: string): Promise<{ key: string; row: ApiKeyRow }> {
    authorize(actor, 'manage_api_keys');
    const key = newKey();
    const row = await this.changes.run(actor, async (c) => {
      const row = await c.tx.credentials.addKey({ account_id: actor.account.id, sub_account_id: actor.subAccountId, name, prefix: key.slice(0, 10), key_hash: sha256(key), created_at: Date.now() });
      await c.audit({ action: 'api_key.created', model: 'ApiKey', modelId: row.id, new: { name: row.name, prefix: row.prefix, key } });
      return row;
    });
    return { key, row };
  }

  async revokeApiKey(actor: Actor, id: number): Promise<ApiKeyRow> {
    authorize(actor, 'manage_api_keys');
    const row = await this.changes.run(actor, async (c) => {
      const row = await c.tx.credentials.revokeKey(actor.account.id, id, Date.now());
      if (!row) throw notFound('api key');
      await c.audit({ action: 'api_key.revoked', model: 'ApiKey', modelId: row.id, old: { name: row.name, prefix: row.prefix } });
      return row;
    });
    this.recent.clear();
    return row;
  }

  /** A new secret for the same key entry: the old one stops working at once. */
  async regenerateApiKey(actor: Actor, id: number): Promise<{ key: string; row: ApiKeyRow }> {
    authorize(actor, 'manage_api_keys');
    const key = newKey();
    const row = await this.changes.run(actor, async (c) => {
      const row = await c.tx.credentials.rekey(actor.account.id, id, sha256(key), key.slice(0, 10));
      if (!row) throw notFound('api key');
      await c.audit({ action: 'api_key.regenerated', model: 'ApiKey', modelId: row.id, new: { name: row.name, prefix: row.prefix, key } });
      return row;
    });
    this.recent.clear();
    return { key, row };
  }
}

const newKey = (): string => `${API_KEY_PREFIX}${randomSecret(32)}`;
