/** SendWave webhooks and audit logs (/api/webhooks…, /api/audit-logs…). */
import { z } from 'zod';
import type { Services } from '../../../services/index.js';
import type { WebhookRecord } from '../../../services/webhooks.js';
import { WEBHOOK_EVENTS } from '../../../webhooks/events.js';
import { idParam, iso, type Api } from '../../core/route.js';
import { isoDate, isoEndDate, queryBoolean } from '../../core/validate.js';
import { pageOf, pageQuery, paginated } from './paging.js';
import { resource } from './resource.js';
import { auditView, webhookLogView, webhookView } from './views.js';

const fields = {
  name: z.string().trim().min(1).max(100),
  url: z.string().trim().min(1).max(2000),
  events: z.array(z.string()).min(1),
  secret: z.string().min(16).max(200),
  retry_limit: z.number().int().min(0).max(10),
  timeout: z.number().int().min(1).max(60),
  is_active: z.boolean(),
};
const createBody = z.object({ ...fields, secret: fields.secret.optional(), retry_limit: fields.retry_limit.default(3), timeout: fields.timeout.default(30), is_active: fields.is_active.default(true) });
/** PUT changes only what it names: the same fields, none defaulted. */
const patchBody = z.object(fields).partial();

export function mountWebhooks(api: Api, s: Services): void {
  const permission = 'manage_webhooks';
  api.route({
    method: 'get', path: '/webhooks/events', summary: 'Webhook events and their labels', auth: 'required', permission,
    handler: () => ({ data: WEBHOOK_EVENTS }),
  });
  api.route({
    method: 'get', path: '/webhooks/signing-secret', summary: 'The secret that signs per-send webhook_url callbacks', auth: 'required', permission,
    handler: async ({ actor }) => ({ data: { secret: await s.accounts.webhookSecret(actor) } }),
  });
  api.route({
    method: 'post', path: '/webhooks/signing-secret/rotate', summary: 'A new secret for per-send callbacks (queued ones are signed with it too)', auth: 'required', permission,
    handler: async ({ actor }) => ({ message: 'Secret régénéré', data: { secret: await s.accounts.rotateWebhookSecret(actor) } }),
  });
  api.route({
    method: 'post', path: '/webhooks', summary: 'Create a webhook (a 32-character secret is generated when none is given)', auth: 'required', permission, body: createBody, status: 201,
    handler: async ({ body, actor }) => ({ message: 'Webhook créé', data: webhookView(await s.webhooks.create(actor, body), true) }),
  });
  api.route({
    method: 'get', path: '/webhooks/:id', summary: 'One webhook with its last 10 delivery logs', auth: 'required', permission,
    handler: async ({ params, actor }) => {
      const { webhook, logs } = await s.webhooks.detail(actor, idParam(params.id));
      return { data: { ...webhookView(webhook), logs: logs.map(webhookLogView) } };
    },
  });
  resource(api, {
    path: '/webhooks', permission, view: (w: WebhookRecord) => webhookView(w),
    list: { summary: "The caller's webhooks", run: (actor) => s.webhooks.list(actor) },
    update: { summary: 'Update a webhook', body: patchBody, message: 'Webhook mis à jour', run: (actor, id, body) => s.webhooks.update(actor, id, body) },
    remove: { summary: 'Delete a webhook', message: 'Webhook supprimé', run: (actor, id) => s.webhooks.remove(actor, id) },
  });
  api.route({
    method: 'post', path: '/webhooks/:id/toggle', summary: 'Turn a webhook on or off', auth: 'required', permission,
    handler: async ({ params, actor }) => {
      const w = await s.webhooks.toggle(actor, idParam(params.id));
      return { message: w.is_active ? 'Webhook activé' : 'Webhook désactivé', data: webhookView(w) };
    },
  });
  api.route({
    method: 'post', path: '/webhooks/:id/test', summary: 'Send the webhook.test payload', auth: 'required', permission,
    handler: async ({ params, actor }) => ({ message: 'Test envoyé', data: { delivery_id: await s.webhooks.test(actor, idParam(params.id)) } }),
  });
  api.route({
    method: 'get', path: '/webhooks/:id/logs', summary: 'Delivery attempts, newest first', auth: 'required', permission,
    query: pageQuery.extend({ event: z.string().optional(), success: queryBoolean.optional() }),
    handler: async ({ params, query, actor }) => paginated(await s.webhooks.logs(actor, idParam(params.id), query, pageOf(query)), webhookLogView),
  });
  api.route({
    method: 'get', path: '/webhooks/:id/stats', summary: 'Delivery statistics', auth: 'required', permission,
    handler: async ({ params, actor }) => {
      const st = await s.webhooks.stats(actor, idParam(params.id));
      return { data: { ...st, last_triggered_at: iso(st.last_triggered_at) } };
    },
  });
}

export function mountAuditLogs(api: Api, s: Services): void {
  const permission = 'view_audit';
  api.route({
    method: 'get', path: '/audit-logs', summary: "The caller's audit log, newest first", auth: 'required', permission,
    query: pageQuery.extend({ action: z.string().optional(), start_date: isoDate.optional(), end_date: isoEndDate.optional(), model_type: z.string().optional(), model_id: z.coerce.number().int().optional() }),
    handler: async ({ query, actor }) => paginated(await s.audit.page(actor, { action: query.action, from: query.start_date, to: query.end_date, model_type: query.model_type, model_id: query.model_id }, pageOf(query)), auditView),
  });
  api.route({
    method: 'get', path: '/audit-logs/actions', summary: "Actions present in the caller's audit log", auth: 'required', permission,
    handler: async ({ actor }) => ({ data: await s.audit.actions(actor) }),
  });
  api.route({
    method: 'get', path: '/audit-logs/:id', summary: 'One audit entry', auth: 'required', permission,
    handler: async ({ params, actor }) => ({ data: auditView(await s.audit.get(actor, idParam(params.id))) }),
  });
}
