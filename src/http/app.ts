/**
 * The Koa application. For now: operations endpoints (health, readiness, metrics, bind states).
 * API dialects mount their routers on the same app.
 */
import { randomUUID } from 'node:crypto';
import Router from '@koa/router';
import Koa from 'koa';
import type { Logger } from 'pino';
import type { Metrics } from '../ops/metrics.js';

export interface OpsView {
  ready(): { ok: boolean; db: boolean; boundBinds: number };
  binds(): unknown[];
}

export function createApp(deps: { log: Logger; metrics: Metrics; ops: OpsView }): Koa {
  const app = new Koa({ proxy: false });
  app.use(requestLog(deps.log, deps.metrics));
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
  // Bind states for `relais binds`: same machine only, until the authenticated admin API exists.
  ops.get('/ops/binds', (ctx) => {
    if (!isLoopback(ctx.request.ip)) ctx.throw(403, 'loopback only');
    ctx.body = { data: deps.ops.binds() };
  });
  app.use(ops.routes()).use(ops.allowedMethods());
  return app;
}

function requestLog(log: Logger, metrics: Metrics): Koa.Middleware {
  return async (ctx, next) => {
    const id = (ctx.get('x-request-id') || randomUUID()).slice(0, 64);
    ctx.state.requestId = id;
    ctx.set('X-Request-Id', id);
    const started = performance.now();
    try {
      await next();
    } catch (err) {
      const e = err as { status?: number; expose?: boolean; message?: string };
      ctx.status = e.status ?? 500;
      ctx.body = { message: e.expose ? e.message : 'Internal Server Error' };
      if (ctx.status >= 500) log.error({ reqId: id, err }, 'request failed');
    } finally {
      const route = (ctx as { _matchedRoute?: string })._matchedRoute ?? 'unmatched';
      metrics.httpRequests.inc({ method: ctx.method, route: String(route), status: String(ctx.status) });
      log.info({ reqId: id, method: ctx.method, path: ctx.path, status: ctx.status, ms: Math.round(performance.now() - started) }, 'http');
    }
  };
}

const isLoopback = (ip: string): boolean => ip === '127.0.0.1' || ip === '::1' || ip === '::ffff:127.0.0.1';
