/** Row types of the tables, as Kysely sees them. Times are epoch milliseconds (UTC). */
import type { Generated } from 'kysely';

/** `paused`: a campaign's message held while its campaign is paused; `cancelled`: its campaign was cancelled before it was sent. */
/** `unconfirmed`: accepted by the SMSC, but the receipt it was asked for never came (dispatcher.receipt_wait). */
export const MESSAGE_STATES = ['queued', 'submitting', 'sent', 'delivered', 'undelivered', 'expired', 'rejected', 'failed', 'paused', 'cancelled', 'unconfirmed'] as const;
export type MessageState = (typeof MESSAGE_STATES)[number];
export const FINAL_STATES: readonly MessageState[] = ['delivered', 'undelivered', 'expired', 'rejected', 'failed', 'cancelled', 'unconfirmed'];

export interface MessagesTable {
  id: Generated<number>;
  account_id: number | null;
  sender: string;
  recipient: string;
  body: string;
  encoding: 'gsm7' | 'ucs2';
  parts: number;
  operator: string;
  failover: string | null;
  status: MessageState;
  attempts: Generated<number>;
  not_before: number;
  expires_at: number;
  /** Bit i set: part i+1 was accepted by the SMSC (so a retry resends only the others). */
  acked_mask: Generated<number>;
  final_parts: Generated<number>;
  delivered_parts: Generated<number>;
  /** The first non-delivered final state a part reported: the message's state once all parts are final. */
  failed_state: MessageState | null;
  bind: string | null;
  smsc_id: string | null;
  error_code: number | null;
  error: string | null;
  cost: Generated<number>;
  created_at: number;
  submitted_at: number | null;
  sent_at: number | null;
  done_at: number | null;
  refunded: Generated<number>;
  api_key_id: number | null;
  /** Per-send callback: this message's events also go there. */
  webhook_url: string | null;
  /** The node whose claim this is, while `submitting` (and after: who sent it last). */
  claimed_by: string | null;
  /** Epoch ms the claim holds until unless renewed: past it, another node may re-queue the message. */
  lease_until: number | null;
  campaign_id: number | null;
  variant_id: number | null;
  /** 0: one-off sends, claimed first; 1: campaign traffic. */
  lane: Generated<number>;
  /** Position within its campaign run: campaigns interleave by it. */
  seq: Generated<number>;
  /** The sub-account that sent it, if one did. */
  sub_account_id: number | null;
}

export interface MessagePartsTable {
  message_id: number;
  part_no: number;
  operator: string;
  /** Normalized matching key for receipts. */
  smsc_id: string;
  raw_smsc_id: string | null;
  state: string;
  sent_at: number;
  receipt_at: number | null;
  receipt_err: string | null;
  /** The receipt's short_message as received (latin1, at most 255 characters); null when it had none. */
  receipt_text: string | null;
}

export interface PendingReceiptsTable {
  operator: string;
  smsc_id: string;
  stat: string;
  err: string | null;
  text: string | null;
  received_at: number;
}

export interface MoMessagesTable {
  id: Generated<number>;
  operator: string;
  bind: string;
  sender: string;
  recipient: string;
  body: string;
  opt_out: Generated<number>;
  received_at: number;
}

export interface BlacklistTable {
  id: Generated<number>;
  account_id: Generated<number>;
  phone: string;
  reason: string | null;
  source: 'api' | 'mo' | 'admin';
  created_at: number;
}

export type Role = 'admin' | 'user';
/** `pending`: registered, its phone not verified yet (Mifumo's SMS-code activation). */
export type AccountStatus = 'active' | 'suspended' | 'pending';

