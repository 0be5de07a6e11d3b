/** Builds the service layer over one store: what the daemon serves and the CLI runs. */
import type { Config } from '../config/schema.js';
import type { Router } from '../routing/router.js';
import type { Store } from '../store/db.js';
import type { Outbox } from '../webhooks/outbox.js';
import { AccountService } from './accounts.js';
import { AuditService } from './audit.js';
import { BlacklistService } from './blacklist.js';
import { Changes } from './changes.js';
import { ContactImportService } from './contact-import.js';
import { ContactService } from './contacts.js';
import { CredentialService } from './credentials.js';
import { CreditService } from './credits.js';
import { GatewayService } from './gateway.js';
import { HistoryService } from './history.js';
import type { Services } from './index.js';
import { MessageService } from './messages.js';
import { Phones } from './phones.js';
import { SenderIdService } from './sender-ids.js';
import { SendingService } from './sending.js';
import { SessionService } from './sessions.js';
import { TemplateService } from './templates.js';
import { WebhookService } from './webhooks.js';

export interface ServiceDeps {
  config: Config;
  store: Store;
  outbox: Outbox;
  router: Router;
  /** Wakes the webhook worker after a commit queued deliveries (a no-op outside the daemon). */
  wake: () => void;
  /** Bind states, for the operator's view. */
  binds: () => unknown[];
}

export async function createServices(d: ServiceDeps): Promise<{ services: Services; messages: MessageService; changes: Changes }> {
  const { config, store } = d;
  const changes = new Changes(store, d.outbox, d.wake);
  const phones = new Phones(config.numbering);
  const accounts = new AccountService(store, changes, config.auth.registration);
  const contacts = new ContactService(store, changes, phones);
  const messages = new MessageService(config, d.router, store.repos.blacklist, (accountId, phones) => contacts.cards(accountId, phones));
  const senderIds = new SenderIdService(store, changes, config.default_sender_id);
  const webhooks = new WebhookService(store, changes, config.webhooks.allow_private_networks);
  const credentials = await CredentialService.create(store, changes, { secret: config.auth.jwt_secret, ttlSeconds: config.auth.token_ttl });
  const services: Services = {
    accounts,
    audit: new AuditService(store),
    blacklist: new BlacklistService(store, changes, phones),
    contacts,
    credentials,
    credits: new CreditService(store, changes),
    gateway: new GatewayService({ binds: d.binds }, d.router, config.default_route),
    history: new HistoryService(store),
    imports: new ContactImportService(changes, contacts),
    senderIds,
    sessions: new SessionService(accounts, credentials),
    sending: new SendingService(store, changes, messages, senderIds, accounts, webhooks, config.operators.map((o) => o.name)),
    templates: new TemplateService(store, changes),
    webhooks,
  };
  return { services, messages, changes };
}
