/**
 * Who is calling, resolved once per request into the Actor every service takes. Access tokens
 * are verified by koa-jwt (signature, expiry, and its isRevoked hook against the token ids the
 * credential service keeps); API keys (`rk_…`) sit beside them on the same
 * `Authorization: Bearer` header.
 */
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
      getToken: (ctx) => bearer(ctx),
      isRevoked: (_ctx, claims) => credentials.isRevoked(claims as Partial<TokenClaims>),
    });
  }

  /** The Actor of this request, or `unauthenticated`. */
  async actor(ctx: Koa.Context): Promise<Actor> {
    const token = bearer(ctx);
    if (!token) throw new ServiceError('unauthenticated', 'no_credentials');
    if (token.startsWith(API_KEY_PREFIX)) return this.credentials.actorForApiKey(token, origin(ctx));
    await this.jwt(ctx, async () => undefined);
    const claims = ctx.state.claims as TokenClaims | undefined;
    if (!claims) throw new ServiceError('unauthenticated', 'invalid_token');
    return this.credentials.actorForToken(claims, origin(ctx));
  }
}

function bearer(ctx: Koa.Context): string | null {
  return /^Bearer\s+(\S+)$/i.exec(ctx.get('authorization'))?.[1] ?? null;
}
