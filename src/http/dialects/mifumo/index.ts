/**
 * Mifumo SMS (../shared/seeds/002–004): Django paths ending in `/` under /api/. The trailing
 * slash is what tells `/api/auth/login/` (here) from SendWave's `/api/auth/login`. Like every
 * dialect (core/dialect.ts), it only translates.
 */
import { z } from 'zod';
import type { Account } from '../../../services/accounts.js';
import type { Services } from '../../../services/index.js';
import { messageUuid } from '../../../services/message-uuid.js';
import type { SendSummary } from '../../../services/sending.js';
import { Api, iso, type ApiDeps } from '../../core/route.js';
import { envelope, mifumo } from './errors.js';

export { mifumo };

/** The documented user object, from what an account holds. */
export function mifumoUser(a: Account) {
  const [first = '', ...rest] = a.name.trim().split(/\s+/);
  return {
    id: a.id, email: a.email, first_name: first, last_name: rest.join(' '), full_name: a.name, short_name: first,
    phone_number: null, timezone: 'UTC', is_verified: true, is_active: a.status === 'active', phone_verified: false,
    email_notifications: true, sms_notifications: false, created_at: iso(a.created_at), updated_at: iso(a.created_at),
  };
}

export function mountMifumo(deps: ApiDeps, s: Services): Api[] {
  const auth = new Api('/api/auth', mifumo, deps);
  auth.route({
    method: 'post', path: '/login/', summary: 'Log in with email and password: the user and a token pair', auth: 'none',
    body: z.object({ email: z.string().min(1), password: z.string().min(1) }),
    handler: async ({ body }) => {
      const { account, access, refresh } = await s.sessions.login(body.email, body.password, { refresh: true });
      return { message: 'Login successful', user: { ...mifumoUser(account), last_login_at: iso(Date.now()) }, tokens: { access, refresh } };
    },
  });
  auth.route({
    method: 'post', path: '/token/refresh/', summary: 'A new access token for a refresh token', auth: 'none',
    body: z.object({ refresh: z.string().min(1) }),
    handler: async ({ body }) => ({ access: await s.sessions.refresh(body.refresh) }),
  });
  auth.route({
    method: 'post', path: '/logout/', summary: 'Revoke the access token used for this call', auth: 'required',
    handler: async ({ actor }) => {
      await s.sessions.logout(actor);
      return { message: 'Logout successful' };
    },
  });
  return [auth, mountIntegration(deps, s)];
}

/** E.164 as the Mifumo documents require it: `+`, a country code, no national form. */
const e164 = z.string().trim().regex(/^\+[1-9]\d{7,14}$/, 'e164');

/** The integration API, for API keys: `/api/integration/v1/…`. */
function mountIntegration(deps: ApiDeps, s: Services): Api {
  const api = new Api('/api/integration/v1', mifumo, deps);
  api.route({
    method: 'post', path: '/sms/send/', summary: 'Send one text to E.164 recipients (Idempotency-Key honoured)', auth: 'required', permission: 'send_sms', rate: 'send',
    body: z.object({
      message: z.string().min(1).max(5000),
      recipients: z.array(e164).min(1).max(10_000),
      sender_id: z.string().trim().min(1).max(15).optional(),
      webhook_url: z.string().trim().min(1).max(2000).optional(),
    }),
    handler: async ({ ctx, body, actor }) => sentView((await s.sending.send(actor, body, ctx.get('idempotency-key') || undefined)).summary),
  });
  return api;
}

export function sentView(r: SendSummary) {
  const uuids = r.message_ids.map((id) => messageUuid(id, r.created_at));
  return envelope({
    message_id: uuids[0] ?? null, status: 'queued', total: r.total, sent: r.accepted, failed: r.failed, sms_count: r.sms_count, cost: r.total_cost,
    sender_id: r.sender_id, messages: uuids.map((uuid) => ({ message_id: uuid, status: 'queued' })),
    failures: r.failures.map((f) => ({ recipient: f.recipient, error: f.error, reason: f.reason })),
  }, 'SMS sent successfully');
}