export interface AccountsTable {
  id: Generated<number>;
  name: string;
  email: string;
  password_hash: string;
  role: Role;
  status: AccountStatus;
  balance: Generated<number>;
  default_sender_id: string | null;
  /** Signs per-send webhook_url callbacks; generated on first use. */
  webhook_secret: string | null;
  /** IANA time zone for schedules; null: the gateway's default. */
  timezone: Generated<string | null>;
  /** A login name besides the email (FLOW), unique. */
  username: Generated<string | null>;
  phone_number: Generated<string | null>;
  /** JSON: what registration forms add (first_name, last_name, business_name, country…). */
  profile: Generated<string>;
  created_at: number;
  updated_at: number;
}

export type TokenKind = 'access' | 'refresh';

export interface AuthTokensTable {
  jti: string;
  account_id: number;
  sub_account_id: number | null;
  kind: Generated<TokenKind>;
  created_at: number;
  expires_at: number;
  revoked_at: number | null;
}

export interface ApiKeysTable {
  id: Generated<number>;
  account_id: number;
  /** Created by (and acting as) this sub-account, or null for the account itself. */
  sub_account_id: number | null;
  name: string;
  /** The first characters of the key, shown in listings so a user can tell keys apart. */
  prefix: string;
  key_hash: string;
  created_at: number;
  last_used_at: number | null;
  revoked_at: number | null;
}

export type SenderIdStatus = 'pending' | 'approved' | 'rejected';

export interface SenderIdsTable {
  id: Generated<number>;
  account_id: number;
  name: string;
  status: SenderIdStatus;
  created_at: number;
  decided_at: number | null;
}

export const CREDIT_REASONS = ['topup', 'send', 'refund', 'adjustment', 'reservation', 'release', 'package', 'expiry'] as const;
export type CreditReason = (typeof CREDIT_REASONS)[number];

export interface CreditTransactionsTable {
  id: Generated<number>;
  account_id: number;
  amount: number;
  balance_after: number;
  reason: CreditReason;
  /**
   * What the movement is about, in a form `relais doctor` checks: `send:<first>-<last>` (message
   * ids), `message:<id>`, `campaign:<id>:run:<run>`, `order:<id>`, `lot:<id>`, or free text.
   */
  reference: string | null;
  sub_account_id: number | null;
  created_at: number;
}

export interface IdempotencyKeysTable {
  account_id: number;
  key: string;
  request_hash: string;
  status: number;
  response: string;
  created_at: number;
}

export interface SettingsTable {
  key: string;
  value: string;
}

export interface WebhooksTable {
  id: Generated<number>;
  account_id: number;
  name: string;
  url: string;
  /** JSON array of event names. */
  events: string;
  secret: string;
  retry_limit: number;
  timeout: number;
  is_active: number;
  last_triggered_at: number | null;
  created_at: number;
  updated_at: number;
}

export type DeliveryStatus = 'pending' | 'success' | 'failed';

export interface WebhookDeliveriesTable {
  id: Generated<number>;
  delivery_id: string;
  account_id: number;
  webhook_id: number | null;
  url: string;
  event: string;
  body: string;
  status: DeliveryStatus;
  attempts: Generated<number>;
  max_attempts: number;
  timeout_ms: number;
  next_attempt_at: number;
  created_at: number;
  done_at: number | null;
  /** The message a message.* event is about. */
  message_id: number | null;
  /** The node whose claim this is while an attempt is under way (after: who attempted it last). */
  claimed_by: string | null;
  /** Epoch ms the claim holds until unless renewed; null or past: any node may claim it. */
  lease_until: number | null;
}

export interface WebhookLogsTable {
  id: Generated<number>;
  delivery_id: string;
  webhook_id: number | null;
  account_id: number;
  event: string;
  url: string;
  attempt: number;
  success: number;
  status_code: number | null;
  error: string | null;
  duration_ms: number;
  created_at: number;
}

export type AuditActorType = 'account' | 'api_key' | 'sub_account' | 'cli' | 'system';

export interface AuditLogsTable {
  id: Generated<number>;
  account_id: number;
  /** Who acted: the account (token), one of its API keys, a sub-account, or the operator's CLI / the daemon itself. */
  actor_type: AuditActorType;
  actor_id: number | null;
  sub_account_id: number | null;
  action: string;
  model_type: string;
  model_id: number | null;
  old_values: string | null;
  new_values: string | null;
  ip_address: string | null;
  user_agent: string | null;
  created_at: number;
}

