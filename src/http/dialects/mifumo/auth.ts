/**
 * Mifumo's /api/auth/: registration (with the operator's activation policy), phone
 * verification, login, refresh, logout, and the settings API (API keys and webhooks, seed 004).
 */
import { z } from 'zod';
import type { Services } from '../../../services/index.js';
import { EVENT_NAMES } from '../../../webhooks/events.js';
import { Api, idParam, iso, type ApiDeps } from '../../core/route.js';
import { envelope, mifumo } from './errors.js';
import type { MifumoRates } from './limits.js';
import { e164, timezone } from './schemas.js';
import { apiKeyView, mifumoUser, webhookView } from './views.js';

const ACTIVATION_MESSAGE = 'User created successfully. Please check your phone for the verification code to activate your account.';

export function mountAuth(deps: ApiDeps, s: Services, rates: MifumoRates): Api {
  const api = new Api('/api/auth', mifumo, deps, { caller: rates.api, anonymous: rates.anonymous });
  mountSessions(api, s);
  mountSettings(api, s);
  return api;
}

const optionalText = z.string().trim().max(150).optional();

function mountSessions(api: Api, s: Services): void {
  api.route({
    method: 'post', path: '/register/', summary: 'Create an account: active at once, or once the SMS code comes back (auth.activation)', auth: 'none', status: 201,
    body: z.object({
      email: z.email().max(190),
      first_name: z.string().trim().min(1).max(100),
      last_name: z.string().trim().max(100).default(''),
      phone_number: e164.optional(),
      password: z.string().min(8).max(200),
      password_confirm: z.string().optional(),
      timezone: timezone.optional(),
      business_name: optionalText, company_name: optionalText, subdomain: optionalText, country: optionalText,
    }).refine((b) => b.password_confirm === undefined || b.password_confirm === b.password, { path: ['password_confirm'], message: 'confirmed' }),
    handler: async ({ body }) => {
      const { password, password_confirm: _, email, phone_number, timezone: tz, ...profile } = body;
      const reg = await s.sessions.registerWithActivation({
        name: `${body.first_name} ${body.last_name}`.trim(), email, password, phone_number, timezone: tz,
        profile: Object.fromEntries(Object.entries(profile).filter((e): e is [string, string] => e[1] !== undefined)),
      });
      const active = reg.tokens !== null;
      return {
        message: active ? 'User created successfully.' : ACTIVATION_MESSAGE,
        user: mifumoUser(reg.account),
        email_verification_sent: false, sms_verification_sent: reg.smsSent,
        account_active: active, requires_activation: !active, activation_required: !active,
        tokens: reg.tokens,
      };
    },
  });
  api.route({
    method: 'post', path: '/verify-phone/', summary: 'The code sent by SMS at registration: the account becomes active and gets its tokens', auth: 'none',
    body: z.object({ phone_number: e164.optional(), email: z.email().optional(), code: z.string().trim().min(4).max(10) })
      .refine((b) => b.phone_number !== undefined || b.email !== undefined, { path: ['phone_number'], message: 'required' }),
    handler: async ({ body }) => {
      const session = await s.sessions.verifyPhone(body, body.code);
      return { message: 'Phone number verified. Your account is active.', user: mifumoUser(session.account), tokens: { access: session.access, refresh: session.refresh } };
    },
  });
  api.route({
    method: 'post', path: '/login/', summary: 'Log in with email and password: the user and a token pair', auth: 'none',
    body: z.object({ email: z.string().trim().min(1).max(190), password: z.string().min(1).max(200) }),
    handler: async ({ ctx, body }) => {
      const { account, access, refresh } = await s.sessions.login(body.email, body.password, ctx.ip, { refresh: true });
      return { message: 'Login successful', user: { ...mifumoUser(account), last_login_at: iso(Date.now()) }, tokens: { refresh, access } };
    },
  });
  api.route({
    method: 'post', path: '/token/refresh/', summary: 'A new access token for a refresh token', auth: 'none',
    body: z.object({ refresh: z.string().min(1) }),
    handler: async ({ body }) => ({ access: await s.sessions.refresh(body.refresh) }),
  });
  api.route({
    method: 'post', path: '/logout/', summary: 'Revoke the access token used for this call', auth: 'required',
    handler: async ({ actor }) => {
      await s.sessions.logout(actor);
      return { message: 'Logout successful' };
    },
  });
}

