/**
 * Mifumo's full reference (seed 003) for logged-in users: `/api/messaging/` (send, balance,
 * stats, contacts, campaigns, and the sections its contents only name — templates, sender IDs,
 * dashboard), `/api/billing/` (packages, purchase, orders), `/api/tenants/` and
 * `/api/notifications/`. Lists are DRF pages.
 */
import { z } from 'zod';
import type { Services } from '../../../services/index.js';
import { messageUuid } from '../../../services/message-uuid.js';
import { CAMPAIGN_STATES, TEMPLATE_CATEGORIES } from '../../../store/tables.js';
import { Api, idParam, iso, type ApiDeps } from '../../core/route.js';
import { isoDate, isoEndDate } from '../../core/validate.js';
import { drfPage, drfPageOf, drfPageQuery } from '../drf-paging.js';
import { envelope, mifumo, sentOrFailed } from './errors.js';
import { contactBody, sendBody } from './integration.js';
import type { MifumoRates } from './limits.js';
import { contactUuid, e164, numericId, tagList } from './schemas.js';
import {
  balanceView, campaignView, contactView, major, mifumoUser, orderView, packageView, senderIdView, statsView, templateView,
} from './views.js';

export function mountMessaging(deps: ApiDeps, s: Services, rates: MifumoRates): Api[] {
  const defaults = { caller: rates.api, anonymous: rates.anonymous };
  const messaging = new Api('/api/messaging', mifumo, deps, defaults);
  mountSms(messaging, s, rates);
  mountContacts(messaging, s, rates);
  mountCampaigns(messaging, s);
  mountLibrary(messaging, s);
  const billing = new Api('/api/billing', mifumo, deps, defaults);
  mountBilling(billing, s);
  const account = new Api('/api', mifumo, deps, defaults);
  mountAccount(account, s);
  return [messaging, billing, account];
}

function mountSms(api: Api, s: Services, rates: MifumoRates): void {
  api.route({
    method: 'post', path: '/sms/send/', summary: 'Send one text to a recipient (or recipients): 201 with its uuid and cost', auth: 'required', permission: 'send_sms', rate: rates.sms, status: 201,
    body: sendBody,
    handler: async ({ ctx, body, actor }) => {
      const r = sentOrFailed((await s.sending.send(actor, body, ctx.get('idempotency-key') || undefined)).summary);
      const currency = s.billing.currency;
      return envelope({
        message_id: r.message_ids[0] === undefined ? null : messageUuid(r.message_ids[0], r.created_at),
        recipient: body.recipients.length === 1 ? body.recipients[0] : body.recipients, message: body.message, sender_id: r.sender_id,
        status: r.accepted ? (r.scheduled_at ? 'scheduled' : 'queued') : 'failed', cost: major(r.total_cost, currency), currency,
        sent_at: iso(r.scheduled_at ?? r.created_at), sms_count: r.sms_count,
        ...(r.failures.length ? { failures: r.failures.map((f) => ({ recipient: f.recipient, error: f.error, reason: f.reason })) } : {}),
      }, 'SMS sent successfully');
    },
  });
  api.route({
    method: 'get', path: '/sms/balance/', summary: 'Credit balance', auth: 'required', permission: 'view_balance', rate: rates.balance,
    handler: async ({ actor }) => ({ success: true, balance: balanceView(await s.billing.balance(actor)) }),
  });
  api.route({
    method: 'get', path: '/sms/stats/', summary: 'Messages of a period (default: this month so far): sent, delivered, failed, cost', auth: 'required', permission: 'view_analytics',
    query: z.object({ start_date: isoDate.optional(), end_date: isoEndDate.optional() }),
    handler: async ({ query, actor }) => {
      const now = new Date();
      const from = query.start_date ?? Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1);
      return { success: true, stats: statsView(await s.billing.stats(actor, { from, to: query.end_date ?? now.getTime() })) };
    },
  });
}

