/** Builds the service layer over one store: what the daemon serves and the CLI runs. */
import type { Logger } from 'pino';
import type { Config } from '../config/schema.js';
import { leaseMsOf, nodeIdOf } from '../cluster/node.js';
import type { ReloadReport } from '../ops/reload.js';
import type { GatewayStatus } from '../ops/status.js';
import { RecurringScheduler } from '../scheduler/recurring.js';
import type { Router } from '../routing/router.js';
import type { Store } from '../store/db.js';
import type { Outbox } from '../webhooks/outbox.js';
import { AccountService } from './accounts.js';
import { AuditService } from './audit.js';
import { BillingService } from './billing.js';
import { BlacklistService } from './blacklist.js';
import { AudienceCollector } from './campaigns/audience.js';
import { CampaignRunner } from './campaigns/runner.js';
import { CampaignService } from './campaigns/service.js';
import { Changes } from './changes.js';
import { ContactImportService } from './contact-import.js';
import { ContactService } from './contacts.js';
import { CredentialService } from './credentials.js';
import { CreditService } from './credits.js';
import { DoctorService } from './doctor.js';
import { ServiceError } from './errors.js';
import { GatewayService } from './gateway.js';
import { HistoryService } from './history.js';
import type { Services } from './index.js';
import { MessageService } from './messages.js';
import { Phones } from './phones.js';
import { SegmentService } from './segments.js';
import { SenderIdService } from './sender-ids.js';
import { SendingService } from './sending.js';
import { SessionService } from './sessions.js';
import { loginGuardFor } from './login-guard.js';
import { SettingsService } from './settings.js';
import { SubAccountService } from './sub-accounts.js';
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
  /** The daemon's live reload and status (the CLI's services have neither). */
  reload?: () => Promise<ReloadReport>;
  status?: () => Promise<GatewayStatus>;
  log: Logger;
  /** The campaign runner's and scheduler's clock (tests inject one); real node-cron jobs only with the real one. */
  clock?: () => number;
}

/** What runs in the background beside the services: the daemon starts and stops it. */
export interface BackgroundWork {
  runner: CampaignRunner;
  scheduler: RecurringScheduler;
}

export async function createServices(d: ServiceDeps): Promise<{ services: Services; messages: MessageService; changes: Changes; background: BackgroundWork }> {
  const { config, store } = d;
  const changes = new Changes(store, d.outbox, d.wake);
  const phones = new Phones(config.numbering);
  const accounts = new AccountService(store, changes, config.auth.registration);
  const contacts = new ContactService(store, changes, phones);
  const messages = new MessageService(config, d.router, store.repos.blacklist, (accountId, phones) => contacts.cards(accountId, phones));
  const senderIds = new SenderIdService(store, changes, config.default_sender_id);
  const webhooks = new WebhookService(store, changes, config.webhooks.allow_private_networks);
  const credentials = await CredentialService.create(store, changes, { secret: config.auth.jwt_secret, ttlSeconds: config.auth.token_ttl });
  const runner = new CampaignRunner(store, config.dispatcher.validity * 1000, d.log.child({ part: 'campaigns' }), d.clock, { node: nodeIdOf(config), leaseMs: leaseMsOf(config) });
  let scheduler: RecurringScheduler | null = null;
  const campaigns = new CampaignService(store, changes, senderIds, new AudienceCollector(store, messages), runner, contacts,
    { maxParts: config.dispatcher.max_parts, timezone: config.campaigns.timezone }, (id) => void scheduler?.refresh(id));
  scheduler = new RecurringScheduler(store, campaigns, d.log.child({ part: 'scheduler' }), d.clock, d.clock === undefined);
  const sending = new SendingService(store, changes, messages, senderIds, accounts, webhooks, () => config.operators.map((o) => o.name));
  const services: Services = {
    accounts,
    audit: new AuditService(store),
    billing: new BillingService(store, changes, { currency: config.billing.currency, creditsPerSms: config.billing.credits_per_sms }),
    blacklist: new BlacklistService(store, changes, phones),
    campaigns,
    contacts,
    credentials,
    credits: new CreditService(store, changes),
    doctor: new DoctorService(store),
    gateway: new GatewayService({ binds: d.binds, reload: d.reload ?? notInDaemon, status: d.status ?? notInDaemon }, d.router, changes, messages),
    history: new HistoryService(store, phones),
    imports: new ContactImportService(changes, contacts),
    segments: new SegmentService(store, changes),
    senderIds,
    sessions: new SessionService(store, accounts, credentials, sending, { activation: config.auth.activation, sender: config.default_sender_id }, loginGuardFor(store, {
      perClient: config.auth.login_failures.per_client, perLogin: config.auth.login_failures.per_login, windowMs: config.auth.login_failures.window * 1000,
    })),
    settings: new SettingsService(accounts, credentials, webhooks),
    subAccounts: new SubAccountService(store, changes, accounts, credentials),
    sending,
    templates: new TemplateService(store, changes),
    webhooks,
  };
  return { services, messages, changes, background: { runner, scheduler } };
}

/** What only a running daemon can answer (the CLI builds services without one). */
const notInDaemon = (): Promise<never> => Promise.reject(new ServiceError('unavailable', 'unavailable'));
