/** The operations endpoints: health, readiness, Prometheus metrics, and bind states, status and reload for the local CLI (loopback only). */
import Router from '@koa/router';
import { ConfigError } from '../config/load.js';
import type { Metrics } from '../ops/metrics.js';
import type { Readiness } from '../ops/readiness.js';
import type { ReloadReport } from '../ops/reload.js';
import type { GatewayStatus } from '../ops/status.js';
import { ServiceError } from '../services/errors.js';

export interface OpsView {
  ready(): Readiness;
  binds(): unknown[];
  reload(): Promise<ReloadReport>;
  status(): Promise<GatewayStatus>;
}

export function opsRouter(metrics: Metrics, ops: OpsView): Router {
  const router = new Router({ strict: true });
  router.get('/healthz', (ctx) => {
    ctx.body = { status: 'ok' };
  });
  router.get('/readyz', (ctx) => {
    const r = ops.ready();
    ctx.status = r.status === 'not ready' ? 503 : 200;
    ctx.body = r;
  });
  router.get('/metrics', async (ctx) => {
    ctx.type = metrics.registry.contentType;
    ctx.body = await metrics.registry.metrics();
  });
  // For the CLI on the same machine (`relais binds`, `status`, `reload`); remote callers use /api/admin/*.
  router.use('/ops', async (ctx, next) => {
    if (!isLoopback(ctx.request.ip)) throw new ServiceError('forbidden', 'loopback_only');
    await next();
  });
  router.get('/ops/binds', (ctx) => {
    ctx.body = { data: ops.binds() };
  });
  router.get('/ops/status', async (ctx) => {
    ctx.body = { data: await ops.status() };
  });
  // The config file is the authority, not the caller.
  router.post('/ops/reload', async (ctx) => {
    try {
      ctx.body = { data: await ops.reload() };
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      ctx.status = 422;
      ctx.body = { message: `invalid configuration in ${err.file}: nothing was changed`, errors: err.problems };
    }
  });
  return router;
}

const isLoopback = (ip: string): boolean => ip === '127.0.0.1' || ip === '::1' || ip === '::ffff:127.0.0.1';