function mountContacts(api: Api, s: Services, rates: MifumoRates): void {
  api.route({
    method: 'get', path: '/contacts/', summary: 'Contacts, a page at a time: search, tags (comma-separated, any of them)', auth: 'required', permission: 'manage_contacts', rate: rates.contacts,
    query: drfPageQuery.extend({ search: z.string().trim().max(100).optional(), tags: tagList.optional() }),
    handler: async ({ ctx, query, actor }) => drfPage(ctx, await s.contacts.page(actor, { q: query.search, tags: query.tags }, drfPageOf(query)), contactView),
  });
  api.route({
    method: 'post', path: '/contacts/', summary: 'Create a contact (phone_e164, attributes, tags)', auth: 'required', permission: 'manage_contacts', rate: rates.contacts, status: 201,
    body: contactBody,
    handler: async ({ body, actor }) => contactView(await s.contacts.create(actor, body)),
  });
}

const campaignBody = z.object({
  name: z.string().trim().min(1).max(200),
  message: z.string().min(1).max(5000),
  recipients: z.array(e164).max(10_000).default([]),
  sender_id: z.string().trim().min(1).max(15).nullish(),
  scheduled_at: isoDate.nullish(),
  segment_ids: z.array(numericId).max(100).default([]),
  contact_ids: z.array(contactUuid).max(10_000).default([]),
});

function mountCampaigns(api: Api, s: Services): void {
  api.route({
    method: 'get', path: '/campaigns/', summary: 'Campaigns, newest first: status and search filters, pages', auth: 'required',
    query: drfPageQuery.extend({ status: z.enum(CAMPAIGN_STATES).optional(), search: z.string().trim().max(100).optional() }),
    handler: async ({ ctx, query, actor }) => drfPage(ctx, await s.campaigns.list(actor, { status: query.status, search: query.search }, drfPageOf(query)), campaignView),
  });
  api.route({
    method: 'post', path: '/campaigns/', summary: 'Create a campaign for numbers, contacts and segments: scheduled when scheduled_at is given, else a draft to start', auth: 'required', permission: 'create_campaigns', status: 201,
    body: campaignBody,
    handler: async ({ body, actor }) => campaignView(await s.campaigns.create(actor, {
      name: body.name, message: body.message, sender_id: body.sender_id ?? undefined, scheduled_at: body.scheduled_at ?? undefined,
      audience: { numbers: body.recipients, segment_ids: body.segment_ids, contact_uuids: body.contact_ids.map((u) => u.toLowerCase()) },
    })),
  });
  api.route({
    method: 'get', path: '/campaigns/:id/', summary: 'A campaign and its counters', auth: 'required',
    handler: async ({ params, actor }) => campaignView(await s.campaigns.get(actor, idParam(params.id))),
  });
  const actions = [['start', 'send', 'started'], ['pause', 'pause', 'paused'], ['resume', 'resume', 'resumed'], ['cancel', 'cancel', 'cancelled']] as const;
  for (const [path, method, done] of actions) {
    api.route({
      method: 'post', path: `/campaigns/:id/${path}/`, summary: `${path[0]!.toUpperCase()}${path.slice(1)} a campaign`, auth: 'required', permission: 'create_campaigns',
      handler: async ({ params, actor }) => envelope(campaignView(await s.campaigns[method](actor, idParam(params.id))), `Campaign ${done}`),
    });
  }
}

