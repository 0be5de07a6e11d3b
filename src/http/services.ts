/** What the HTTP layer may call: services only (never the store directly). */
import type { Config } from '../config/schema.js';
import type { Router } from '../routing/router.js';
import type { AccountService } from '../services/accounts.js';
import type { AuditService } from '../services/audit.js';
import type { BlacklistService } from '../services/blacklist.js';
import type { ContactService } from '../services/contacts.js';
import type { TemplateService } from '../services/templates.js';
import type { BlacklistRepo } from '../store/blacklist.js';
import type { CredentialService } from '../services/credentials.js';
import type { HistoryService } from '../services/history.js';
import type { MessageService } from '../services/messages.js';
import type { SenderIdService } from '../services/sender-ids.js';
import type { SendingService } from '../services/sending.js';
import type { WebhookService } from '../services/webhooks.js';
import type { CreditsRepo } from '../store/credits.js';

export interface HttpServices {
  config: Config;
  accounts: AccountService;
  credentials: CredentialService;
  senderIds: SenderIdService;
  sending: SendingService;
  messages: MessageService;
  history: HistoryService;
  credits: CreditsRepo;
  router: Router;
  webhooks: WebhookService;
  contacts: ContactService;
  templates: TemplateService;
  blacklist: BlacklistRepo;
  blacklistService: BlacklistService;
  audit: AuditService;
  /** Deliver queued webhooks now rather than at the next poll. */
  kickWebhooks: () => void;
  binds: () => unknown[];
}
