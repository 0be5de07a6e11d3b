/**
 * Mifumo's integration API, for API keys (seeds 002 and 004): `/api/integration/v1/` — SMS send,
 * status, delivery reports, balance; contacts by uuid; segments. Every answer is the envelope
 * `{success, message, data, error_code, details}`; each operation has its documented limit.
 */
import { z } from 'zod';
import type { Services } from '../../../services/index.js';
import { MESSAGE_STATES } from '../../../store/tables.js';
import { Api, idParam, type ApiDeps } from '../../core/route.js';
import { isoDate, isoEndDate } from '../../core/validate.js';
import { drfPage, drfPageOf, drfPageQuery } from '../drf-paging.js';
import { envelope, mifumo, sentOrFailed } from './errors.js';
import type { MifumoRates } from './limits.js';
import { contactUuid, e164, tagList } from './schemas.js';
import { contactView, messageView, segmentView, sentView } from './views.js';

export const MAX_RECIPIENTS = 10_000;

/** One text to E.164 numbers: `recipients` (002, 004), or a single `recipient` (003). */
export const sendBody = z.object({
  message: z.string().min(1).max(5000),
  recipients: z.array(e164).min(1).max(MAX_RECIPIENTS).optional(),
  recipient: e164.optional(),
  sender_id: z.string().trim().min(1).max(15).optional(),
  webhook_url: z.string().trim().min(1).max(2000).optional(),
  scheduled_at: isoDate.optional(),
}).refine((b) => b.recipients !== undefined || b.recipient !== undefined, { path: ['recipients'], message: 'required' })
  .transform(({ recipient, recipients, ...rest }) => ({ ...rest, recipients: recipients ?? [recipient!] }));

export function mountIntegration(deps: ApiDeps, s: Services, rates: MifumoRates): Api {
  const api = new Api('/api/integration/v1', mifumo, deps, { caller: rates.api, anonymous: rates.anonymous });
  mountSms(api, s, rates);
  mountSegments(api, s, rates); // before contacts/:id/, which would take "segments" for an id
  mountContacts(api, s, rates);
  return api;
}

function mountSms(api: Api, s: Services, rates: MifumoRates): void {
  api.route({
    method: 'post', path: '/sms/send/', summary: 'Send one text to E.164 recipients (Idempotency-Key honoured)', auth: 'required', permission: 'send_sms', rate: rates.sms,
    body: sendBody,
    handler: async ({ ctx, body, actor }) => {
      const { summary } = await s.sending.send(actor, body, ctx.get('idempotency-key') || undefined);
      return envelope(sentView(sentOrFailed(summary), s.billing.currency), 'SMS sent successfully');
    },
  });
  api.route({
    method: 'get', path: '/sms/status/:id/', summary: 'A message by its uuid: status, SMSC id, times', auth: 'required', permission: 'view_history', rate: rates.status,
    handler: async ({ params, actor }) => envelope(messageView(await s.history.byUuid(actor, params.id ?? ''), s.billing.currency), 'Message status retrieved'),
  });
  api.route({
    method: 'get', path: '/sms/delivery-reports/', summary: 'Messages and their delivery state, newest first: status and date filters, pages', auth: 'required', permission: 'view_history', rate: rates.reports,
    query: drfPageQuery.extend({ status: z.enum(MESSAGE_STATES).optional(), date_from: isoDate.optional(), date_to: isoEndDate.optional() }),
    handler: async ({ ctx, query, actor }) => {
      const page = await s.history.page(actor, { status: query.status, from: query.date_from, to: query.date_to }, drfPageOf(query));
      return envelope(drfPage(ctx, page, (m) => messageView(m, s.billing.currency)), 'Delivery reports retrieved');
    },
  });
  api.route({
    method: 'get', path: '/sms/balance/', summary: 'Credit balance', auth: 'required', permission: 'view_balance', rate: rates.balance,
    handler: async ({ actor }) => {
      const b = await s.billing.balance(actor);
      return envelope({ balance: b.credits, credits: b.credits, currency: b.currency, last_updated: b.last_movement_at === null ? null : new Date(b.last_movement_at).toISOString() }, 'Balance retrieved');
    },
  });
}

const contactFields = {
  name: z.string().trim().min(1).max(150),
  phone_number: e164,
  email: z.email().max(190).nullish(),
  tags: z.array(z.string().trim().min(1).max(50)).max(50),
  attributes: z.record(z.string().max(50), z.string().max(500)),
};

/** What both contact documents send: `phone_number` (002) or `phone_e164` (003). */
const contactBody = z.object({ ...contactFields, phone_number: e164.optional(), phone_e164: e164.optional(), tags: contactFields.tags.optional(), attributes: contactFields.attributes.optional() })
  .refine((b) => b.phone_number !== undefined || b.phone_e164 !== undefined, { path: ['phone_number'], message: 'required' })
  .transform(({ phone_e164, phone_number, attributes, ...rest }) => ({ ...rest, phone: (phone_number ?? phone_e164)!, custom_fields: attributes }));

const contactPatch = z.object({ ...contactFields, phone_e164: e164 }).partial()
  .transform(({ phone_e164, phone_number, attributes, ...rest }) => ({ ...rest, phone: phone_number ?? phone_e164, custom_fields: attributes }));

export { contactBody, contactPatch };

