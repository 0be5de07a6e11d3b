/**
 * The Koa application: request ids and logs, the operations endpoints, every dialect on one
 * listener, and errors — service errors, Koa's own, unknown paths and methods — rendered in the
 * shape of the dialect that owns the path.
 */
import { randomUUID } from 'node:crypto';
import Koa from 'koa';
import type { Logger } from 'pino';
import type { Config } from '../../config/schema.js';
import type { Metrics } from '../../ops/metrics.js';
import { ServiceError } from '../../services/errors.js';
import type { Store } from '../../store/db.js';
import { StorageUnavailable } from '../../store/health.js';
import type { Services } from '../../services/index.js';
import { mountAdmin } from '../dialects/admin/index.js';
import { flow, mountFlow } from '../dialects/flow/index.js';
import { mifumo, mountMifumo } from '../dialects/mifumo/index.js';
import { mountSendwave, sendwave } from '../dialects/sendwave/index.js';
import { opsRouter, type OpsView } from '../ops.js';
import { mountWebSession } from '../web/session.js';
import { webPages } from '../web/static.js';
import { Authenticator } from './auth.js';
import { plain, type Dialect } from './dialect.js';
import { openApiDocument } from './openapi.js';
import { limiterFor } from './rate-limit.js';
import type { Api, ApiDeps } from './route.js';

export type { OpsView };

/** What a client is told to wait when the database cannot write (a full disk is not fixed in a second). */
const STORAGE_RETRY_S = 30;

export interface AppDeps {
  log: Logger;
  metrics: Metrics;
  ops: OpsView;
  services: Services;
  config: Config;
  version: string;
  /** Its backend picks the rate limiter: in memory (SQLite, one node) or shared (PostgreSQL). Absent: in memory. */
  store?: Pick<Store, 'backend' | 'repos'>;
}

/**
 * Which dialect owns a path nobody matched. Where SendWave and Mifumo share a path
 * (`/api/auth/login` and `/api/auth/login/`), the trailing slash tells them apart.
 */
export function dialectOf(path: string): Dialect {
  if (path.startsWith('/campaigns/api/')) return flow;
  if (path.startsWith('/api/')) return path.endsWith('/') ? mifumo : sendwave;
  return plain;
}

export function createApp(deps: AppDeps): Koa {
  // Only behind a proxy the operator vouches for may X-Forwarded-* say who the client is.
  const app = new Koa({ proxy: deps.config.http.trust_proxy });
  app.on('error', connectionError(deps.log));
  app.use(requestLog(deps.log, deps.metrics));
  app.use(renderErrors(deps.log));
  const ops = opsRouter(deps.metrics, deps.ops);
  app.use(ops.routes());
  app.use(webPages());

  const apiDeps: ApiDeps = {
    auth: new Authenticator(deps.services.credentials), limiter: limiterFor(deps.store), limits: deps.config.rate_limits, bodyLimitKb: deps.config.http.body_limit_kb,
  };
  const apis: Api[] = [
    mountWebSession(apiDeps, deps.services, {
      tokenTtlSeconds: deps.config.auth.token_ttl, registration: deps.config.auth.registration, activation: deps.config.auth.activation, currency: deps.config.billing.currency,
    }),
    ...mountAdmin(apiDeps, deps.services),
    ...mountSendwave(apiDeps, deps.services),
    ...mountMifumo(apiDeps, deps.services),
    ...mountFlow(apiDeps, deps.services, { sendWaitMs: deps.config.http.flow_send_wait * 1000 }),
  ];
  const document = openApiDocument(apis.flatMap((a) => a.operations), deps.version);
  app.use(async (ctx, next) => {
    if (ctx.path !== '/api/openapi.json' || ctx.method !== 'GET') return next();
    ctx.body = document;
  });
  for (const api of apis) {
    const routes = api.router.routes() as Koa.Middleware;
    const allowed = api.router.allowedMethods({
      throw: true,
      methodNotAllowed: () => new ServiceError('method_not_allowed', 'method_not_allowed'),
      notImplemented: () => new ServiceError('method_not_allowed', 'method_not_allowed'),
    }) as Koa.Middleware;
    // A request only meets the routers whose prefix it has: matching a path against every route
    // of every dialect cost more than the rest of a small request's routing.
    const { prefix } = api;
    app.use((ctx, next) => (ctx.path.startsWith(prefix) ? routes(ctx, () => allowed(ctx, next)) : next()));
  }
  return app;
}