/** Templates and sender IDs: named in the reference's contents, served over the same services. */
function mountLibrary(api: Api, s: Services): void {
  api.route({
    method: 'get', path: '/templates/', summary: 'Message templates', auth: 'required', permission: 'manage_templates',
    handler: async ({ actor }) => {
      const rows = await s.templates.list(actor, {});
      return { count: rows.length, results: rows.map(templateView) };
    },
  });
  api.route({
    method: 'post', path: '/templates/', summary: 'Create a message template ({name}-style variables)', auth: 'required', permission: 'manage_templates', status: 201,
    body: z.object({ name: z.string().trim().min(1).max(100), content: z.string().min(1).max(5000), category: z.enum(TEMPLATE_CATEGORIES).default('other'), is_public: z.boolean().default(false) }),
    handler: async ({ body, actor }) => templateView(await s.templates.create(actor, body)),
  });
  api.route({
    method: 'get', path: '/sender-ids/', summary: 'Sender IDs and their approval status', auth: 'required', permission: 'manage_sender_ids',
    handler: async ({ actor }) => {
      const rows = await s.senderIds.list(actor);
      return { count: rows.length, results: rows.map(senderIdView) };
    },
  });
  api.route({
    method: 'post', path: '/sender-ids/', summary: 'Request a sender ID: pending until the operator approves it', auth: 'required', permission: 'manage_sender_ids', status: 201,
    body: z.object({ sender_id: z.string().trim().min(1).max(15) }),
    handler: async ({ body, actor }) => senderIdView(await s.senderIds.request(actor, body.sender_id)),
  });
  api.route({
    method: 'get', path: '/dashboard/', summary: 'Balance and the last 30 days of messages', auth: 'required', permission: 'view_analytics',
    handler: async ({ actor }) => {
      const o = await s.billing.overview(actor);
      return { success: true, data: { balance: balanceView(o.balance), stats: statsView(o.stats) } };
    },
  });
}

function mountBilling(api: Api, s: Services): void {
  api.route({
    method: 'get', path: '/sms/packages/', summary: 'SMS packages on sale', auth: 'required',
    handler: async ({ actor }) => {
      const rows = await s.billing.packages(actor);
      return { count: rows.length, results: rows.map(packageView) };
    },
  });
  api.route({
    method: 'post', path: '/sms/purchase/', summary: 'Order a package: pending until the operator confirms the payment', auth: 'required', permission: 'manage_billing', status: 201,
    body: z.object({ package_id: z.union([z.number(), z.string().trim().min(1).max(64)]), payment_method: z.string().trim().max(50).optional(), provider: z.string().trim().max(50).optional() }),
    handler: async ({ body, actor }) => {
      const order = await s.billing.purchase(actor, packageRef(body.package_id), { method: body.payment_method, provider: body.provider });
      return envelope(orderView(order), 'Order created: credits are added once the payment is confirmed');
    },
  });
  api.route({
    method: 'get', path: '/sms/orders/', summary: 'Package orders of the account', auth: 'required', permission: 'view_balance',
    handler: async ({ actor }) => {
      const rows = await s.billing.orders(actor);
      return { count: rows.length, results: rows.map(orderView) };
    },
  });
}

/** A package id as a number or a numeric string; anything else names no package (0: a 404). */
const packageRef = (raw: number | string): number => {
  const n = Number(raw);
  return Number.isSafeInteger(n) && n > 0 ? n : 0;
};

/** The tenant (the account) and its notifications: named in the reference's contents. */
function mountAccount(api: Api, s: Services): void {
  api.route({
    method: 'get', path: '/tenants/current/', summary: 'The tenant behind the credentials: its profile and user', auth: 'required',
    handler: async ({ actor }) => ({ success: true, data: { id: actor.account.id, name: actor.account.name, user: mifumoUser(actor.account), profile: JSON.parse(actor.account.profile) as unknown } }),
  });
  api.route({
    method: 'get', path: '/notifications/', summary: "What happened on the account, newest first (its audit log)", auth: 'required', permission: 'view_audit',
    query: drfPageQuery,
    handler: async ({ ctx, query, actor }) => drfPage(ctx, await s.audit.page(actor, {}, drfPageOf(query)), (e) => ({
      id: e.id, type: e.action, title: e.action.replace(/[._]/g, ' '), object: e.model_type, object_id: e.model_id, is_read: false, created_at: iso(e.created_at),
    })),
  });
}
