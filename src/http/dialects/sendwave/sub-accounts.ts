/** SendWave sub-accounts (/api/sub-accounts…), and what an account reads of its money (packages, orders, stats). */
import { z } from 'zod';
import type { OrderRecord, PackageRecord } from '../../../services/billing.js';
import type { Services } from '../../../services/index.js';
import type { SubAccountView } from '../../../services/sub-accounts.js';
import { SUB_ACCOUNT_ROLES } from '../../../store/tables.js';
import { idParam, iso, type Api } from '../../core/route.js';
import { isoDate, isoEndDate } from '../../core/validate.js';
import { pageOf, pageQuery, paginated } from './paging.js';
import { resource } from './resource.js';

export const subAccountView = (s: SubAccountView) => ({
  id: s.id, name: s.name, email: s.email, role: s.role, permissions: s.granted, effective_permissions: s.effective, status: s.status,
  sms_credit_limit: s.credit_limit, credits_used: s.credits_used, credits_available: s.credits_available, created_at: iso(s.created_at), updated_at: iso(s.updated_at),
});

export const packageView = (p: PackageRecord) => ({
  id: p.id, name: p.name, sms_count: p.sms_count, bonus_sms: p.bonus_sms, price: p.price, currency: p.currency, validity_days: p.validity_days, is_active: p.is_active === 1,
});

export const orderView = (o: OrderRecord) => ({
  id: o.id, uuid: o.uuid, account_id: o.account_id, package_id: o.package_id, status: o.status, payment_method: o.payment_method, provider: o.provider,
  price: o.price, currency: o.currency, credits: o.credits, created_at: iso(o.created_at), decided_at: iso(o.decided_at),
});

const fields = {
  name: z.string().trim().min(1).max(100),
  email: z.email().max(190),
  password: z.string().min(8).max(200),
  role: z.enum(SUB_ACCOUNT_ROLES),
  sms_credit_limit: z.number().int().min(0).nullable(),
};
const createBody = z.object({ ...fields, role: fields.role.default('sender'), sms_credit_limit: fields.sms_credit_limit.optional() });

export function mountSubAccounts(api: Api, s: Services): void {
  const permission = 'manage_sub_accounts';
  resource(api, {
    path: '/sub-accounts', permission, view: subAccountView,
    list: { summary: 'Sub-accounts of the account', run: (actor) => s.subAccounts.list(actor) },
    create: { summary: 'Create a sub-account (role admin, manager, sender or viewer)', body: createBody, message: 'Sous-compte créé', run: (actor, b) => s.subAccounts.create(actor, b) },
    get: { summary: 'One sub-account', run: (actor, id) => s.subAccounts.get(actor, id) },
    update: { summary: 'Update a sub-account (a new role brings its default permissions)', body: z.object(fields).partial(), message: 'Sous-compte mis à jour', run: (actor, id, b) => s.subAccounts.update(actor, id, b) },
    remove: { summary: 'Delete a sub-account (its logins end at once)', message: 'Sous-compte supprimé', run: (actor, id) => s.subAccounts.remove(actor, id) },
  });
  api.route({
    method: 'post', path: '/sub-accounts/:id/permissions', summary: 'Replace its permissions (the eight documented ones)', auth: 'required', permission,
    body: z.object({ permissions: z.array(z.string()).max(20) }),
    handler: async ({ params, body, actor }) => ({ message: 'Permissions mises à jour', data: subAccountView(await s.subAccounts.setPermissions(actor, idParam(params.id), body.permissions)) }),
  });
  for (const [action, word] of [['suspend', 'Sous-compte suspendu'], ['activate', 'Sous-compte activé']] as const) {
    api.route({
      method: 'post', path: `/sub-accounts/:id/${action}`, summary: action === 'suspend' ? 'Suspend: its tokens and keys are refused at once' : 'Reactivate', auth: 'required', permission,
      handler: async ({ params, actor }) => ({ message: word, data: subAccountView(await s.subAccounts[action](actor, idParam(params.id))) }),
    });
  }
  api.route({
    method: 'post', path: '/sub-accounts/:id/credits', summary: 'Raise its credit limit', auth: 'required', permission,
    body: z.object({ amount: z.number().int().min(1) }),
    handler: async ({ params, body, actor }) => ({ message: 'Crédits ajoutés', data: subAccountView(await s.subAccounts.addCredits(actor, idParam(params.id), body.amount)) }),
  });
}

export function mountBilling(api: Api, s: Services): void {
  api.route({
    method: 'get', path: '/packages', summary: 'SMS packages on sale', auth: 'required', permission: 'view_balance',
    handler: async ({ actor }) => ({ data: (await s.billing.packages(actor)).map(packageView) }),
  });
  api.route({
    method: 'post', path: '/packages/:id/purchase', summary: 'Order a package: pending until the operator confirms the payment', auth: 'required', permission: 'manage_billing', status: 201,
    body: z.object({ payment_method: z.string().max(50).optional(), provider: z.string().max(50).optional() }),
    handler: async ({ params, body, actor }) => ({ message: 'Commande enregistrée', data: orderView(await s.billing.purchase(actor, idParam(params.id), { method: body.payment_method, provider: body.provider })) }),
  });
  api.route({
    method: 'get', path: '/orders', summary: "The account's package orders", auth: 'required', permission: 'view_balance',
    handler: async ({ actor }) => ({ data: (await s.billing.orders(actor)).map(orderView) }),
  });
  api.route({
    method: 'get', path: '/stats/daily', summary: 'Delivered, failed and pending messages per UTC day (the dashboard chart)', auth: 'required', permission: 'view_analytics',
    query: z.object({ days: z.coerce.number().int().min(1).max(92).default(14) }),
    handler: async ({ query, actor }) => ({ data: await s.billing.daily(actor, query.days) }),
  });
  api.route({
    method: 'get', path: '/credits/transactions', summary: "The account's credit movements, newest first (a sub-account: its own)", auth: 'required', permission: 'view_balance', query: pageQuery,
    handler: async ({ query, actor }) => paginated(await s.billing.movements(actor, pageOf(query)), (t) => ({
      id: t.id, amount: t.amount, balance_after: t.balance_after, reason: t.reason, reference: t.reference, sub_account_id: t.sub_account_id, created_at: iso(t.created_at),
    })),
  });
  api.route({
    method: 'get', path: '/stats', summary: 'Messages of a period: sent, delivered, failed, delivery rate, cost (the account, or one sub-account)', auth: 'required', permission: 'view_analytics',
    query: z.object({ start_date: isoDate.optional(), end_date: isoEndDate.optional(), sub_account_id: z.coerce.number().int().positive().optional() }),
    handler: async ({ query, actor }) => {
      const st = await s.billing.stats(actor, { from: query.start_date, to: query.end_date, subAccountId: query.sub_account_id });
      return { data: { ...st, from: iso(st.from), to: iso(st.to) } };
    },
  });
}
