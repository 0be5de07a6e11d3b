/**
 * Route definitions shared by every dialect: each route declares its auth, rate-limit group and
 * zod schemas once; that one declaration validates requests and feeds the OpenAPI document.
 */
import { bodyParser } from '@koa/bodyparser';
import Router from '@koa/router';
import type Koa from 'koa';
import { z } from 'zod';
import type { CredentialService, Principal } from '../services/credentials.js';
import { ServiceError } from '../services/errors.js';
import type { Dialect } from './dialect.js';
import type { RateLimiter } from './rate-limit.js';
import { parseOrThrow } from './validate.js';

export type AuthLevel = 'none' | 'user' | 'admin';
export type RateGroup = 'send' | 'auth' | 'default';

export interface RouteSpec<B extends z.ZodType, Q extends z.ZodType> {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  /** Koa path, e.g. /messages/:id */
  path: string;
  summary: string;
  auth: AuthLevel;
  rate?: RateGroup;
  body?: B;
  query?: Q;
  handler: (ctx: Koa.Context, input: { body: z.output<B>; query: z.output<Q>; principal: Principal; params: Record<string, string> }) => Promise<unknown> | unknown;
}

export interface OpenApiOperation {
  method: string;
  path: string;
  summary: string;
  auth: AuthLevel;
  body?: z.ZodType;
  query?: z.ZodType;
  tag: string;
}

export interface ApiDeps {
  credentials: CredentialService;
  limiter: RateLimiter;
  limits: { send_per_minute: number; default_per_minute: number; auth_per_minute: number };
  bodyLimitKb: number;
}

export class Api {
  readonly router: Router;
  readonly operations: OpenApiOperation[] = [];

  constructor(readonly prefix: string, readonly dialect: Dialect, private readonly deps: ApiDeps) {
    this.router = new Router({ prefix });
    this.router.use(async (ctx, next) => {
      ctx.state.dialect = dialect;
      await next();
    });
    // Parsed after the dialect is known, so a bad or oversized body is answered in its shape.
    this.router.use(bodyParser({
      enableTypes: ['json'], jsonLimit: `${deps.bodyLimitKb}kb`, encoding: 'utf-8',
      onError: (err) => {
        const status = (err as { status?: number }).status;
        throw new ServiceError('bad_request', status === 413 ? `The request body is larger than ${deps.bodyLimitKb} KB.` : 'The request body is not valid JSON.', {}, { status: status === 413 ? 413 : 400 });
      },
    }));
  }

  route<B extends z.ZodType = z.ZodUndefined, Q extends z.ZodType = z.ZodUndefined>(spec: RouteSpec<B, Q>): this {
    this.operations.push({ method: spec.method, path: `${this.prefix}${spec.path}`.replace(/:(\w+)/g, '{$1}'), summary: spec.summary, auth: spec.auth, body: spec.body, query: spec.query, tag: this.dialect.name });
    this.router[spec.method](spec.path, async (ctx) => {
      const principal = spec.auth === 'none' ? (undefined as unknown as Principal) : await this.authenticate(ctx, spec.auth);
      this.limit(ctx, spec.rate ?? (spec.auth === 'none' ? 'auth' : 'default'), principal);
      const body = spec.body ? parseOrThrow(spec.body, (ctx.request as { body?: unknown }).body) : undefined;
      const query = spec.query ? parseOrThrow(spec.query, ctx.query) : undefined;
      const result = await spec.handler(ctx, { body: body as z.output<B>, query: query as z.output<Q>, principal, params: ctx.params as Record<string, string> });
      if (result !== undefined && ctx.body === undefined) ctx.body = result;
    });
    return this;
  }

  private async authenticate(ctx: Koa.Context, level: AuthLevel): Promise<Principal> {
    const header = ctx.get('authorization');
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match) throw new ServiceError('unauthenticated', 'Unauthenticated.');
    const principal = await this.deps.credentials.resolve(match[1]!);
    if (level === 'admin' && principal.account.role !== 'admin') throw new ServiceError('forbidden', "Cette action n'est pas autorisée.");
    ctx.state.principal = principal;
    return principal;
  }

  /** Per credential (or per IP before login) and per route group; headers on every answer. */
  private limit(ctx: Koa.Context, group: RateGroup, principal: Principal | undefined): void {
    const { limits } = this.deps;
    const limit = group === 'send' ? limits.send_per_minute : group === 'auth' ? limits.auth_per_minute : limits.default_per_minute;
    const who = principal ? `${principal.credential.kind}:${principal.credential.kind === 'token' ? principal.account.id : principal.credential.id}` : `ip:${ctx.ip}`;
    const r = this.deps.limiter.hit(`${who}|${group}`, limit);
    ctx.set('X-RateLimit-Limit', String(r.limit));
    ctx.set('X-RateLimit-Remaining', String(r.remaining));
    if (!r.allowed) {
      ctx.set('Retry-After', String(r.retryAfterSeconds));
      throw new ServiceError('rate_limited', 'Too Many Attempts.');
    }
  }
}

/** Laravel's length-aware paginator, the shape SendWave clients read. */
export function paginated<T>(rows: T[], total: number, page: number, perPage: number) {
  const lastPage = Math.max(1, Math.ceil(total / perPage));
  const from = rows.length ? (page - 1) * perPage + 1 : null;
  return { current_page: page, data: rows, from, last_page: lastPage, per_page: perPage, to: from === null ? null : from + rows.length - 1, total };
}

export const iso = (ms: number | null | undefined): string | null => (ms === null || ms === undefined ? null : new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z'));
