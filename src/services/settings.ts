/**
 * An account's integration settings (Mifumo's settings page): its API keys and webhooks in one
 * read, and keys handed out with the secret that signs the account's webhook deliveries — its
 * per-send callbacks and, unless given their own, the webhooks made here — so one secret
 * verifies everything the integrator receives. Each part keeps its own service's rules.
 */
import type { AccountService } from './accounts.js';
import type { ApiKeyRow, CredentialService } from './credentials.js';
import type { Actor } from './policy.js';
import type { WebhookInput, WebhookRecord, WebhookService } from './webhooks.js';

export interface IntegrationSettings {
  apiKeys: ApiKeyRow[];
  webhooks: WebhookRecord[];
}

export interface IssuedKey {
  row: ApiKeyRow;
  /** The key itself: shown once, stored hashed. */
  key: string;
  /** Signs this account's webhook deliveries (X-Signature). */
  signingSecret: string;
}

export class SettingsService {
  constructor(private readonly accounts: AccountService, private readonly credentials: CredentialService, private readonly webhooks: WebhookService) {}

  async read(actor: Actor): Promise<IntegrationSettings> {
    return { apiKeys: await this.credentials.listApiKeys(actor), webhooks: await this.webhooks.list(actor) };
  }

  async createKey(actor: Actor, name: string): Promise<IssuedKey> {
    const { key, row } = await this.credentials.createApiKey(actor, name);
    return { key, row, signingSecret: await this.accounts.ensureWebhookSecret(actor.account.id) };
  }

  /** A webhook signed with the account's secret unless it brings its own. */
  async createWebhook(actor: Actor, input: Omit<WebhookInput, 'secret'> & { secret?: string | undefined }): Promise<WebhookRecord> {
    const secret = input.secret ?? (await this.accounts.ensureWebhookSecret(actor.account.id));
    return this.webhooks.create(actor, { ...input, secret });
  }

  async regenerateKey(actor: Actor, id: number): Promise<IssuedKey> {
    const { key, row } = await this.credentials.regenerateApiKey(actor, id);
    return { key, row, signingSecret: await this.accounts.ensureWebhookSecret(actor.account.id) };
  }
}
