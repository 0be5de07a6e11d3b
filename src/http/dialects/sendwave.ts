/**
 * SendWave Pro v2.1, the native API, under /api at the documented paths and shapes
 * (../shared/seeds/001). Routes only translate shapes; the work is in the services.
 */
import { Readable } from 'node:stream';
import { stringify } from 'csv-stringify';
import { z } from 'zod';
import type { Account } from '../../services/accounts.js';
import { ServiceError } from '../../services/errors.js';
import type { SendSummary } from '../../services/sending.js';
import { MESSAGE_STATES } from '../../store/tables.js';
import { iso, paginated, type Api } from '../api.js';
import type { HttpServices } from '../services.js';
import { isoDate, isoEndDate, pagination, phoneLike } from '../validate.js';
import { origin } from './sendwave-webhooks.js';

export const MAX_RECIPIENTS = 10_000;

const userView = (a: Account) => ({ id: a.id, name: a.name, email: a.email });
const meView = (a: Account) => ({ ...userView(a), role: a.role, status: a.status, balance: a.balance, default_sender_id: a.default_sender_id, created_at: iso(a.created_at) });

export function mountSendwave(api: Api, s: HttpServices): void {
  mountAuth(api, s);
  mountApiKeys(api, s);
  mountSenderIds(api, s);
  mountMessages(api, s);
  api.route({
    method: 'get', path: '/balance', summary: 'Credit balance of the caller', auth: 'user',
    handler: (_ctx, { principal }) => ({ data: { balance: s.credits.balanceOf(principal.account.id), currency_unit: 'smallest unit' } }),
  });
}

function mountAuth(api: Api, s: HttpServices): void {
  api.route({
    method: 'post', path: '/auth/register', summary: 'Create an account (0 credits, no sender ID)', auth: 'none',
    body: z.object({
      name: z.string().trim().min(1).max(100),
      email: z.email().max(190),
      password: z.string().min(8).max(200),
      password_confirmation: z.string().optional(),
    }).refine((b) => b.password_confirmation === undefined || b.password_confirmation === b.password, { path: ['password'], message: 'The password field confirmation does not match.' }),
    handler: async (ctx, { body }) => {
      if (s.config.auth.registration === 'closed') throw new ServiceError('forbidden', 'Registration is closed on this gateway: ask the operator for an account.');
      const account = await s.accounts.create(body);
      ctx.status = 201;
      return { message: 'Inscription réussie', data: { user: userView(account), token: await s.credentials.issueToken(account) } };
    },
  });
  api.route({
    method: 'post', path: '/auth/login', summary: 'Log in with email and password', auth: 'none',
    body: z.object({ email: z.string().min(1), password: z.string().min(1) }),
    handler: async (_ctx, { body }) => {
      const account = await s.accounts.authenticate(body.email, body.password);
      return { message: 'Connexion réussie', data: { user: userView(account), token: await s.credentials.issueToken(account) } };
    },
  });
  api.route({
    method: 'get', path: '/auth/me', summary: 'The current account', auth: 'user',
    handler: (_ctx, { principal }) => ({ data: meView(principal.account) }),
  });
  api.route({
    method: 'post', path: '/auth/logout', summary: 'Revoke the access token used for this call', auth: 'user',
    handler: async (_ctx, { principal }) => {
      if (principal.credential.kind === 'token') await s.credentials.revokeToken(principal.credential.jti);
      return { message: 'Déconnexion réussie' };
    },
  });
}

