/**
 * Sessions of the web pages: log in with an email (or username) and password, get the access
 * token in an HttpOnly, SameSite=Strict cookie and a CSRF token the page sends back on every
 * change (see core/auth.ts). The console admits the gateway's admins only. Same login rules as
 * the APIs: the session service's failed-login limits, suspended and pending accounts refused.
 */
import jwt from 'jsonwebtoken';
import { z } from 'zod';
import type { Account } from '../../store/accounts.js';
import type { TokenClaims } from '../../services/credentials.js';
import { ServiceError } from '../../services/errors.js';
import type { Services } from '../../services/index.js';
import { csrfToken, origin, SESSION_COOKIE } from '../core/auth.js';
import { plain, type Dialect } from '../core/dialect.js';
import { Api, type ApiDeps } from '../core/route.js';

const login = z.object({
  email: z.string().min(1).max(254),
  password: z.string().min(1).max(200),
  /** Which pages: the console needs an admin. */
  app: z.enum(['console', 'dashboard']).default('dashboard'),
}).strict();

/** The web pages' own routes: plain `{message}` errors, tagged `web` in the OpenAPI document. */
const web: Dialect = { ...plain, name: 'web' };

/** What a page needs before anyone logs in. */
export interface WebSettings {
  tokenTtlSeconds: number;
  registration: 'open' | 'closed';
  activation: 'immediate' | 'sms_code';
  currency: string;
}

/** The base URL an existing client of each documented platform sets (README, "API overview"). */
const BASE_PATHS = [
  { dialect: 'sendwave', name: 'SendWave Pro v2.1', path: '/api', reference: 'sendwave' },
  { dialect: 'mifumo', name: 'Mifumo SMS, API-key integration', path: '/api/integration/v1/', reference: 'mifumo' },
  { dialect: 'mifumo', name: 'Mifumo SMS, complete reference', path: '/api/', reference: 'mifumo' },
  { dialect: 'flow', name: 'FLOW SMS (API_BASE_URL)', path: '/campaigns/api/', reference: 'flow' },
] as const;

export function mountWebSession(deps: ApiDeps, s: Services, settings: WebSettings): Api {
  const tokenTtlSeconds = settings.tokenTtlSeconds;
  const api = new Api('/web', web, deps);
  api.route({
    method: 'get', path: '/config', summary: 'What the web pages need before a login: registration, currency, the base URL of each dialect', auth: 'none',
    handler: ({ ctx }) => ({
      data: {
        registration: settings.registration, activation: settings.activation, currency: settings.currency,
        base_urls: BASE_PATHS.map((b) => ({ ...b, url: `${ctx.protocol}://${ctx.host}${b.path}` })),
      },
    }),
  });
  api.route({
    method: 'post', path: '/session', summary: 'Log in to the web pages: a session cookie and its CSRF token', auth: 'none', rate: 'auth', body: login,
    handler: async ({ ctx, body }) => {
      const session = await s.sessions.login(body.email, body.password, ctx.ip);
      if (body.app === 'console' && (session.account.role !== 'admin' || session.subAccount)) {
        // Not for this page: the token just issued is revoked at once, no cookie is set.
        const claims = jwt.decode(session.access) as TokenClaims;
        await s.sessions.logout(await s.credentials.actorForToken(claims, origin(ctx)));
        throw new ServiceError('forbidden', 'console_admins_only');
      }
      ctx.cookies.set(SESSION_COOKIE, session.access, {
        httpOnly: true, sameSite: 'strict', path: '/', secure: ctx.secure, overwrite: true, maxAge: tokenTtlSeconds * 1000,
      });
      return { data: view(session.account, session.subAccount?.id ?? null, csrfToken(s.credentials.jwtSecret, session.access)) };
    },
  });
  api.route({
    method: 'get', path: '/session', summary: 'The session of this cookie, and its CSRF token', auth: 'required',
    handler: ({ ctx, actor }) => ({ data: view(actor.account, actor.subAccountId, csrfToken(s.credentials.jwtSecret, ctx.cookies.get(SESSION_COOKIE) ?? '')) }),
  });
  api.route({
    method: 'delete', path: '/session', summary: 'Log out: the token stops working, the cookie goes', auth: 'required', status: 204,
    handler: async ({ ctx, actor }) => {
      await s.sessions.logout(actor);
      ctx.cookies.set(SESSION_COOKIE, null, { httpOnly: true, sameSite: 'strict', path: '/', secure: ctx.secure, overwrite: true });
      ctx.status = 204;
      return undefined;
    },
  });
  return api;
}

function view(account: Account, subAccountId: number | null, csrf: string) {
  return { csrf_token: csrf, account: { id: account.id, name: account.name, email: account.email, role: account.role }, sub_account_id: subAccountId };
}
