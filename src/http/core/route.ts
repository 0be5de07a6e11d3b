/**
 * Route declaration shared by every dialect: each route declares its path (matched exactly,
 * trailing slash included), whether it needs a caller, the permission it needs, its rate-limit
 * group and its zod schemas, once. That one declaration authenticates, refuses early, parses,
 * validates and feeds the OpenAPI document; the handler makes the service call and renders.
 */
import { bodyParser } from '@koa/bodyparser';
import Router from '@koa/router';
import type Koa from 'koa';
import type { z } from 'zod';
import { ServiceError } from '../../services/errors.js';
import { authorize, type Actor, type Permission } from '../../services/policy.js';
import type { Authenticator } from './auth.js';
import type { Dialect } from './dialect.js';
import type { Limiter } from './rate-limit.js';
import type { RateLimits } from '../../config/schema.js';
import { parseOrThrow, refuseMalformedText } from './validate.js';

export type RateGroup = 'send' | 'auth' | 'default';
/** A limit a dialect documents for some of its operations (Mifumo: per operation, some per hour). */
export interface RateRule {
  group: string;
  limit: number;
  per: 'minute' | 'hour';
}

interface RouteBase<B extends z.ZodType, Q extends z.ZodType> {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  /** Koa path under the API's prefix, e.g. /messages/:id */
  path: string;
  summary: string;
  rate?: RateGroup | RateRule;
  body?: B;
  query?: Q;
  /** Status of a successful answer (200 unless said). */
  status?: number;
}

interface Input<B extends z.ZodType, Q extends z.ZodType> {
  ctx: Koa.Context;
  body: z.output<B>;
  query: z.output<Q>;
  params: Record<string, string>;
}

export type RouteSpec<B extends z.ZodType, Q extends z.ZodType> =
  | (RouteBase<B, Q> & { auth: 'none'; handler: (input: Input<B, Q>) => Promise<unknown> | unknown })
  | (RouteBase<B, Q> & { auth: 'required'; permission?: Permission; handler: (input: Input<B, Q> & { actor: Actor }) => Promise<unknown> | unknown });

export interface OpenApiOperation {
  method: string;
  path: string;
  summary: string;
  auth: boolean;
  permission?: Permission | undefined;
  body?: z.ZodType | undefined;
  query?: z.ZodType | undefined;
  tag: string;
}

export interface DefaultRates {
  caller: RateGroup | RateRule;
  anonymous: RateGroup | RateRule;
}

export interface ApiDeps {
  auth: Authenticator;
  limiter: Limiter;
  limits: RateLimits;
  bodyLimitKb: number;
}

export class Api {
  readonly router: Router;
  readonly operations: OpenApiOperation[] = [];
  private readonly prelude: Koa.Middleware[];

  /** `rates`: the limits of routes that name none (a dialect may document its own). */
  constructor(readonly prefix: string, readonly dialect: Dialect, private readonly deps: ApiDeps, private readonly rates: DefaultRates = { caller: 'default', anonymous: 'auth' }) {
    this.router = new Router({ prefix, strict: true });
    this.prelude = [
      async (ctx, next) => {
        ctx.state.dialect = dialect;
        await next();
      },
      // Parsed after the dialect is known, so a bad or oversized body is answered in its shape.
      bodyParser({
        enableTypes: ['json'], jsonLimit: `${deps.bodyLimitKb}kb`, encoding: 'utf-8',
        onError: (err) => {
          if ((err as { status?: number }).status === 413) throw new ServiceError('payload_too_large', 'body_too_large', {}, { limit_kb: deps.bodyLimitKb });
          throw new ServiceError('bad_request', 'invalid_json');
        },
      }),
    ];
  }

  route<B extends z.ZodType = z.ZodUndefined, Q extends z.ZodType = z.ZodUndefined>(spec: RouteSpec<B, Q>): this {
    const permission = spec.auth === 'required' ? spec.permission : undefined;
    this.operations.push({
      method: spec.method, path: `${this.prefix}${spec.path}`.replace(/:(\w+)/g, '{$1}'), summary: spec.summary,
      auth: spec.auth === 'required', permission, body: spec.body, query: spec.query, tag: this.dialect.name,
    });
    this.router[spec.method](spec.path, ...this.prelude, async (ctx) => {
      const actor = spec.auth === 'required' ? await this.deps.auth.actor(ctx) : null;
      if (actor) ctx.state.actor = actor;
      await this.limit(ctx, spec.rate ?? (actor ? this.rates.caller : this.rates.anonymous), actor);
      if (actor && permission) authorize(actor, permission);
      const rawBody = (ctx.request as { body?: unknown }).body;
      if (spec.body) refuseMalformedText(rawBody);
      if (spec.query) refuseMalformedText(ctx.query);
      const input = {
        ctx,
        body: (spec.body ? parseOrThrow(spec.body, rawBody) : undefined) as z.output<B>,
        query: (spec.query ? parseOrThrow(spec.query, ctx.query) : undefined) as z.output<Q>,
        params: ctx.params as Record<string, string>,
      };
      const result = spec.auth === 'required' ? await spec.handler({ ...input, actor: actor! }) : await spec.handler(input);
      if (result !== undefined && ctx.body === undefined) {
        ctx.status = spec.status ?? 200;
        ctx.body = result;
      }
    });
    return this;
  }

  /** Per credential (or per IP before login) and per route group; headers on every answer. */
  private async limit(ctx: Koa.Context, rate: RateGroup | RateRule, actor: Actor | null): Promise<void> {
    const rule = typeof rate === 'string' ? this.groupRule(rate) : rate;
    const windowMs = rule.per === 'hour' ? 3_600_000 : 60_000;
    const r = await this.deps.limiter.hit(`${actor ? credentialKey(actor) : `ip:${ctx.ip}`}|${rule.group}`, rule.limit, windowMs);
    ctx.set('X-RateLimit-Limit', String(r.limit));
    ctx.set('X-RateLimit-Remaining', String(r.remaining));
    ctx.set('X-RateLimit-Reset', String(r.resetSeconds));
    if (!r.allowed) {
      ctx.set('Retry-After', String(r.retryAfterSeconds));
      throw new ServiceError('rate_limited', 'rate_limited', {}, { retry_after: r.retryAfterSeconds });
    }
  }

  private groupRule(group: RateGroup): RateRule {
    const { limits } = this.deps;
    const limit = group === 'send' ? limits.send_per_minute : group === 'auth' ? limits.auth_per_minute : limits.default_per_minute;
    return { group, limit, per: 'minute' };
  }
}

/** Tokens of one account share a budget; each API key has its own. */
function credentialKey(actor: Actor): string {
  const c = actor.credential;
  return c.kind === 'api_key' ? `key:${c.id}` : `account:${actor.account.id}:${actor.subAccountId ?? 0}`;
}

/**
 * A path id names a row only in its canonical form — decimal digits, no sign, no leading zero,
 * no exponent, no padding — so `1.0`, `0x10`, `1e0` or ` 1` are not another spelling of `1`:
 * they name nothing (404, as a foreign id does).
 */
export function idParam(raw: string | undefined): number {
  const id = raw !== undefined && /^[1-9]\d{0,15}$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(id)) throw new ServiceError('not_found', 'not_found');
  return id;
}

export const iso = (ms: number | null | undefined): string | null => (ms === null || ms === undefined ? null : new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z'));
