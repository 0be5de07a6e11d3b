/**
 * Who is calling, resolved once per request into the Actor every service takes. Access tokens
 * are verified by koa-jwt (signature, expiry, and its isRevoked hook against the token ids the
 * credential service keeps); API keys (`rk_…`) sit beside them on the same
 * `Authorization: Bearer` header. The web pages (console, dashboard) hold the same access token
 * in an HttpOnly, SameSite=Strict session cookie instead; a request that changes something with
 * it must also carry the session's CSRF token and, when the browser says where it comes from,
 * come from this origin.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type Koa from 'koa';
import koaJwt from 'koa-jwt';
import { API_KEY_PREFIX, type CredentialService, type TokenClaims } from '../../services/credentials.js';
import { ServiceError } from '../../services/errors.js';
import type { Actor, Origin } from '../../services/policy.js';

export const origin = (ctx: Koa.Context): Origin => ({ ip: ctx.ip || null, userAgent: ctx.get('user-agent') || null });

export class Authenticator {
  private readonly jwt: koaJwt.Middleware;

  constructor(private readonly credentials: CredentialService) {
    this.jwt = koaJwt({
      secret: credentials.jwtSecret,
      algorithms: ['HS256'],
      key: 'claims',
      passthrough: true, // refusals are answered below, in the route's dialect
      getToken: (ctx) => bearer(ctx) ?? ctx.cookies.get(SESSION_COOKIE) ?? null,
      isRevoked: (_ctx, claims) => credentials.isRevoked(claims as Partial<TokenClaims>),
    });
  }

  /** The Actor of this request, or `unauthenticated`. */
  async actor(ctx: Koa.Context): Promise<Actor> {
    const token = bearer(ctx) ?? this.sessionToken(ctx);
    if (!token) throw new ServiceError('unauthenticated', 'no_credentials');
    if (token.startsWith(API_KEY_PREFIX)) return this.credentials.actorForApiKey(token, origin(ctx));
    await this.jwt(ctx, async () => undefined);
    const claims = ctx.state.claims as TokenClaims | undefined;
    if (!claims) throw new ServiceError('unauthenticated', 'invalid_token');
    return this.credentials.actorForToken(claims, origin(ctx));
  }

  /** The session cookie's token; for a request that changes something, only with its CSRF token and from this origin. */
  private sessionToken(ctx: Koa.Context): string | null {
    const token = ctx.cookies.get(SESSION_COOKIE);
    if (!token) return null;
    if (SAFE_METHODS.has(ctx.method)) return token;
    const sent = ctx.get(CSRF_HEADER);
    const expected = csrfToken(this.credentials.jwtSecret, token);
    if (sent.length !== expected.length || !timingSafeEqual(Buffer.from(sent), Buffer.from(expected))) throw new ServiceError('forbidden', 'csrf_failed');
    const from = ctx.get('origin');
    // Not ctx.origin: Koa 3 answers the Origin header itself there.
    if (from && from !== `${ctx.protocol}://${ctx.host}`) throw new ServiceError('forbidden', 'csrf_failed');
    return token;
  }
}

export const SESSION_COOKIE = 'relais_session';
export const CSRF_HEADER = 'x-csrf-token';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Bound to the session's token: a page reads it once (GET /web/session), a forged request cannot. */
export function csrfToken(secret: string, sessionToken: string): string {
  return createHmac('sha256', secret).update('csrf\0').update(sessionToken).digest('base64url');
}

function bearer(ctx: Koa.Context): string | null {
  return /^Bearer\s+(\S+)$/i.exec(ctx.get('authorization'))?.[1] ?? null;
}
