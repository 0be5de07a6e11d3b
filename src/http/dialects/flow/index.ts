/**
 * FLOW SMS (../shared/seeds/000), Django REST Framework style, under /campaigns/api/: JWT pairs
 * (simplejwt), send-sms as a campaign of the campaign service, sender IDs, contacts. Like every
 * dialect (core/dialect.ts), it only translates.
 */
import { z } from 'zod';
import { DIRECT_MAX } from '../../../services/campaigns/service.js';
import type { Services } from '../../../services/index.js';
import { Api, iso, type ApiDeps } from '../../core/route.js';
import { isoDate } from '../../core/validate.js';
import { drfPage, drfPageOf, drfPageQuery } from '../drf-paging.js';
import { flow } from './errors.js';
import { flowContactView, flowSendView, flowSenderIdView } from './views.js';

export { flow };

export interface FlowOptions {
  /** How long send-sms may wait for the SMSC's answers (http.flow_send_wait). */
  sendWaitMs: number;
}

export function mountFlow(deps: ApiDeps, s: Services, o: FlowOptions): Api[] {
  const api = new Api('/campaigns/api', flow, deps);
  api.route({
    method: 'post', path: '/token/', summary: 'An access and refresh token pair for a username (or email) and password', auth: 'none',
    body: z.object({ username: z.string().trim().min(1).max(190), password: z.string().min(1).max(200) }),
    handler: async ({ ctx, body }) => {
      const session = await s.sessions.login(body.username, body.password, ctx.ip, { refresh: true });
      return { access: session.access, refresh: session.refresh };
    },
  });
  api.route({
    method: 'post', path: '/token/refresh/', summary: 'A new access token for a refresh token', auth: 'none',
    body: z.object({ refresh: z.string().min(1) }),
    handler: async ({ body }) => ({ access: await s.sessions.refresh(body.refresh) }),
  });
  api.route({
    method: 'post', path: '/send-sms/', summary: 'Send one text to numbers, now or at schedule_time: one campaign per call', auth: 'required', permission: 'send_sms', rate: 'send',
    body: z.object({
      sender_id: z.string().trim().min(1).max(15),
      message: z.string().min(1).max(5000),
      phone_numbers: z.array(z.string().trim().min(1).max(32)).min(1).max(DIRECT_MAX),
      schedule_time: isoDate.nullish(),
    }),
    handler: async ({ body, actor }) => {
      const sent = await s.campaigns.sendDirect(actor, {
        name: `send-sms ${iso(Date.now())}`, message: body.message, sender_id: body.sender_id, numbers: body.phone_numbers,
        not_before: body.schedule_time ?? undefined,
      }, o.sendWaitMs);
      return flowSendView(sent);
    },
  });
  api.route({
    method: 'get', path: '/senderids/', summary: "The account's sender IDs and their approval status", auth: 'required', permission: 'manage_sender_ids',
    handler: async ({ actor }) => (await s.senderIds.list(actor)).map(flowSenderIdView),
  });
  api.route({
    method: 'post', path: '/senderids/', summary: 'Request a sender ID: pending until the operator approves it', auth: 'required', permission: 'manage_sender_ids', status: 201,
    body: z.object({ name: z.string().trim().min(1).max(15) }),
    handler: async ({ body, actor }) => flowSenderIdView(await s.senderIds.request(actor, body.name)),
  });
  api.route({
    method: 'get', path: '/contacts/', summary: "The account's contacts, a page at a time", auth: 'required', permission: 'manage_contacts',
    query: drfPageQuery.extend({ search: z.string().trim().max(100).optional() }),
    handler: async ({ ctx, query, actor }) => drfPage(ctx, await s.contacts.page(actor, { q: query.search }, drfPageOf(query)), flowContactView),
  });
  return [api];
}