function mountContacts(api: Api, s: Services, rates: MifumoRates): void {
  const rate = rates.contacts;
  api.route({
    method: 'post', path: '/contacts/create/', summary: 'Create a contact (E.164 phone, tags, attributes)', auth: 'required', permission: 'manage_contacts', rate, status: 201,
    body: contactBody,
    handler: async ({ body, actor }) => envelope(contactView(await s.contacts.create(actor, body)), 'Contact created successfully'),
  });
  api.route({
    method: 'get', path: '/contacts/search/', summary: 'Search contacts by name, phone or email, and by tags', auth: 'required', permission: 'manage_contacts', rate,
    query: drfPageQuery.extend({ q: z.string().trim().max(100).optional(), search: z.string().trim().max(100).optional(), tags: tagList.optional() }),
    handler: async ({ ctx, query, actor }) => envelope(drfPage(ctx, await s.contacts.page(actor, { q: query.q ?? query.search, tags: query.tags }, drfPageOf(query)), contactView), 'Contacts retrieved'),
  });
  api.route({
    method: 'get', path: '/contacts/:id/', summary: 'A contact by its uuid', auth: 'required', permission: 'manage_contacts', rate,
    handler: async ({ params, actor }) => envelope(contactView(await s.contacts.get(actor, uuidParam(params.id))), 'Contact retrieved'),
  });
  for (const method of ['put', 'patch'] as const) {
    api.route({
      method, path: '/contacts/:id/update/', summary: 'Change a contact (only the fields given)', auth: 'required', permission: 'manage_contacts', rate,
      body: contactPatch,
      handler: async ({ params, body, actor }) => envelope(contactView(await s.contacts.update(actor, uuidParam(params.id), body)), 'Contact updated successfully'),
    });
  }
  api.route({
    method: 'delete', path: '/contacts/:id/delete/', summary: 'Delete a contact', auth: 'required', permission: 'manage_contacts', rate,
    handler: async ({ params, actor }) => envelope(contactView(await s.contacts.remove(actor, uuidParam(params.id))), 'Contact deleted successfully'),
  });
}

/** A contact's uuid from the path; anything else names nothing (404, as a foreign one). */
export function uuidParam(raw: string | undefined): string {
  const r = contactUuid.safeParse(raw);
  return r.success ? r.data.toLowerCase() : '00000000-0000-0000-0000-000000000000';
}

/** A segment: a saved filter on tags and attributes, as `filters` or at the top level. */
const filterShape = z.object({ tags: z.array(z.string().trim().min(1).max(50)).max(50).optional(), attributes: z.record(z.string().max(50), z.string().max(500)).optional() });
const segmentFields = {
  name: z.string().trim().min(1).max(150),
  description: z.string().trim().max(500).nullish(),
  filters: filterShape.optional(),
  criteria: filterShape.optional(),
  ...filterShape.shape,
};
const toSegment = <T extends { filters?: z.output<typeof filterShape> | undefined; criteria?: z.output<typeof filterShape> | undefined; tags?: string[] | undefined; attributes?: Record<string, string> | undefined }>(b: T) => {
  const f = b.filters ?? b.criteria ?? (b.tags || b.attributes ? { tags: b.tags, attributes: b.attributes } : undefined);
  return f ? { tags: f.tags, attributes: f.attributes } : undefined;
};

function mountSegments(api: Api, s: Services, rates: MifumoRates): void {
  const rate = rates.contacts;
  api.route({
    method: 'get', path: '/contacts/segments/', summary: 'Segments of the account', auth: 'required', permission: 'manage_contacts', rate,
    handler: async ({ actor }) => envelope((await s.segments.list(actor)).map((x) => segmentView(x)), 'Segments retrieved'),
  });
  api.route({
    method: 'post', path: '/contacts/segments/create/', summary: 'Create a segment: a filter on tags and attributes, evaluated when used', auth: 'required', permission: 'manage_contacts', rate, status: 201,
    body: z.object(segmentFields),
    handler: async ({ body, actor }) => envelope(segmentView(await s.segments.create(actor, { name: body.name, description: body.description, filter: toSegment(body) ?? {} })), 'Segment created successfully'),
  });
  api.route({
    method: 'get', path: '/contacts/segments/:id/', summary: 'A segment and how many contacts it selects now', auth: 'required', permission: 'manage_contacts', rate,
    handler: async ({ params, actor }) => {
      const d = await s.segments.detail(actor, idParam(params.id));
      return envelope(segmentView(d.segment, d.size), 'Segment retrieved');
    },
  });
  for (const method of ['put', 'patch'] as const) {
    api.route({
      method, path: '/contacts/segments/:id/update/', summary: 'Change a segment', auth: 'required', permission: 'manage_contacts', rate,
      body: z.object(segmentFields).partial(),
      handler: async ({ params, body, actor }) => {
        const filter = toSegment(body);
        const seg = await s.segments.update(actor, idParam(params.id), { ...(body.name !== undefined ? { name: body.name } : {}), ...(body.description !== undefined ? { description: body.description } : {}), ...(filter ? { filter } : {}) });
        return envelope(segmentView(seg), 'Segment updated successfully');
      },
    });
  }
  api.route({
    method: 'delete', path: '/contacts/segments/:id/delete/', summary: 'Delete a segment', auth: 'required', permission: 'manage_contacts', rate,
    handler: async ({ params, actor }) => envelope(segmentView(await s.segments.remove(actor, idParam(params.id))), 'Segment deleted successfully'),
  });
}
