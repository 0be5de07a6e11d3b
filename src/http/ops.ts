/** The operations endpoints: health, readiness, Prometheus metrics, and bind states for the local CLI. */
import Router from '@koa/router';
import type { Metrics } from '../ops/metrics.js';
import type { Readiness } from '../ops/readiness.js';
import { ServiceError } from '../services/errors.js';

export interface OpsView {
  ready(): Readiness;
  binds(): unknown[];
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
  // Bind states for `relais binds` on the same machine; remote callers use /api/admin/binds.
  router.get('/ops/binds', (ctx) => {
    if (!isLoopback(ctx.request.ip)) throw new ServiceError('forbidden', 'loopback_only');
    ctx.body = { data: ops.binds() };
  });
  return router;
}

const isLoopback = (ip: string): boolean => ip === '127.0.0.1' || ip === '::1' || ip === '::ffff:127.0.0.1';
