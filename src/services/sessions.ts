/** Signing up, in and out: what every dialect's auth endpoints do, each in one call. */
import type { SubAccountRecord } from '../store/sub-accounts.js';
import type { Account, AccountService, NewAccount } from './accounts.js';
import type { CredentialService } from './credentials.js';
import type { Actor } from './policy.js';

export interface Session {
  /** The account the session acts in (a sub-account's parent). */
  account: Account;
  /** The sub-account that logged in, if one did. */
  subAccount: SubAccountRecord | null;
  access: string;
  /** Only when asked for (FLOW and Mifumo logins). */
  refresh?: string;
}

export class SessionService {
  constructor(private readonly accounts: AccountService, private readonly credentials: CredentialService) {}

  async register(input: NewAccount): Promise<Session> {
    const account = await this.accounts.register(input);
    return { account, subAccount: null, access: await this.credentials.issueToken({ account }) };
  }

  async login(email: string, password: string, opts: { refresh?: boolean } = {}): Promise<Session> {
    const { account, subAccount } = await this.accounts.authenticate(email, password);
    const holder = { account, subAccountId: subAccount?.id ?? null };
    if (!opts.refresh) return { account, subAccount, access: await this.credentials.issueToken(holder) };
    return { account, subAccount, ...(await this.credentials.issuePair(holder)) };
  }

  /** A new access token for a refresh token. */
  refresh(refreshToken: string): Promise<string> {
    return this.credentials.refresh(refreshToken);
  }

  /** The token the actor used stops working at once (an API key is left alone). */
  logout(actor: Actor): Promise<void> {
    return this.credentials.revokeOwnToken(actor);
  }
}
