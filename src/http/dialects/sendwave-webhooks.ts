/** SendWave webhooks and audit logs (/api/webhooks…, /api/audit-logs…). */
import type Koa from 'koa';
import { z } from 'zod';
import type { AuditOrigin } from '../../services/audit.js';
import type { WebhookRow } from '../../services/webhooks.js';
import { WEBHOOK_EVENTS } from '../../webhooks/events.js';
import { iso, paginated, type Api } from '../api.js';
import type { HttpServices } from '../services.js';
import { isoDate, isoEndDate, pagination } from '../validate.js';
import { idParam } from './sendwave.js';

export const origin = (ctx: Koa.Context): AuditOrigin => ({ ip: ctx.ip || null, userAgent: ctx.get('user-agent') || null });

/** The secret is shown when the caller chose or just received it, never in listings. */
const webhookView = (w: NonNullable<WebhookRow>, withSecret = false) => ({
  id: w.id, name: w.name, url: w.url, events: JSON.parse(w.events) as string[], retry_limit: w.retry_limit, timeout: w.timeout,
  is_active: w.is_active === 1, last_triggered_at: iso(w.last_triggered_at), created_at: iso(w.created_at), updated_at: iso(w.updated_at),
  ...(withSecret ? { secret: w.secret } : {}),
});

const logView = (l: { id: number; delivery_id: string; event: string; url: string; attempt: number; success: number; status_code: number | null; error: string | null; duration_ms: number; created_at: number }) => ({
  id: l.id, delivery_id: l.delivery_id, event: l.event, url: l.url, attempt: l.attempt, success: l.success === 1,
  status_code: l.status_code, error: l.error, duration_ms: l.duration_ms, created_at: iso(l.created_at),
});

const webhookBody = z.object({
  name: z.string().trim().min(1).max(100),
  url: z.string().trim().min(1).max(2000),
  events: z.array(z.string()).min(1),
  secret: z.string().min(16).max(200).optional(),
  retry_limit: z.number().int().min(0).max(10).default(3),
  timeout: z.number().int().min(1).max(60).default(30),
  is_active: z.boolean().default(true),
});

/** PUT changes only what it names: the same fields, none defaulted. */
const webhookPatch = z.object({
  name: z.string().trim().min(1).max(100),
  url: z.string().trim().min(1).max(2000),
  events: z.array(z.string()).min(1),
  secret: z.string().min(16).max(200),
  retry_limit: z.number().int().min(0).max(10),
  timeout: z.number().int().min(1).max(60),
  is_active: z.boolean(),
}).partial();

const auditable = (w: NonNullable<WebhookRow>) => ({ ...webhookView(w), secret: w.secret });