/** Client-side breakage (a socket cut mid-request, bytes that are not HTTP): not the server's fault. */
const CLIENT_BREAKAGE = /^(HPE_|ECONNRESET$|EPIPE$|ECONNABORTED$|ERR_STREAM_PREMATURE_CLOSE$)/;

/**
 * What Koa meets outside the middleware — a client's socket breaking while a request is read or
 * answered, a streamed answer failing — goes to the JSON log instead of Koa's stack trace on
 * stderr. Message and code only: a parser error carries the raw bytes it choked on, which may
 * hold the next request's Authorization header.
 */
function connectionError(log: Logger) {
  return (err: { message?: string; code?: string }, ctx?: Koa.Context) => {
    const client = CLIENT_BREAKAGE.test(err.code ?? '') || err.message === 'request aborted';
    log[client ? 'debug' : 'warn']({ reqId: ctx?.state?.requestId, err: { message: err.message, code: err.code } }, 'http connection error');
  };
}

/** Service errors and Koa's own (bad JSON, body too large) in the shape of the path's dialect. */
function renderErrors(log: Logger): Koa.Middleware {
  return async (ctx, next) => {
    try {
      await next();
      // Nothing answered (no route, and the routers' method check found none either).
      if (ctx.status === 404 && ctx.body == null) throw new ServiceError('not_found', 'unknown_path', {}, { path: ctx.path });
    } catch (err) {
      const dialect: Dialect = ctx.state.dialect ?? dialectOf(ctx.path);
      let serviceError = toServiceError(err, ctx);
      if (!serviceError) {
        log.error({ reqId: ctx.state.requestId, err }, 'request failed');
        serviceError = new ServiceError('internal', 'server_error');
      }
      const out = dialect.renderError(serviceError);
      ctx.status = out.status;
      const retryAfter = serviceError.params.retry_after;
      if ((serviceError.kind === 'rate_limited' || serviceError.kind === 'unavailable') && retryAfter !== undefined) ctx.set('Retry-After', String(retryAfter));
      for (const [k, v] of Object.entries(out.headers ?? {})) ctx.set(k, v);
      ctx.body = out.body;
    }
  };
}

function toServiceError(err: unknown, ctx: Koa.Context): ServiceError | null {
  // Nothing of the request committed: the store's transaction rolled back.
  if (err instanceof StorageUnavailable) return new ServiceError('unavailable', 'storage_unavailable', {}, { retry_after: STORAGE_RETRY_S });
  if (err instanceof ServiceError) {
    if (err.code === 'method_not_allowed') return new ServiceError('method_not_allowed', 'method_not_allowed', {}, { method: ctx.method });
    return err;
  }
  const e = err as { status?: number; type?: string };
  if (typeof e.status !== 'number' || e.status >= 500) return null;
  if (e.status === 413) return new ServiceError('payload_too_large', 'body_too_large');
  if (e.status === 415) return new ServiceError('unsupported_media_type', 'json_only');
  if (e.status === 400 && e.type === 'entity.parse.failed') return new ServiceError('bad_request', 'invalid_json');
  return new ServiceError('bad_request', 'bad_request');
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
      log.info({ reqId: id, method: ctx.method, path: ctx.path, status: ctx.status, ms: Math.round(performance.now() - started), account: ctx.state.actor?.account?.id }, 'http');
    }
  };
}
