/**
 * Signing up, in and out: what every dialect's auth endpoints do, each in one call. Where the
 * operator asks for it (`auth.activation: sms_code`), a new account is pending until the code
 * Relais sends to its phone, through its own binds, comes back.
 */
import { randomInt } from 'node:crypto';
import type { SubAccountRecord } from '../store/sub-accounts.js';
import type { Store } from '../store/db.js';
import type { Account, AccountService, NewAccount } from './accounts.js';
import type { CredentialService } from './credentials.js';
import { ServiceError, fieldError } from './errors.js';
import type { FailedLogins } from './login-guard.js';
import type { Actor } from './policy.js';
import { sha256 } from './secrets.js';
import type { SendingService } from './sending.js';

export interface Session {
  /** The account the session acts in (a sub-account's parent). */
  account: Account;
  /** The sub-account that logged in, if one did. */
  subAccount: SubAccountRecord | null;
  access: string;
  /** Only when asked for (FLOW and Mifumo logins). */
  refresh?: string;
}

export interface Registration {
  account: Account;
  /** Tokens when the account is active at once; null when its phone must be verified first. */
  tokens: { access: string; refresh: string } | null;
  smsSent: boolean;
}

export interface ActivationConfig {
  activation: 'immediate' | 'sms_code';
  /** Sender of the verification SMS. */
  sender: string;
}

const CODE_TTL_MS = 15 * 60_000;
const MAX_ATTEMPTS = 5;

export class SessionService {
  constructor(
    private readonly store: Store,
    private readonly accounts: AccountService,
    private readonly credentials: CredentialService,
    private readonly sending: SendingService,
    private readonly cfg: ActivationConfig,
    private readonly guard: FailedLogins,
  ) {}

  /** Registration that answers with a token at once: only where accounts are active at once (no phone to verify). */
  async register(input: NewAccount): Promise<Session> {
    if (this.cfg.activation === 'sms_code') throw new ServiceError('forbidden', 'registration_needs_phone');
    const account = await this.accounts.register(input);
    return { account, subAccount: null, access: await this.credentials.issueToken({ account }) };
  }

  /** Registration under the activation policy: tokens at once, or a code sent to the phone. */
  async registerWithActivation(input: NewAccount): Promise<Registration> {
    const bySms = this.cfg.activation === 'sms_code';
    if (bySms && !input.phone_number) throw fieldError('phone_number', 'required');
    const account = await this.accounts.register({ ...input, pending: bySms });
    if (!bySms) return { account, tokens: await this.credentials.issuePair({ account }), smsSent: false };
    return { account, tokens: null, smsSent: await this.sendCode(account) };
  }

  /** A new code for a pending account (the previous one stops working). */
  async sendCode(account: Account): Promise<boolean> {
    const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
    await this.store.transaction((tx) => tx.accounts.setVerification(account.id, sha256(`${account.id}:${code}`), Date.now() + CODE_TTL_MS));
    const sent = await this.sending.sendAsOperator({ sender: this.cfg.sender, recipients: [account.phone_number ?? ''], text: `Your verification code is ${code}` });
    return sent.accepted === 1;
  }

  /** The code sent to the account's phone: the account becomes active and gets its tokens. */
  async verifyPhone(login: { email?: string | undefined; phone_number?: string | undefined }, code: string): Promise<Session> {
    const repo = this.store.repos.accounts;
    const account = login.email ? await repo.byEmail(login.email.trim().toLowerCase()) : login.phone_number ? await repo.byPhone(login.phone_number) : undefined;
    const pending = account && account.status === 'pending' ? await repo.verification(account.id) : undefined;
    if (!account || !pending || pending.expires_at < Date.now() || pending.attempts >= MAX_ATTEMPTS) throw new ServiceError('unauthenticated', 'verification_failed');
    if (pending.code_hash !== sha256(`${account.id}:${code.trim()}`)) {
      await this.store.transaction((tx) => tx.accounts.countAttempt(account.id));
      throw new ServiceError('unauthenticated', 'verification_failed');
    }
    const active = await this.accounts.activate(account.id);
    const pair = await this.credentials.issuePair({ account: active });
    return { account: active, subAccount: null, ...pair };
  }

  /** `client` is who asks (an IP): failed logins are limited per login and client (login-guard.ts). */
  async login(email: string, password: string, client: string, opts: { refresh?: boolean } = {}): Promise<Session> {
    await this.guard.check(email, client);
    const { account, subAccount } = await this.accounts.authenticate(email, password).catch(async (err: unknown) => {
      if (err instanceof ServiceError && err.code === 'invalid_credentials') await this.guard.failed(email, client);
      throw err;
    });
    await this.guard.succeeded(email, client);
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
