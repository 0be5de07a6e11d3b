/**
 * SendWave Pro v2.1, the native API, under /api at the documented paths and shapes
 * (../shared/seeds/001). Like every dialect (see core/dialect.ts): it parses, makes one service
 * call per route and renders; the rules are in the services.
 */
import { z } from 'zod';
import type { Services } from '../../../services/index.js';
import { MESSAGE_STATES } from '../../../store/tables.js';
import { sendCsv } from '../../core/csv.js';
import { Api, idParam, iso, type ApiDeps } from '../../core/route.js';
import { isoDate, isoEndDate, phoneLike } from '../../core/validate.js';
import { mountCampaigns } from './campaigns.js';
import { mountContacts } from './contacts.js';
import { mountBilling, mountSubAccounts, subAccountView } from './sub-accounts.js';
import { sendwave } from './errors.js';
import { mountBlacklist } from './blacklist.js';
import { pageOf, pageQuery, paginated } from './paging.js';
import { resource } from './resource.js';
import { mountTemplates } from './templates.js';
import { accountView, apiKeyView, messageView, partView, senderIdView, sendView, userView } from './views.js';
import { mountAuditLogs, mountWebhooks } from './webhooks.js';

export { sendwave };

export const MAX_RECIPIENTS = 10_000;

export function mountSendwave(deps: ApiDeps, s: Services): Api[] {
  const api = new Api('/api', sendwave, deps);
  mountAuth(api, s);
  mountApiKeys(api, s);
  mountSenderIds(api, s);
  mountMessages(api, s);
  mountContacts(api, s);
  mountCampaigns(api, s);
  mountSubAccounts(api, s);
  mountBilling(api, s);
  mountTemplates(api, s);
  mountBlacklist(api, s, 'account');
  mountWebhooks(api, s);
  mountAuditLogs(api, s);
  api.route({
    method: 'get', path: '/balance', summary: 'Credit balance of the caller', auth: 'required', permission: 'view_balance',
    handler: async ({ actor }) => {
      const b = await s.billing.balance(actor);
      return { data: { balance: b.credits, currency: b.currency, currency_unit: 'smallest unit', last_movement_at: iso(b.last_movement_at), ...(b.sub_account ? { sub_account: b.sub_account } : {}) } };
    },
  });
  return [api];
}

function mountAuth(api: Api, s: Services): void {
  api.route({
    method: 'post', path: '/auth/register', summary: 'Create an account (0 credits, no sender ID)', auth: 'none', status: 201,
    body: z.object({
      name: z.string().trim().min(1).max(100),
      email: z.email().max(190),
      password: z.string().min(8).max(200),
      password_confirmation: z.string().optional(),
    }).refine((b) => b.password_confirmation === undefined || b.password_confirmation === b.password, { path: ['password'], message: 'confirmed' }),
    handler: async ({ body }) => {
      const session = await s.sessions.register(body);
      return { message: 'Inscription réussie', data: { user: userView(session.account), token: session.access } };
    },
  });
  api.route({
    method: 'post', path: '/auth/login', summary: 'Log in with email and password', auth: 'none',
    body: z.object({ email: z.string().min(1), password: z.string().min(1) }),
    handler: async ({ ctx, body }) => {
      const session = await s.sessions.login(body.email, body.password, ctx.ip);
      return { message: 'Connexion réussie', data: { user: session.subAccount ? userView(session.subAccount) : userView(session.account), token: session.access } };
    },
  });
  api.route({
    method: 'get', path: '/auth/me', summary: 'The current account', auth: 'required',
    // permissions: what this credential may do (a Relais addition: pages show only what it grants).
    handler: async ({ actor }) => ({ data: { ...accountView(actor.account), permissions: [...actor.permissions].sort(), ...(actor.subAccountId === null ? {} : { sub_account: subAccountView(await s.subAccounts.self(actor)) }) } }),
  });
  api.route({
    method: 'post', path: '/auth/logout', summary: 'Revoke the access token used for this call', auth: 'required',
    handler: async ({ actor }) => {
      await s.sessions.logout(actor);
      return { message: 'Déconnexion réussie' };
    },
  });
}

function mountApiKeys(api: Api, s: Services): void {
  const permission = 'manage_api_keys';
  api.route({
    method: 'get', path: '/api-keys', summary: "The caller's API keys (never the secrets)", auth: 'required', permission,
    handler: async ({ actor }) => ({ data: (await s.credentials.listApiKeys(actor)).map(apiKeyView) }),
  });
  api.route({
    method: 'post', path: '/api-keys', summary: 'Create an API key: the key is shown once, in this answer', auth: 'required', permission, status: 201,
    body: z.object({ name: z.string().trim().min(1).max(100) }),
    handler: async ({ body, actor }) => {
      const { key, row } = await s.credentials.createApiKey(actor, body.name);
      return { message: 'Clé API créée', data: { ...apiKeyView(row), key } };
    },
  });
  api.route({
    method: 'delete', path: '/api-keys/:id', summary: 'Revoke an API key', auth: 'required', permission,
    handler: async ({ params, actor }) => ({ message: 'Clé API révoquée', data: apiKeyView(await s.credentials.revokeApiKey(actor, idParam(params.id))) }),
  });
  api.route({
    method: 'post', path: '/api-keys/:id/regenerate', summary: 'New secret for an API key; the old one stops working', auth: 'required', permission,
    handler: async ({ params, actor }) => {
      const { key, row } = await s.credentials.regenerateApiKey(actor, idParam(params.id));
      return { message: 'Clé API régénérée', data: { ...apiKeyView(row), key } };
    },
  });
}