export type ContactStatus = 'active' | 'inactive' | 'unsubscribed';

export interface ContactsTable {
  id: Generated<number>;
  uuid: string;
  account_id: number;
  name: string;
  email: string | null;
  /** E.164 */
  phone: string;
  status: ContactStatus;
  /** JSON object of string values. */
  custom_fields: string;
  /** JSON array of strings. */
  tags: string;
  opt_in_at: number | null;
  opt_out_at: number | null;
  created_at: number;
  updated_at: number;
}

export interface ContactGroupsTable {
  id: Generated<number>;
  account_id: number;
  name: string;
  description: string | null;
  created_at: number;
}

export interface ContactGroupMembersTable {
  group_id: number;
  contact_id: number;
  added_at: number;
}

export const TEMPLATE_CATEGORIES = ['marketing', 'notifications', 'alerts', 'reminders', 'confirmations', 'promotions', 'other'] as const;
export type TemplateCategory = (typeof TEMPLATE_CATEGORIES)[number];

export interface TemplatesTable {
  id: Generated<number>;
  account_id: number;
  name: string;
  content: string;
  category: TemplateCategory;
  is_public: number;
  usage_count: Generated<number>;
  created_at: number;
  updated_at: number;
}

export const CAMPAIGN_STATES = ['draft', 'scheduled', 'running', 'paused', 'completed', 'failed', 'cancelled'] as const;
export type CampaignState = (typeof CAMPAIGN_STATES)[number];

export interface CampaignsTable {
  id: Generated<number>;
  account_id: number;
  name: string;
  message: string;
  template_id: number | null;
  sender_id: string | null;
  /** JSON `Audience`. */
  audience: string;
  status: CampaignState;
  scheduled_at: number | null;
  /** JSON `Schedule`, or null. */
  schedule: string | null;
  last_error: string | null;
  created_at: number;
  updated_at: number;
}

export interface CampaignVariantsTable {
  id: Generated<number>;
  campaign_id: number;
  name: string;
  message: string;
  percentage: number;
}

export type RunPhase = 'collecting' | 'expanding' | 'done' | 'failed';

export interface CampaignRunsTable {
  id: Generated<number>;
  campaign_id: number;
  slot: number | null;
  phase: RunPhase;
  /** The sender ID resolved when the run started. */
  sender: string;
  sub_account_id: number | null;
  not_before: number | null;
  total: Generated<number>;
  removed: Generated<number>;
  duplicates: Generated<number>;
  reserved: Generated<number>;
  expanded: Generated<number>;
  started_at: number;
  finished_at: number | null;
  /** The node collecting or expanding the run (after: the last one that did). */
  claimed_by: string | null;
  /** Epoch ms that node's hold lasts unless renewed; null or past: another node may take the run over. */
  lease_until: number | null;
}

export interface CampaignRecipientsTable {
  run_id: number;
  phone: string;
  pos: number;
  variant_id: number | null;
  body: string;
  encoding: 'gsm7' | 'ucs2';
  parts: number;
  operator: string;
  failover: string | null;
  cost: number;
}

export interface SegmentsTable {
  id: Generated<number>;
  account_id: number;
  name: string;
  description: string | null;
  /** JSON `SegmentFilter`. */
  filter: string;
  created_at: number;
  updated_at: number;
}

export const SUB_ACCOUNT_ROLES = ['admin', 'manager', 'sender', 'viewer'] as const;
export type SubAccountRole = (typeof SUB_ACCOUNT_ROLES)[number];

export interface SubAccountsTable {
  id: Generated<number>;
  account_id: number;
  name: string;
  email: string;
  password_hash: string;
  role: SubAccountRole;
  /** JSON array of permission names. */
  permissions: string;
  status: AccountStatus;
  credit_limit: number | null;
  credits_used: Generated<number>;
  created_at: number;
  updated_at: number;
}