const KEY_SHOWN_ONCE = 'Copy the API key and secret now: they are not shown again.';

function mountSettings(api: Api, s: Services): void {
  api.route({
    method: 'get', path: '/settings/', summary: 'API keys and webhooks of the account', auth: 'required', permission: 'manage_api_keys',
    handler: async ({ actor }) => {
      const settings = await s.settings.read(actor);
      return envelope({ api_keys: settings.apiKeys.map(apiKeyView), webhooks: settings.webhooks.map(webhookView), webhook_events: EVENT_NAMES });
    },
  });
  api.route({
    method: 'post', path: '/keys/create/', summary: 'A new API key; the key and its secret are shown once', auth: 'required', permission: 'manage_api_keys', status: 201,
    body: z.object({ name: z.string().trim().min(1).max(100).default('API key') }),
    handler: async ({ body, actor }) => {
      const k = await s.settings.createKey(actor, body.name);
      return envelope({ ...apiKeyView(k.row), api_key: k.key, secret_key: k.signingSecret }, `API key created. ${KEY_SHOWN_ONCE}`);
    },
  });
  api.route({
    method: 'post', path: '/keys/:id/revoke/', summary: 'Revoke an API key: it stops working at once', auth: 'required', permission: 'manage_api_keys',
    handler: async ({ params, actor }) => envelope(apiKeyView(await s.credentials.revokeApiKey(actor, idParam(params.id))), 'API key revoked'),
  });
  api.route({
    method: 'post', path: '/keys/:id/regenerate/', summary: 'A new secret for an API key: the old one stops working at once', auth: 'required', permission: 'manage_api_keys',
    handler: async ({ params, actor }) => {
      const k = await s.settings.regenerateKey(actor, idParam(params.id));
      return envelope({ ...apiKeyView(k.row), api_key: k.key, secret_key: k.signingSecret }, `API key regenerated. ${KEY_SHOWN_ONCE}`);
    },
  });
  api.route({
    method: 'post', path: '/webhooks/create/', summary: 'A webhook for message events (message.sent, message.delivered, message.failed by default)', auth: 'required', permission: 'manage_webhooks', status: 201,
    body: z.object({
      url: z.string().trim().min(1).max(2000),
      events: z.array(z.enum(EVENT_NAMES)).min(1).default(['message.sent', 'message.delivered', 'message.failed']),
      name: z.string().trim().min(1).max(100).optional(),
      secret: z.string().min(16).max(200).optional(),
      is_active: z.boolean().default(true),
    }),
    handler: async ({ body, actor }) => {
      const w = await s.settings.createWebhook(actor, { ...body, name: body.name ?? hostOf(body.url), retry_limit: 3, timeout: 30 });
      return envelope(webhookView(w), 'Webhook created');
    },
  });
  api.route({
    method: 'post', path: '/webhooks/:id/toggle/', summary: 'Switch a webhook on or off', auth: 'required', permission: 'manage_webhooks',
    handler: async ({ params, actor }) => {
      const w = await s.webhooks.toggle(actor, idParam(params.id));
      return envelope(webhookView(w), w.is_active ? 'Webhook enabled' : 'Webhook disabled');
    },
  });
  api.route({
    method: 'delete', path: '/webhooks/:id/delete/', summary: 'Delete a webhook', auth: 'required', permission: 'manage_webhooks',
    handler: async ({ params, actor }) => envelope(webhookView(await s.webhooks.remove(actor, idParam(params.id))), 'Webhook deleted'),
  });
}

/** A webhook's default name: its host, as a settings page lists it. */
function hostOf(url: string): string {
  try {
    return new URL(url).host || 'webhook';
  } catch {
    return 'webhook'; // the service refuses the URL with a field error
  }
}