function mountSenderIds(api: Api, s: Services): void {
  resource(api, {
    path: '/sender-ids', permission: 'manage_sender_ids', view: senderIdView,
    list: { summary: "The caller's sender IDs and their status", run: (actor) => s.senderIds.list(actor) },
    create: {
      summary: 'Ask for a sender ID (pending until an admin approves it)', message: 'Sender ID en attente d’approbation',
      body: z.object({ name: z.string().trim().min(1).max(15) }), run: (actor, body) => s.senderIds.request(actor, body.name),
    },
  });
}

const historyQuery = pageQuery.extend({
  status: z.enum(MESSAGE_STATES).optional(),
  start_date: isoDate.optional(),
  end_date: isoEndDate.optional(),
  phone: z.string().optional(),
});

const filterOf = (q: z.output<typeof historyQuery>) => ({ status: q.status, recipientLike: q.phone?.replace(/\D/g, '') || undefined, from: q.start_date, to: q.end_date });

const EXPORT_COLUMNS = ['id', 'recipient', 'sender_id', 'message', 'status', 'operator', 'sms_count', 'encoding', 'cost', 'attempts', 'error', 'smsc_message_id', 'scheduled_at', 'created_at', 'sent_at', 'delivered_at'];

function mountMessages(api: Api, s: Services): void {
  api.route({
    method: 'post', path: '/messages/send', summary: 'Send one text to up to 10 000 recipients (optionally scheduled)', auth: 'required', permission: 'send_sms', rate: 'send',
    body: z.object({
      recipients: z.array(phoneLike).min(1).max(MAX_RECIPIENTS),
      message: z.string().min(1).max(5000),
      sender_id: z.string().trim().min(1).max(15).optional(),
      scheduled_at: isoDate.optional(),
      webhook_url: z.string().trim().min(1).max(2000).optional(),
    }),
    handler: async ({ ctx, body, actor }) => sendView((await s.sending.send(actor, body, ctx.get('idempotency-key') || undefined)).summary),
  });
  api.route({
    method: 'post', path: '/messages/analyze', summary: 'Operator and validity of each number, without sending', auth: 'required', permission: 'send_sms',
    body: z.object({ phone_numbers: z.array(z.string()).min(1).max(MAX_RECIPIENTS) }),
    handler: async ({ body, actor }) => {
      const a = await s.sending.analyze(actor, body.phone_numbers);
      const { unknown = 0, ...known } = a.by_operator;
      const counts = Object.fromEntries(Object.entries(known).map(([operator, n]) => [`${operator}_count`, n]));
      const details = a.details.map((d) => ({ phone: d.phone, normalized: d.normalized, operator: d.operator ?? 'unknown', is_valid: d.is_valid, ...(d.error ? { error: d.error } : {}) }));
      return { message: 'Analyse effectuée', data: { total: a.total, ...counts, unknown_count: unknown, details } };
    },
  });
  api.route({
    method: 'get', path: '/messages/history', summary: 'Messages of the caller, newest first, filtered and paginated', auth: 'required', permission: 'view_history',
    query: historyQuery,
    handler: async ({ query, actor }) => paginated(await s.history.page(actor, filterOf(query), pageOf(query)), messageView),
  });
  api.route({
    method: 'get', path: '/messages/export', summary: 'Messages of the caller as CSV, streamed', auth: 'required', permission: 'export_data',
    query: historyQuery.extend({ format: z.enum(['csv']).default('csv') }),
    handler: ({ ctx, query, actor }) => {
      const messages = s.history.export(actor, filterOf(query));
      sendCsv(ctx, `messages-${new Date().toISOString().slice(0, 10)}.csv`, EXPORT_COLUMNS, (async function* () {
        for await (const m of messages) yield messageView(m);
      })());
      return undefined;
    },
  });
  api.route({
    method: 'get', path: '/messages/:id', summary: 'One message: status, parts, timestamps, error', auth: 'required', permission: 'view_history',
    handler: async ({ params, actor }) => {
      const m = await s.history.get(actor, idParam(params.id));
      return { data: { ...messageView(m), parts: m.part_list.map(partView) } };
    },
  });
}
