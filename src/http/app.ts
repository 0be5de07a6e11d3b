/**
 * The Koa application: request ids and logs, errors rendered in the matched dialect's shape,
 * the operations endpoints, and the API dialects on one listener.
 */
import { randomUUID } from 'node:crypto';
import Router from '@koa/router';
import Koa from 'koa';
import type { Logger } from 'pino';
import type { Metrics } from '../ops/metrics.js';
import { ServiceError } from '../services/errors.js';
import { Api } from './api.js';
import { STATUS, plain, sendwave, type Dialect } from './dialect.js';
import { mountAdmin } from './dialects/admin.js';
import { mountSendwave } from './dialects/sendwave.js';
import { mountAuditLogs, mountWebhooks } from './dialects/sendwave-webhooks.js';
import { mountBlacklist, mountContacts, mountTemplates } from './dialects/sendwave-contacts.js';
import { openApiDocument } from './openapi.js';
import { RateLimiter } from './rate-limit.js';
import type { HttpServices } from './services.js';

export interface OpsView {
  ready(): { ok: boolean; db: boolean; boundBinds: number };
  binds(): unknown[];
}

export function createApp(deps: { log: Logger; metrics: Metrics; ops: OpsView; services: HttpServices; version: string }): Koa {
  const app = new Koa({ proxy: false });
  app.use(requestLog(deps.log, deps.metrics));
  app.use(renderErrors(deps.log));
  const ops = opsRouter(deps);
  app.use(ops.routes()).use(ops.allowedMethods());

  const { config } = deps.services;
  const apiDeps = { credentials: deps.services.credentials, limiter: new RateLimiter(), limits: config.rate_limits, bodyLimitKb: config.http.body_limit_kb };
  const admin = new Api('/api/admin', sendwave, apiDeps);
  mountAdmin(admin, deps.services);
  mountBlacklist(admin, deps.services, 'global');
  const native = new Api('/api', sendwave, apiDeps);
  mountSendwave(native, deps.services);
  mountWebhooks(native, deps.services);
  mountAuditLogs(native, deps.services);
  mountContacts(native, deps.services);
  mountTemplates(native, deps.services);
  mountBlacklist(native, deps.services, 'account');
  const document = openApiDocument([...native.operations, ...admin.operations], deps.version);
  native.router.get('/openapi.json', (ctx) => {
    ctx.body = document;
  });
  for (const api of [admin, native]) app.use(api.router.routes()).use(api.router.allowedMethods());

  app.use((ctx) => {
    ctx.state.dialect ??= ctx.path.startsWith('/api') ? sendwave : plain;
    throw new ServiceError('not_found', 'Not Found.');
  });
  return app;
}

function opsRouter(deps: { metrics: Metrics; ops: OpsView }): Router {
  const ops = new Router();
  ops.get('/healthz', (ctx) => {
    ctx.body = { status: 'ok' };
  });
  ops.get('/readyz', (ctx) => {
    const r = deps.ops.ready();
    ctx.status = r.ok ? 200 : 503;
    ctx.body = { status: r.ok ? 'ready' : 'not ready', database: r.db, bound_binds: r.boundBinds };
  });
  ops.get('/metrics', async (ctx) => {
    ctx.type = deps.metrics.registry.contentType;
    ctx.body = await deps.metrics.registry.metrics();
  });
  // Bind states for `relais binds` on the same machine; remote callers use /api/admin/binds.
  ops.get('/ops/binds', (ctx) => {
    if (!isLoopback(ctx.request.ip)) throw new ServiceError('forbidden', 'loopback only');
    ctx.body = { data: deps.ops.binds() };
  });
  return ops;
}

/** Service errors and Koa's own (bad JSON, body too large) in the dialect's documented shape. */
function renderErrors(log: Logger): Koa.Middleware {
  return async (ctx, next) => {
    try {
      await next();
    } catch (err) {
      const dialect: Dialect = ctx.state.dialect ?? plain;
      const serviceError = toServiceError(err);
      if (serviceError) {
        ctx.status = serviceError.status;
        ctx.body = dialect.renderError(serviceError.error);
        return;
      }
      log.error({ reqId: ctx.state.requestId, err }, 'request failed');
      ctx.status = 500;
      ctx.body = { message: 'Server Error' };
    }
  };
}

function toServiceError(err: unknown): { status: number; error: ServiceError } | null {
  if (err instanceof ServiceError) return { status: typeof err.details.status === 'number' ? err.details.status : STATUS[err.kind], error: err };
  const e = err as { status?: number; expose?: boolean; message?: string; type?: string };
  if (typeof e.status !== 'number' || e.status >= 500) return null;
  if (e.status === 413) return { status: 413, error: new ServiceError('bad_request', 'The request body is too large.') };
  if (e.status === 415) return { status: 415, error: new ServiceError('bad_request', 'Send the body as application/json.') };
  if (e.status === 400 && e.type === 'entity.parse.failed') return { status: 400, error: new ServiceError('bad_request', 'The request body is not valid JSON.') };
  return { status: e.status, error: new ServiceError('bad_request', e.expose && e.message ? e.message : 'Bad Request') };
}

function requestLog(log: Logger, metrics: Metrics): Koa.Middleware {
  return async (ctx, next) => {
    const id = (ctx.get('x-request-id') || randomUUID()).slice(0, 64);
    ctx.state.requestId = id;
    ctx.set('X-Request-Id', id);
    const started = performance.now();
    try {
      await next();
    } finally {
      const route = (ctx as { _matchedRoute?: string })._matchedRoute ?? 'unmatched';
      metrics.httpRequests.inc({ method: ctx.method, route: String(route), status: String(ctx.status) });
      // Never bodies, never the Authorization header: only who, what and how it ended.
      log.info({ reqId: id, method: ctx.method, path: ctx.path, status: ctx.status, ms: Math.round(performance.now() - started), account: ctx.state.principal?.account?.id }, 'http');
    }
  };
}

const isLoopback = (ip: string): boolean => ip === '127.0.0.1' || ip === '::1' || ip === '::ffff:127.0.0.1';
