/**
 * Credentials: access tokens (JWT, HS256, revocable: each carries a jti recorded in the database)
 * and API keys (shown once, stored as a SHA-256 hash). Either works as `Authorization: Bearer`.
 */
import { randomUUID } from 'node:crypto';
import jwt from 'jsonwebtoken';
import type { Store } from '../store/db.js';
import type { Account, AccountService } from './accounts.js';
import { ServiceError, notFound } from './errors.js';
import { randomSecret, sha256 } from './secrets.js';

export type Credential = { kind: 'token'; jti: string } | { kind: 'api_key'; id: number };

export interface Principal {
  account: Account;
  credential: Credential;
}

const API_KEY_PREFIX = 'rk_';
const RECENT_MS = 5000;
const RECENT_MAX = 10_000;
const unauthenticated = () => new ServiceError('unauthenticated', 'Unauthenticated.');

export interface ApiKeyView {
  id: number;
  name: string;
  prefix: string;
  created_at: number;
  last_used_at: number | null;
  revoked_at: number | null;
}

export class CredentialService {
  private readonly recent = new Map<string, { accountId: number; credential: Credential; until: number }>();

  private constructor(
    private readonly store: Store,
    private readonly accounts: AccountService,
    private readonly secret: string,
    private readonly ttlSeconds: number,
  ) {}

  /** The signing secret comes from config, or is generated once and kept in the database. */
  static async create(store: Store, accounts: AccountService, opts: { secret?: string; ttlSeconds: number }): Promise<CredentialService> {
    let secret = opts.secret;
    if (!secret) {
      const row = await store.db.selectFrom('settings').select('value').where('key', '=', 'jwt_secret').executeTakeFirst();
      secret = row?.value;
      if (!secret) {
        secret = randomSecret(48);
        await store.db.insertInto('settings').values({ key: 'jwt_secret', value: secret }).onConflict((oc) => oc.doNothing()).execute();
      }
    }
    return new CredentialService(store, accounts, secret, opts.ttlSeconds);
  }

  async issueToken(account: Account): Promise<string> {
    const jti = randomUUID();
    const now = Date.now();
    await this.store.db.insertInto('auth_tokens').values({ jti, account_id: account.id, created_at: now, expires_at: now + this.ttlSeconds * 1000 }).execute();
    return jwt.sign({ sub: String(account.id), jti }, this.secret, { algorithm: 'HS256', expiresIn: this.ttlSeconds });
  }

  async revokeToken(jti: string): Promise<void> {
    await this.store.db.updateTable('auth_tokens').set({ revoked_at: Date.now() }).where('jti', '=', jti).execute();
    this.recent.clear();
  }

  /**
   * Who is calling, from the bearer credential; throws `unauthenticated` for anything else.
   * A verified credential is remembered for a few seconds (a JWT check and two look-ups per
   * request were a fifth of a one-SMS request's cost); every revocation goes through this
   * process and clears the memory, so "revoked" still means "refused at once". The account
   * itself is read fresh each time (suspension, balance, default sender).
   */
  async resolve(bearer: string): Promise<Principal> {
    const now = Date.now();
    let credential = this.recent.get(bearer);
    if (!credential || credential.until < now) {
      const fresh = bearer.startsWith(API_KEY_PREFIX) ? await this.resolveApiKey(bearer) : await this.resolveToken(bearer);
      if (this.recent.size >= RECENT_MAX) this.recent.clear();
      credential = { ...fresh, until: now + RECENT_MS };
      this.recent.set(bearer, credential);
    }
    const account = await this.accounts.get(credential.accountId);
    if (!account) throw unauthenticated();
    if (account.status !== 'active') throw new ServiceError('forbidden', 'This account is suspended.');
    return { account, credential: credential.credential };
  }

  private async resolveToken(token: string): Promise<{ accountId: number; credential: Credential }> {
    let claims: jwt.JwtPayload;
    try {
      claims = jwt.verify(token, this.secret, { algorithms: ['HS256'] }) as jwt.JwtPayload;
    } catch {
      throw unauthenticated();
    }
    if (typeof claims.jti !== 'string') throw unauthenticated();
    const row = await this.store.db.selectFrom('auth_tokens').select(['account_id', 'revoked_at', 'expires_at']).where('jti', '=', claims.jti).executeTakeFirst();
    if (!row || row.revoked_at !== null || row.expires_at < Date.now() || String(row.account_id) !== claims.sub) throw unauthenticated();
    return { accountId: row.account_id, credential: { kind: 'token', jti: claims.jti } };
  }

  private async resolveApiKey(key: string): Promise<{ accountId: number; credential: Credential }> {
    const row = await this.store.db.selectFrom('api_keys').select(['id', 'account_id', 'revoked_at', 'last_used_at']).where('key_hash', '=', sha256(key)).executeTakeFirst();
    if (!row || row.revoked_at !== null) throw unauthenticated();
    // Minute precision is enough for "last used": no write on every request of a busy integrator.
    const now = Date.now();
    if (row.last_used_at === null || now - row.last_used_at > 60_000) {
      await this.store.db.updateTable('api_keys').set({ last_used_at: now }).where('id', '=', row.id).execute();
    }
    return { accountId: row.account_id, credential: { kind: 'api_key', id: row.id } };
  }

  // ---- API keys ----

  async createApiKey(accountId: number, name: string): Promise<{ key: string; view: ApiKeyView }> {
    const key = `${API_KEY_PREFIX}${randomSecret(32)}`;
    const view = await this.store.db
      .insertInto('api_keys')
      .values({ account_id: accountId, name, prefix: key.slice(0, 10), key_hash: sha256(key), created_at: Date.now() })
      .returning(['id', 'name', 'prefix', 'created_at', 'last_used_at', 'revoked_at'])
      .executeTakeFirstOrThrow();
    return { key, view };
  }

  async listApiKeys(accountId: number): Promise<ApiKeyView[]> {
    return this.store.db.selectFrom('api_keys').select(['id', 'name', 'prefix', 'created_at', 'last_used_at', 'revoked_at']).where('account_id', '=', accountId).orderBy('id').execute();
  }

  async revokeApiKey(accountId: number, id: number): Promise<ApiKeyView> {
    const row = await this.store.db.updateTable('api_keys').set({ revoked_at: Date.now() })
      .where('id', '=', id).where('account_id', '=', accountId).where('revoked_at', 'is', null)
      .returning(['id', 'name', 'prefix', 'created_at', 'last_used_at', 'revoked_at']).executeTakeFirst();
    if (!row) throw notFound('api key');
    this.recent.clear();
    return row;
  }

  /** A new secret for the same key entry: the old one stops working at once. */
  async regenerateApiKey(accountId: number, id: number): Promise<{ key: string; view: ApiKeyView }> {
    const key = `${API_KEY_PREFIX}${randomSecret(32)}`;
    const view = await this.store.db.updateTable('api_keys').set({ key_hash: sha256(key), prefix: key.slice(0, 10), last_used_at: null })
      .where('id', '=', id).where('account_id', '=', accountId).where('revoked_at', 'is', null)
      .returning(['id', 'name', 'prefix', 'created_at', 'last_used_at', 'revoked_at']).executeTakeFirst();
    if (!view) throw notFound('api key');
    this.recent.clear();
    return { key, view };
  }
}
