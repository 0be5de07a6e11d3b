/** The services every dialect, the CLI and the console call: the whole boundary, and nothing of the store. */
import type { AccountService } from './accounts.js';
import type { AuditService } from './audit.js';
import type { BillingService } from './billing.js';
import type { BlacklistService } from './blacklist.js';
import type { CampaignService } from './campaigns/service.js';
import type { ContactImportService } from './contact-import.js';
import type { ContactService } from './contacts.js';
import type { CredentialService } from './credentials.js';
import type { DoctorService } from './doctor.js';
import type { CreditService } from './credits.js';
import type { GatewayService } from './gateway.js';
import type { HistoryService } from './history.js';
import type { SegmentService } from './segments.js';
import type { SenderIdService } from './sender-ids.js';
import type { SessionService } from './sessions.js';
import type { SettingsService } from './settings.js';
import type { SubAccountService } from './sub-accounts.js';
import type { SendingService } from './sending.js';
import type { TemplateService } from './templates.js';
import type { WebhookService } from './webhooks.js';

export interface Services {
  accounts: AccountService;
  audit: AuditService;
  billing: BillingService;
  blacklist: BlacklistService;
  campaigns: CampaignService;
  contacts: ContactService;
  credentials: CredentialService;
  credits: CreditService;
  doctor: DoctorService;
  gateway: GatewayService;
  history: HistoryService;
  imports: ContactImportService;
  segments: SegmentService;
  senderIds: SenderIdService;
  sending: SendingService;
  sessions: SessionService;
  settings: SettingsService;
  subAccounts: SubAccountService;
  templates: TemplateService;
  webhooks: WebhookService;
}

export type { Page, PageRequest } from '../store/repo.js';