export function mountWebhooks(api: Api, s: HttpServices): void {
  api.route({
    method: 'get', path: '/webhooks/events', summary: 'Webhook events and their labels', auth: 'user',
    handler: () => ({ data: WEBHOOK_EVENTS }),
  });
  api.route({
    method: 'get', path: '/webhooks/signing-secret', summary: 'The secret that signs per-send webhook_url callbacks', auth: 'user',
    handler: async (_ctx, { principal }) => ({ data: { secret: await s.accounts.webhookSecret(principal.account.id) } }),
  });
  api.route({
    method: 'post', path: '/webhooks/signing-secret/rotate', summary: 'A new secret for per-send callbacks (queued ones are signed with it too)', auth: 'user',
    handler: async (ctx, { principal }) => {
      const secret = await s.accounts.rotateWebhookSecret(principal.account.id);
      await s.audit.record(principal, origin(ctx), { action: 'webhook.signing_secret_rotated', model: 'Account', modelId: principal.account.id, new: { secret } });
      return { message: 'Secret régénéré', data: { secret } };
    },
  });
  api.route({
    method: 'get', path: '/webhooks', summary: "The caller's webhooks", auth: 'user',
    handler: async (_ctx, { principal }) => ({ data: (await s.webhooks.list(principal.account.id)).map((w) => webhookView(w)) }),
  });
  api.route({
    method: 'post', path: '/webhooks', summary: 'Create a webhook (a 32-character secret is generated when none is given)', auth: 'user', body: webhookBody,
    handler: async (ctx, { body, principal }) => {
      const w = await s.webhooks.create(principal.account.id, body);
      await s.audit.record(principal, origin(ctx), { action: 'webhook.created', model: 'Webhook', modelId: w.id, new: auditable(w) });
      ctx.status = 201;
      return { message: 'Webhook créé', data: webhookView(w, true) };
    },
  });
  api.route({
    method: 'get', path: '/webhooks/:id', summary: 'One webhook with its last 10 delivery logs', auth: 'user',
    handler: async (_ctx, { params, principal }) => {
      const id = idParam(params.id);
      const w = await s.webhooks.get(principal.account.id, id);
      const { rows } = await s.webhooks.logs(principal.account.id, id, { limit: 10, offset: 0 });
      return { data: { ...webhookView(w), logs: rows.map(logView) } };
    },
  });
  api.route({
    method: 'put', path: '/webhooks/:id', summary: 'Update a webhook', auth: 'user', body: webhookPatch,
    handler: async (ctx, { params, body, principal }) => {
      const { before, after } = await s.webhooks.update(principal.account.id, idParam(params.id), body);
      await s.audit.record(principal, origin(ctx), { action: 'webhook.updated', model: 'Webhook', modelId: after.id, old: auditable(before), new: auditable(after) });
      return { message: 'Webhook mis à jour', data: webhookView(after) };
    },
  });
  api.route({
    method: 'delete', path: '/webhooks/:id', summary: 'Delete a webhook', auth: 'user',
    handler: async (ctx, { params, principal }) => {
      const before = await s.webhooks.remove(principal.account.id, idParam(params.id));
      await s.audit.record(principal, origin(ctx), { action: 'webhook.deleted', model: 'Webhook', modelId: before.id, old: auditable(before) });
      return { message: 'Webhook supprimé' };
    },
  });
  api.route({
    method: 'post', path: '/webhooks/:id/toggle', summary: 'Turn a webhook on or off', auth: 'user',
    handler: async (ctx, { params, principal }) => {
      const w = await s.webhooks.toggle(principal.account.id, idParam(params.id));
      await s.audit.record(principal, origin(ctx), { action: 'webhook.toggled', model: 'Webhook', modelId: w.id, new: { is_active: w.is_active === 1 } });
      return { message: w.is_active ? 'Webhook activé' : 'Webhook désactivé', data: webhookView(w) };
    },
  });
  api.route({
    method: 'post', path: '/webhooks/:id/test', summary: 'Send the webhook.test payload', auth: 'user',
    handler: async (_ctx, { params, principal }) => {
      const deliveryId = await s.webhooks.test(principal.account.id, idParam(params.id));
      s.kickWebhooks();
      return { message: 'Test envoyé', data: { delivery_id: deliveryId } };
    },
  });
  api.route({
    method: 'get', path: '/webhooks/:id/logs', summary: 'Delivery attempts, newest first', auth: 'user',
    query: pagination.extend({ event: z.string().optional(), success: z.enum(['true', 'false', '1', '0']).optional() }),
    handler: async (_ctx, { params, query, principal }) => {
      const success = query.success === undefined ? undefined : query.success === 'true' || query.success === '1';
      const { rows, total } = await s.webhooks.logs(principal.account.id, idParam(params.id), { event: query.event, success, limit: query.per_page, offset: (query.page - 1) * query.per_page });
      return paginated(rows.map(logView), total, query.page, query.per_page);
    },
  });
  api.route({
    method: 'get', path: '/webhooks/:id/stats', summary: 'Delivery statistics', auth: 'user',
    handler: async (_ctx, { params, principal }) => {
      const st = await s.webhooks.stats(principal.account.id, idParam(params.id));
      return { data: { ...st, last_triggered_at: iso(st.last_triggered_at) } };
    },
  });
}

export function mountAuditLogs(api: Api, s: HttpServices): void {
  const view = (a: Awaited<ReturnType<HttpServices['audit']['get']>>) => ({
    id: a.id, user_id: a.account_id, sub_account_id: null, actor_type: a.actor_type, api_key_id: a.actor_type === 'api_key' ? a.actor_id : null,
    action: a.action, model_type: a.model_type, model_id: a.model_id,
    old_values: a.old_values ? JSON.parse(a.old_values) : null, new_values: a.new_values ? JSON.parse(a.new_values) : null,
    ip_address: a.ip_address, user_agent: a.user_agent, created_at: iso(a.created_at),
  });
  api.route({
    method: 'get', path: '/audit-logs', summary: "The caller's audit log, newest first", auth: 'user',
    query: pagination.extend({ action: z.string().optional(), start_date: isoDate.optional(), end_date: isoEndDate.optional(), model_type: z.string().optional(), model_id: z.coerce.number().int().optional() }),
    handler: async (_ctx, { query, principal }) => {
      const { rows, total } = await s.audit.page(principal.account.id, { action: query.action, from: query.start_date, to: query.end_date, model_type: query.model_type, model_id: query.model_id }, query.page, query.per_page);
      return paginated(rows.map(view), total, query.page, query.per_page);
    },
  });
  api.route({
    method: 'get', path: '/audit-logs/actions', summary: 'Actions present in the caller\'s audit log', auth: 'user',
    handler: async (_ctx, { principal }) => ({ data: await s.audit.actions(principal.account.id) }),
  });
  api.route({
    method: 'get', path: '/audit-logs/:id', summary: 'One audit entry', auth: 'user',
    handler: async (_ctx, { params, principal }) => ({ data: view(await s.audit.get(principal.account.id, idParam(params.id))) }),
  });
}
