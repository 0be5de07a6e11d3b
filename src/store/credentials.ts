/** Credentials: issued access tokens (by jti, for revocation) and API keys (by hash). */
import { Repo } from './repo.js';
import type { TokenKind } from './tables.js';

export interface ApiKeyRow {
  id: number;
  name: string;
  prefix: string;
  created_at: number;
  last_used_at: number | null;
  revoked_at: number | null;
}

const KEY_COLUMNS = ['id', 'name', 'prefix', 'created_at', 'last_used_at', 'revoked_at'] as const;

export class CredentialsRepo extends Repo {
  async setting(key: string): Promise<string | undefined> {
    return (await this.db.selectFrom('settings').select('value').where('key', '=', key).executeTakeFirst())?.value;
  }

  /** Keeps the first value written for `key`; returns the value in force. */
  async settingOnce(key: string, value: string): Promise<string> {
    await this.db.insertInto('settings').values({ key, value }).onConflict((oc) => oc.doNothing()).execute();
    return (await this.setting(key)) ?? value;
  }

  async addToken(row: { jti: string; account_id: number; sub_account_id: number | null; kind: TokenKind; created_at: number; expires_at: number }): Promise<void> {
    await this.db.insertInto('auth_tokens').values(row).execute();
  }

  token(jti: string) {
    return this.db.selectFrom('auth_tokens').select(['account_id', 'sub_account_id', 'kind', 'revoked_at', 'expires_at']).where('jti', '=', jti).executeTakeFirst();
  }

  async revokeToken(jti: string, at: number): Promise<void> {
    await this.db.updateTable('auth_tokens').set({ revoked_at: at }).where('jti', '=', jti).where('revoked_at', 'is', null).execute();
  }

  keyByHash(hash: string) {
    return this.db.selectFrom('api_keys').select(['id', 'account_id', 'sub_account_id', 'revoked_at', 'last_used_at']).where('key_hash', '=', hash).executeTakeFirst();
  }

  async touchKey(id: number, at: number): Promise<void> {
    await this.db.updateTable('api_keys').set({ last_used_at: at }).where('id', '=', id).execute();
  }

  addKey(row: { account_id: number; sub_account_id: number | null; name: string; prefix: string; key_hash: string; created_at: number }): Promise<ApiKeyRow> {
    return this.db.insertInto('api_keys').values(row).returning(KEY_COLUMNS).executeTakeFirstOrThrow();
  }

  keys(accountId: number): Promise<ApiKeyRow[]> {
    return this.db.selectFrom('api_keys').select(KEY_COLUMNS).where('account_id', '=', accountId).orderBy('id').execute();
  }

  /** Only an active key of this account; undefined otherwise. */
  revokeKey(accountId: number, id: number, at: number): Promise<ApiKeyRow | undefined> {
    return this.db.updateTable('api_keys').set({ revoked_at: at })
      .where('id', '=', id).where('account_id', '=', accountId).where('revoked_at', 'is', null)
      .returning(KEY_COLUMNS).executeTakeFirst();
  }

  rekey(accountId: number, id: number, hash: string, prefix: string): Promise<ApiKeyRow | undefined> {
    return this.db.updateTable('api_keys').set({ key_hash: hash, prefix, last_used_at: null })
      .where('id', '=', id).where('account_id', '=', accountId).where('revoked_at', 'is', null)
      .returning(KEY_COLUMNS).executeTakeFirst();
  }
}