function mountApiKeys(api: Api, s: HttpServices): void {
  const keyView = (k: Awaited<ReturnType<HttpServices['credentials']['listApiKeys']>>[number]) => ({
    id: k.id, name: k.name, prefix: k.prefix, created_at: iso(k.created_at), last_used_at: iso(k.last_used_at), revoked_at: iso(k.revoked_at), is_active: k.revoked_at === null,
  });
  api.route({
    method: 'get', path: '/api-keys', summary: "The caller's API keys (never the secrets)", auth: 'user',
    handler: async (_ctx, { principal }) => ({ data: (await s.credentials.listApiKeys(principal.account.id)).map(keyView) }),
  });
  api.route({
    method: 'post', path: '/api-keys', summary: 'Create an API key: the key is shown once, in this answer', auth: 'user',
    body: z.object({ name: z.string().trim().min(1).max(100) }),
    handler: async (ctx, { body, principal }) => {
      const { key, view } = await s.credentials.createApiKey(principal.account.id, body.name);
      await s.audit.record(principal, origin(ctx), { action: 'api_key.created', model: 'ApiKey', modelId: view.id, new: { name: view.name, prefix: view.prefix, key } });
      ctx.status = 201;
      return { message: 'Clé API créée', data: { ...keyView(view), key } };
    },
  });
  api.route({
    method: 'delete', path: '/api-keys/:id', summary: 'Revoke an API key', auth: 'user',
    handler: async (ctx, { params, principal }) => {
      const view = await s.credentials.revokeApiKey(principal.account.id, idParam(params.id));
      await s.audit.record(principal, origin(ctx), { action: 'api_key.revoked', model: 'ApiKey', modelId: view.id, old: { name: view.name, prefix: view.prefix } });
      return { message: 'Clé API révoquée', data: keyView(view) };
    },
  });
  api.route({
    method: 'post', path: '/api-keys/:id/regenerate', summary: 'New secret for an API key; the old one stops working', auth: 'user',
    handler: async (ctx, { params, principal }) => {
      const { key, view } = await s.credentials.regenerateApiKey(principal.account.id, idParam(params.id));
      await s.audit.record(principal, origin(ctx), { action: 'api_key.regenerated', model: 'ApiKey', modelId: view.id, new: { name: view.name, prefix: view.prefix, key } });
      return { message: 'Clé API régénérée', data: { ...keyView(view), key } };
    },
  });
}

function mountSenderIds(api: Api, s: HttpServices): void {
  const view = (r: { id: number; name: string; status: string; created_at: number; decided_at: number | null }) => ({
    id: r.id, name: r.name, status: r.status, created_at: iso(r.created_at), decided_at: iso(r.decided_at),
  });
  api.route({
    method: 'get', path: '/sender-ids', summary: "The caller's sender IDs and their status", auth: 'user',
    handler: async (_ctx, { principal }) => ({ data: (await s.senderIds.list(principal.account.id)).map(view) }),
  });
  api.route({
    method: 'post', path: '/sender-ids', summary: 'Ask for a sender ID (pending until an admin approves it)', auth: 'user',
    body: z.object({ name: z.string().trim().min(1).max(15) }),
    handler: async (ctx, { body, principal }) => {
      const row = await s.senderIds.request(principal.account.id, body.name);
      await s.audit.record(principal, origin(ctx), { action: 'sender_id.requested', model: 'SenderId', modelId: row.id, new: { name: row.name, status: row.status } });
      ctx.status = 201;
      return { message: 'Sender ID en attente d’approbation', data: view(row) };
    },
  });
}

export function messageView(m: {
  id: number; recipient: string; sender: string; body: string; status: string; operator: string; parts: number; encoding: string; cost: number;
  attempts: number; error: string | null; error_code: number | null; smsc_id: string | null; not_before: number; created_at: number; sent_at: number | null; done_at: number | null;
}) {
  return {
    id: m.id, recipient: m.recipient, message: m.body, sender_id: m.sender, status: m.status, operator: m.operator, sms_count: m.parts, encoding: m.encoding,
    cost: m.cost, attempts: m.attempts, error: m.error, error_code: m.error_code, smsc_message_id: m.smsc_id,
    scheduled_at: m.not_before > m.created_at ? iso(m.not_before) : null, created_at: iso(m.created_at), sent_at: iso(m.sent_at),
    delivered_at: m.status === 'delivered' ? iso(m.done_at) : null, done_at: iso(m.done_at),
  };
}

const historyQuery = pagination.extend({
  status: z.enum(MESSAGE_STATES).optional(),
  start_date: isoDate.optional(),
  end_date: isoEndDate.optional(),
  phone: z.string().optional(),
});

const filterOf = (q: { status?: (typeof MESSAGE_STATES)[number] | undefined; start_date?: number | undefined; end_date?: number | undefined; phone?: string | undefined }) => ({
  status: q.status,
  recipientLike: q.phone?.replace(/\D/g, '') || undefined,
  from: q.start_date,
  to: q.end_date,
});