export interface SmsPackagesTable {
  id: Generated<number>;
  name: string;
  sms_count: number;
  bonus_sms: number;
  price: number;
  currency: string;
  validity_days: number | null;
  is_active: number;
  created_at: number;
  updated_at: number;
}

export type OrderStatus = 'pending' | 'confirmed' | 'rejected';

export interface PackageOrdersTable {
  id: Generated<number>;
  uuid: string;
  account_id: number;
  package_id: number;
  status: OrderStatus;
  payment_method: string | null;
  provider: string | null;
  price: number;
  currency: string;
  credits: number;
  created_at: number;
  decided_at: number | null;
  decided_by: string | null;
}

export interface CreditLotsTable {
  id: Generated<number>;
  account_id: number;
  order_id: number;
  credits: number;
  remaining: number;
  expires_at: number;
  created_at: number;
}

export interface VerificationCodesTable {
  account_id: number;
  code_hash: string;
  attempts: Generated<number>;
  expires_at: number;
}

/** One bind, held by one node at a time (see src/cluster/). */
export interface BindLeasesTable {
  bind: string;
  operator: string;
  node: string;
  expires_at: number;
  /** 1 while the holder's session is bound. */
  bound: number;
}

export interface ClusterNodesTable {
  node: string;
  started_at: number;
  seen_at: number;
  version: string;
}

/** Requests counted per key and fixed window, shared by the nodes of one PostgreSQL (migration 013). */
export interface RateCountersTable {
  key: string;
  window_start: number;
  n: number;
  /** When the row stops mattering (the window after it has ended too). */
  expires_at: number;
}

/** Failed logins per (hashed) login, or login and client, since the window's first failure. */
export interface LoginFailuresTable {
  key: string;
  started_at: number;
  failures: number;
}

/** A counter per cached topic ('blacklist', 'webhooks'), raised in the transaction of each change. */
export interface SharedVersionsTable {
  topic: string;
  version: number;
}

/** What each blacklist version changed: nodes apply it to their in-memory index. */
export interface BlacklistChangesTable {
  version: number;
  account_id: number;
  phone: string;
  /** 1: added, 0: removed. */
  added: number;
  at: number;
}

export interface Database {
  messages: MessagesTable;
  bind_leases: BindLeasesTable;
  cluster_nodes: ClusterNodesTable;
  message_parts: MessagePartsTable;
  pending_receipts: PendingReceiptsTable;
  mo_messages: MoMessagesTable;
  blacklist: BlacklistTable;
  accounts: AccountsTable;
  auth_tokens: AuthTokensTable;
  api_keys: ApiKeysTable;
  sender_ids: SenderIdsTable;
  credit_transactions: CreditTransactionsTable;
  idempotency_keys: IdempotencyKeysTable;
  settings: SettingsTable;
  webhooks: WebhooksTable;
  webhook_deliveries: WebhookDeliveriesTable;
  webhook_logs: WebhookLogsTable;
  audit_logs: AuditLogsTable;
  contacts: ContactsTable;
  contact_groups: ContactGroupsTable;
  contact_group_members: ContactGroupMembersTable;
  templates: TemplatesTable;
  campaigns: CampaignsTable;
  campaign_variants: CampaignVariantsTable;
  campaign_runs: CampaignRunsTable;
  campaign_recipients: CampaignRecipientsTable;
  segments: SegmentsTable;
  sub_accounts: SubAccountsTable;
  sms_packages: SmsPackagesTable;
  package_orders: PackageOrdersTable;
  credit_lots: CreditLotsTable;
  verification_codes: VerificationCodesTable;
  rate_counters: RateCountersTable;
  login_failures: LoginFailuresTable;
  shared_versions: SharedVersionsTable;
  blacklist_changes: BlacklistChangesTable;
}
