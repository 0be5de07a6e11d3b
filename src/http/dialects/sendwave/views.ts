/** SendWave's shapes of the neutral rows services return: one view per resource, ISO times. */
import type { Account } from '../../../services/accounts.js';
import type { AuditRow } from '../../../services/audit.js';
import type { BlacklistEntry } from '../../../services/blacklist.js';
import type { ImportResult } from '../../../services/contact-import.js';
import type { ContactRow, GroupRecord } from '../../../services/contacts.js';
import type { ApiKeyRow } from '../../../services/credentials.js';
import type { MessageRow, PartRow } from '../../../services/history.js';
import type { SenderId } from '../../../services/sender-ids.js';
import type { SendSummary } from '../../../services/sending.js';
import type { TemplateRow } from '../../../services/templates.js';
import type { WebhookLogRecord, WebhookRecord } from '../../../services/webhooks.js';
import { iso } from '../../core/route.js';
import { laravel } from './errors.js';

export const userView = (a: Pick<Account, 'id' | 'name' | 'email'>) => ({ id: a.id, name: a.name, email: a.email });

export const accountView = (a: Account) => ({
  ...userView(a), role: a.role, status: a.status, balance: a.balance, default_sender_id: a.default_sender_id, created_at: iso(a.created_at),
});

export const apiKeyView = (k: ApiKeyRow) => ({
  id: k.id, name: k.name, prefix: k.prefix, created_at: iso(k.created_at), last_used_at: iso(k.last_used_at), revoked_at: iso(k.revoked_at), is_active: k.revoked_at === null,
});

export const senderIdView = (r: SenderId) => ({ id: r.id, name: r.name, status: r.status, created_at: iso(r.created_at), decided_at: iso(r.decided_at) });

export const messageView = (m: MessageRow) => ({
  id: m.id, recipient: m.recipient, message: m.body, sender_id: m.sender, status: m.status, operator: m.operator, sms_count: m.parts, encoding: m.encoding,
  cost: m.cost, attempts: m.attempts, error: m.error, error_code: m.error_code, smsc_message_id: m.smsc_id,
  scheduled_at: m.not_before > m.created_at ? iso(m.not_before) : null, created_at: iso(m.created_at), sent_at: iso(m.sent_at),
  delivered_at: m.status === 'delivered' ? iso(m.done_at) : null, done_at: iso(m.done_at),
});

export const partView = (p: PartRow) => ({ part: p.part_no, smsc_message_id: p.raw_smsc_id, state: p.state, sent_at: iso(p.sent_at), receipt_at: iso(p.receipt_at), error: p.receipt_err });

/** The documented answer of /messages/send, plus the per-recipient failures it counts. */
export const sendView = (s: SendSummary) => ({
  message: 'Envoi terminé',
  data: {
    total: s.total, sent: s.accepted, failed: s.failed, sms_count: s.sms_count, total_cost: s.total_cost,
    by_operator: s.by_operator, message_ids: s.message_ids, failures: s.failures, warnings: s.warnings, sender_id: s.sender_id,
    scheduled_at: iso(s.scheduled_at), balance: s.balance,
  },
});

export const contactView = (c: ContactRow) => ({
  id: c.id, uuid: c.uuid, name: c.name, email: c.email, phone: c.phone, group: c.groups[0] ?? null, groups: c.groups, status: c.status,
  custom_fields: JSON.parse(c.custom_fields) as Record<string, string>, tags: JSON.parse(c.tags) as string[],
  opt_in_at: iso(c.opt_in_at), opt_out_at: iso(c.opt_out_at), created_at: iso(c.created_at), updated_at: iso(c.updated_at),
});

export const groupView = (g: GroupRecord & { contacts_count?: number }) => ({
  id: g.id, name: g.name, description: g.description, contacts_count: Number(g.contacts_count ?? 0), created_at: iso(g.created_at),
});

export const importView = (r: ImportResult) => ({
  created: r.created, updated: r.updated, failed: r.failed, errors: r.errors.map((e) => ({ row: e.row, field: e.field, message: laravel.issue(e.field, e.issue) })),
});

export const templateView = (t: TemplateRow) => ({
  id: t.id, name: t.name, content: t.content, category: t.category, is_public: t.is_public === 1, usage_count: t.usage_count, created_at: iso(t.created_at), updated_at: iso(t.updated_at),
});

export const blacklistView = (b: BlacklistEntry) => ({ id: b.id, phone_number: b.phone, reason: b.reason, source: b.source, created_at: iso(b.created_at) });

/** The secret is shown when the caller chose or just received it, never in listings. */
export const webhookView = (w: WebhookRecord, withSecret = false) => ({
  id: w.id, name: w.name, url: w.url, events: JSON.parse(w.events) as string[], retry_limit: w.retry_limit, timeout: w.timeout,
  is_active: w.is_active === 1, last_triggered_at: iso(w.last_triggered_at), created_at: iso(w.created_at), updated_at: iso(w.updated_at),
  ...(withSecret ? { secret: w.secret } : {}),
});

export const webhookLogView = (l: WebhookLogRecord) => ({
  id: l.id, delivery_id: l.delivery_id, event: l.event, url: l.url, attempt: l.attempt, success: l.success === 1,
  status_code: l.status_code, error: l.error, duration_ms: l.duration_ms, created_at: iso(l.created_at),
});

export const auditView = (a: AuditRow) => ({
  id: a.id, user_id: a.account_id, sub_account_id: a.sub_account_id, actor_type: a.actor_type, api_key_id: a.actor_type === 'api_key' ? a.actor_id : null,
  action: a.action, model_type: a.model_type, model_id: a.model_id,
  old_values: a.old_values ? JSON.parse(a.old_values) : null, new_values: a.new_values ? JSON.parse(a.new_values) : null,
  ip_address: a.ip_address, user_agent: a.user_agent, created_at: iso(a.created_at),
});
