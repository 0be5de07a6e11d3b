/** Mifumo SMS's shapes (../shared/seeds/002–004), from the services' records. */
import type { Account } from '../../../services/accounts.js';
import type { Balance, OrderRecord, PackageRecord, Stats } from '../../../services/billing.js';
import type { CampaignDetail } from '../../../services/campaigns/model.js';
import type { ContactRow } from '../../../services/contacts.js';
import type { ApiKeyRow } from '../../../services/credentials.js';
import type { MessageRow } from '../../../services/history.js';
import { messageUuid } from '../../../services/message-uuid.js';
import type { SegmentFilter, SegmentRecord } from '../../../services/segments.js';
import type { SendSummary } from '../../../services/sending.js';
import type { SenderId } from '../../../services/sender-ids.js';
import type { TemplateRow } from '../../../services/templates.js';
import type { WebhookRecord } from '../../../services/webhooks.js';
import type { MessageState } from '../../../store/tables.js';
import { iso } from '../../core/route.js';

/** An amount of credits (the currency's smallest unit) in the currency's major unit, as Mifumo shows costs. */
export function major(amount: number, currency: string): number {
  let digits = 2;
  try {
    digits = new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
  } catch {
    // not an ISO 4217 code: two decimals
  }
  return amount / 10 ** digits;
}

const profileOf = (a: Account): Record<string, string> => {
  try {
    return JSON.parse(a.profile) as Record<string, string>;
  } catch {
    return {};
  }
};

/** The documented user object. */
export function mifumoUser(a: Account) {
  const p = profileOf(a);
  const [first = '', ...rest] = a.name.trim().split(/\s+/);
  const firstName = p.first_name ?? first;
  const lastName = p.last_name ?? rest.join(' ');
  const active = a.status === 'active';
  return {
    id: a.id, email: a.email, first_name: firstName, last_name: lastName, full_name: a.name, short_name: firstName,
    phone_number: a.phone_number, timezone: a.timezone ?? 'UTC', is_verified: active, is_active: active, phone_verified: active && a.phone_number !== null,
    email_notifications: true, sms_notifications: false, created_at: iso(a.created_at), updated_at: iso(a.created_at),
  };
}

/** Mifumo's message statuses. */
const STATUS: Record<MessageState, string> = {
  queued: 'queued', submitting: 'sending', paused: 'paused', sent: 'sent', delivered: 'delivered',
  undelivered: 'failed', expired: 'failed', rejected: 'failed', failed: 'failed', cancelled: 'cancelled', unconfirmed: 'unconfirmed',
};

/** One send's answer on the integration API: the first message's id and every message's. */
export function sentView(r: SendSummary, currency: string) {
  const uuids = r.message_ids.map((id) => messageUuid(id, r.created_at));
  return {
    message_id: uuids[0] ?? null, status: r.scheduled_at ? 'scheduled' : 'queued', total: r.total, sent: r.accepted, failed: r.failed, sms_count: r.sms_count,
    cost: major(r.total_cost, currency), currency, sender_id: r.sender_id, scheduled_at: iso(r.scheduled_at),
    messages: uuids.map((uuid) => ({ message_id: uuid, status: 'queued' })),
    failures: r.failures.map((f) => ({ recipient: f.recipient, error: f.error, reason: f.reason })),
  };
}

/** One message, by its uuid: status checks and delivery reports. */
export function messageView(m: MessageRow, currency: string) {
  return {
    message_id: messageUuid(m.id, m.created_at), recipient: m.recipient, sender_id: m.sender, message: m.body, status: STATUS[m.status],
    parts: m.parts, cost: major(m.cost, currency), currency, smsc_message_id: m.smsc_id, error: m.error,
    created_at: iso(m.created_at), sent_at: iso(m.sent_at), delivered_at: m.status === 'delivered' ? iso(m.done_at) : null, updated_at: iso(m.done_at ?? m.sent_at ?? m.created_at),
  };
}

/** A contact as both Mifumo documents name its fields (`phone_e164` and `phone_number`). */
export function contactView(c: ContactRow) {
  return {
    id: c.uuid, name: c.name, phone_e164: c.phone, phone_number: c.phone, email: c.email,
    attributes: JSON.parse(c.custom_fields) as Record<string, string>, tags: JSON.parse(c.tags) as string[], is_active: c.status === 'active',
    opt_in_at: iso(c.opt_in_at), opt_out_at: iso(c.opt_out_at), created_at: iso(c.created_at), updated_at: iso(c.updated_at),
  };
}

export function segmentView(s: SegmentRecord, size?: number) {
  const filter = JSON.parse(s.filter) as SegmentFilter;
  return {
    id: s.id, name: s.name, description: s.description, filters: filter, tags: filter.tags ?? [], attributes: filter.attributes ?? {},
    ...(size === undefined ? {} : { contact_count: size }), created_at: iso(s.created_at), updated_at: iso(s.updated_at),
  };
}

export function campaignView(d: CampaignDetail) {
  const c = d.campaign;
  const k = d.counters;
  return {
    id: c.id, name: c.name, message: c.message, sender_id: c.sender_id, status: c.status, scheduled_at: iso(c.scheduled_at),
    recipients: d.audience.numbers ?? [], segment_ids: d.audience.segment_ids ?? [], contact_ids: d.audience.contact_uuids ?? [],
    total_recipients: k.total, sent_count: k.sent, delivered_count: k.delivered, failed_count: k.failed, queued_count: k.queued, delivery_rate: k.delivery_rate,
    last_error: c.last_error, created_at: iso(c.created_at), updated_at: iso(c.updated_at),
  };
}

export const balanceView = (b: Balance) => ({ credits: b.credits, currency: b.currency, last_updated: iso(b.last_movement_at) });

export function statsView(s: Stats) {
  return {
    total_sent: s.sent, total_delivered: s.delivered, total_failed: s.failed, total_pending: s.pending, delivery_rate: s.delivery_rate,
    total_cost: major(s.cost, s.currency), currency: s.currency, period: { start: iso(s.from), end: iso(s.to) },
  };
}

/** Package ids are strings, as the reference shows them (a uuid there); purchase/ takes either form. */
export const packageView = (p: PackageRecord) => ({
  id: String(p.id), name: p.name, sms_count: p.sms_count, price: major(p.price, p.currency), currency: p.currency, bonus_sms: p.bonus_sms,
  validity_days: p.validity_days, is_active: p.is_active === 1,
});

export const orderView = (o: OrderRecord) => ({
  id: o.uuid, package_id: String(o.package_id), status: o.status, amount: major(o.price, o.currency), currency: o.currency, credits: o.credits,
  payment_method: o.payment_method, provider: o.provider, created_at: iso(o.created_at), completed_at: iso(o.decided_at),
});

export const apiKeyView = (k: ApiKeyRow) => ({
  id: k.id, name: k.name, key_prefix: k.prefix, is_active: k.revoked_at === null, created_at: iso(k.created_at), last_used_at: iso(k.last_used_at), revoked_at: iso(k.revoked_at),
});

export const webhookView = (w: WebhookRecord) => ({
  id: w.id, name: w.name, url: w.url, events: JSON.parse(w.events) as string[], is_active: w.is_active === 1,
  last_triggered_at: iso(w.last_triggered_at), created_at: iso(w.created_at),
});

export const senderIdView = (s: SenderId) => ({ id: s.id, sender_id: s.name, status: s.status, created_at: iso(s.created_at), decided_at: iso(s.decided_at) });

export const templateView = (t: TemplateRow) => ({ id: t.id, name: t.name, content: t.content, category: t.category, created_at: iso(t.created_at), updated_at: iso(t.updated_at) });
