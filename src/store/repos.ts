/** Every repository of one store, on the store's connection or bound to one transaction. */
import { AccountsRepo } from './accounts.js';
import { AuditRepo } from './audit.js';
import { BillingRepo } from './billing.js';
import { BlacklistRepo } from './blacklist.js';
import { CampaignsRepo } from './campaigns.js';
import { ClusterRepo } from './cluster.js';
import { ContactsRepo } from './contacts.js';
import { CredentialsRepo } from './credentials.js';
import { CreditsRepo } from './credits.js';
import { HistoryRepo } from './history.js';
import { IdempotencyRepo } from './idempotency.js';
import { MoRepo } from './mo.js';
import { OutboxRepo } from './outbox.js';
import { MessageQueue } from './queue.js';
import type { Backend, Db, Executor } from './repo.js';
import { SegmentsRepo } from './segments.js';
import { SenderIdsRepo } from './sender-ids.js';
import { SharedStateRepo } from './shared.js';
import { SubAccountsRepo } from './sub-accounts.js';
import { TemplatesRepo } from './templates.js';
import { WebhooksRepo } from './webhooks.js';

export class Repos {
  readonly accounts: AccountsRepo;
  readonly audit: AuditRepo;
  readonly billing: BillingRepo;
  readonly blacklist: BlacklistRepo;
  readonly campaigns: CampaignsRepo;
  readonly cluster: ClusterRepo;
  readonly contacts: ContactsRepo;
  readonly credentials: CredentialsRepo;
  readonly credits: CreditsRepo;
  readonly history: HistoryRepo;
  readonly idempotency: IdempotencyRepo;
  readonly mo: MoRepo;
  readonly outbox: OutboxRepo;
  readonly queue: MessageQueue;
  readonly segments: SegmentsRepo;
  readonly senderIds: SenderIdsRepo;
  readonly shared: SharedStateRepo;
  readonly subAccounts: SubAccountsRepo;
  readonly templates: TemplatesRepo;
  readonly webhooks: WebhooksRepo;

  constructor(db: Db, exec: Executor, readonly backend: Backend, root?: Repos) {
    // Bound to a transaction: the root's repositories on `db`, sharing compiled queries and caches.
    const make = <R extends { on(db: Db, exec: Executor): R }>(own: R | undefined, create: () => R): R => (own ? own.on(db, exec) : create());
    this.accounts = make(root?.accounts, () => new AccountsRepo(db, exec, backend));
    this.audit = make(root?.audit, () => new AuditRepo(db, exec));
    this.billing = make(root?.billing, () => new BillingRepo(db, exec));
    this.blacklist = make(root?.blacklist, () => new BlacklistRepo(db, exec, backend));
    this.campaigns = make(root?.campaigns, () => new CampaignsRepo(db, exec));
    this.cluster = make(root?.cluster, () => new ClusterRepo(db, exec));
    this.contacts = make(root?.contacts, () => new ContactsRepo(db, exec));
    this.credentials = make(root?.credentials, () => new CredentialsRepo(db, exec));
    this.credits = make(root?.credits, () => new CreditsRepo(db, exec));
    this.history = make(root?.history, () => new HistoryRepo(db, exec));
    this.idempotency = make(root?.idempotency, () => new IdempotencyRepo(db, exec));
    this.mo = make(root?.mo, () => new MoRepo(db, exec));
    this.outbox = make(root?.outbox, () => new OutboxRepo(db, exec, backend));
    this.queue = make(root?.queue, () => new MessageQueue(db, exec, backend));
    this.segments = make(root?.segments, () => new SegmentsRepo(db, exec));
    this.senderIds = make(root?.senderIds, () => new SenderIdsRepo(db, exec));
    this.shared = make(root?.shared, () => new SharedStateRepo(db, exec));
    this.subAccounts = make(root?.subAccounts, () => new SubAccountsRepo(db, exec));
    this.templates = make(root?.templates, () => new TemplatesRepo(db, exec));
    this.webhooks = make(root?.webhooks, () => new WebhooksRepo(db, exec, backend));
  }
}