function mountMessages(api: Api, s: HttpServices): void {
  api.route({
    method: 'post', path: '/messages/send', summary: 'Send one text to up to 10 000 recipients (optionally scheduled)', auth: 'user', rate: 'send',
    body: z.object({
      recipients: z.array(phoneLike).min(1).max(MAX_RECIPIENTS),
      message: z.string().min(1).max(5000),
      sender_id: z.string().trim().min(1).max(15).optional(),
      scheduled_at: isoDate.optional(),
      webhook_url: z.string().trim().min(1).max(2000).optional(),
    }),
    handler: async (ctx, { body, principal }) => {
      const webhookUrl = body.webhook_url === undefined ? undefined : await s.webhooks.checkUrl(body.webhook_url, 'webhook_url');
      if (webhookUrl) await s.accounts.webhookSecret(principal.account.id); // make sure the signing secret exists
      const { body: answer } = await s.sending.send(principal, { ...body, webhook_url: webhookUrl }, ctx.get('idempotency-key') || undefined, sendwaveSendBody);
      return answer;
    },
  });
  api.route({
    method: 'post', path: '/messages/analyze', summary: 'Operator and validity of each number, without sending', auth: 'user',
    body: z.object({ phone_numbers: z.array(z.string()).min(1).max(MAX_RECIPIENTS) }),
    handler: (_ctx, { body, principal }) => {
      const details = body.phone_numbers.map((phone) => {
        const c = s.messages.classify(phone, principal.account.id);
        return { phone, normalized: c.e164, operator: c.operator ?? 'unknown', is_valid: c.e164 !== null, ...(c.ok ? {} : { error: c.error }) };
      });
      const counts: Record<string, number> = Object.fromEntries(s.config.operators.map((o) => [`${o.name}_count`, 0]));
      let unknown = 0;
      for (const d of details) {
        if (d.operator === 'unknown') unknown += 1;
        else counts[`${d.operator}_count`] = (counts[`${d.operator}_count`] ?? 0) + 1;
      }
      return { message: 'Analyse effectuée', data: { total: details.length, ...counts, unknown_count: unknown, details } };
    },
  });
  api.route({
    method: 'get', path: '/messages/history', summary: 'Messages of the caller, newest first, filtered and paginated', auth: 'user',
    query: historyQuery,
    handler: async (_ctx, { query, principal }) => {
      const { rows, total } = await s.history.page(principal.account.id, filterOf(query), query.page, query.per_page);
      return paginated(rows.map(messageView), total, query.page, query.per_page);
    },
  });
  api.route({
    method: 'get', path: '/messages/export', summary: 'Messages of the caller as CSV, streamed', auth: 'user',
    query: historyQuery.extend({ format: z.enum(['csv']).default('csv') }),
    handler: (ctx, { query, principal }) => {
      const rows = Readable.from((async function* () {
        for await (const m of s.history.all(principal.account.id, filterOf(query))) yield messageView(m);
      })());
      ctx.type = 'text/csv; charset=utf-8';
      ctx.attachment(`messages-${new Date().toISOString().slice(0, 10)}.csv`);
      ctx.body = rows.pipe(stringify({ header: true, columns: EXPORT_COLUMNS, cast: { boolean: (b) => (b ? 'true' : 'false') } }));
      return undefined;
    },
  });
  api.route({
    method: 'get', path: '/messages/:id', summary: 'One message: status, parts, timestamps, error', auth: 'user',
    handler: async (_ctx, { params, principal }) => {
      const m = await s.history.get(principal.account.id, idParam(params.id));
      return {
        data: {
          ...messageView(m),
          parts: m.part_list.map((p) => ({ part: p.part_no, smsc_message_id: p.raw_smsc_id, state: p.state, sent_at: iso(p.sent_at), receipt_at: iso(p.receipt_at), error: p.receipt_err })),
        },
      };
    },
  });
}

const EXPORT_COLUMNS = ['id', 'recipient', 'sender_id', 'message', 'status', 'operator', 'sms_count', 'encoding', 'cost', 'attempts', 'error', 'smsc_message_id', 'scheduled_at', 'created_at', 'sent_at', 'delivered_at'];

/** The documented answer of /messages/send, plus the per-recipient failures it counts. */
export function sendwaveSendBody(s: SendSummary) {
  return {
    message: 'Envoi terminé',
    data: {
      total: s.total, sent: s.accepted, failed: s.failed, sms_count: s.sms_count, total_cost: s.total_cost,
      by_operator: s.by_operator, message_ids: s.message_ids, failures: s.failures, warnings: s.warnings, sender_id: s.sender_id,
      scheduled_at: iso(s.scheduled_at), balance: s.balance,
    },
  };
}

/** A path id that is not a positive integer names nothing: 404, as for a foreign id. */
export function idParam(raw: string | undefined): number {
  const id = Number(raw);
  if (!Number.isSafeInteger(id) || id <= 0) throw new ServiceError('not_found', 'No query results.');
  return id;
}
