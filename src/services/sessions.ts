/** Signing up, in and out: what every dialect's auth endpoints do, each in one call. */
import type { Account, AccountService, NewAccount } from './accounts.js';
import type { CredentialService } from './credentials.js';
import type { Actor } from './policy.js';

export interface Session {
  account: Account;
  access: string;
  /** Only when asked for (FLOW and Mifumo logins). */
  refresh?: string;
}

export class SessionService {
  constructor(private readonly accounts: AccountService, private readonly credentials: CredentialService) {}

  async register(input: NewAccount): Promise<Session> {
    const account = await this.accounts.register(input);
    return { account, access: await this.credentials.issueToken(account) };
  }

  async login(email: string, password: string, opts: { refresh?: boolean } = {}): Promise<Session> {
    const account = await this.accounts.authenticate(email, password);
    if (!opts.refresh) return { account, access: await this.credentials.issueToken(account) };
    return { account, ...(await this.credentials.issuePair(account)) };
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
