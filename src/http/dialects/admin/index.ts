/**
 * The operator's admin API under /api/admin, at fixed paths provisioning scripts rely on, in
 * SendWave's shapes (it sits under SendWave's /api). Every route needs an operator permission.
 */
import { z } from 'zod';
import type { Services } from '../../../services/index.js';
import { MESSAGE_STATES } from '../../../store/tables.js';
import { Api, idParam, iso, type ApiDeps } from '../../core/route.js';
import { isoDate, isoEndDate } from '../../core/validate.js';
import { mountBlacklist } from '../sendwave/blacklist.js';
import { sendwave } from '../sendwave/errors.js';
import { pageOf, pageQuery, paginated } from '../sendwave/paging.js';
import { resource } from '../sendwave/resource.js';
import { orderView, packageView } from '../sendwave/sub-accounts.js';
import { accountView, senderIdView } from '../sendwave/views.js';

export function mountAdmin(deps: ApiDeps, s: Services): Api[] {
  const api = new Api('/api/admin', sendwave, deps);
  mountAccounts(api, s);
  mountSenderIds(api, s);
  mountBlacklist(api, s, 'global');
  mountBilling(api, s);
  api.route({
    method: 'get', path: '/binds', summary: 'SMPP binds: state and counters', auth: 'required', permission: 'operator.gateway',
    handler: ({ actor }) => ({ data: s.gateway.binds(actor) }),
  });
  api.route({
    method: 'get', path: '/routes', summary: 'Prefix routes, longest first, and the default route', auth: 'required', permission: 'operator.gateway',
    handler: ({ actor }) => {
      const r = s.gateway.routes(actor);
      return { data: r.routes, default_route: r.default_route };
    },
  });
  mountMessages(api, s);
  api.route({
    method: 'get', path: '/routes/lookup', summary: 'Which operator gets this number, by which prefix', auth: 'required', permission: 'operator.gateway',
    query: z.object({ number: z.string().min(1).max(40) }),
    handler: async ({ query, actor }) => ({ data: await s.gateway.lookup(actor, query.number) }),
  });
  api.route({
    method: 'get', path: '/status', summary: 'Per operator and bind: state and since when, TPS configured and achieved, window, queue depth, the last minute', auth: 'required', permission: 'operator.gateway',
    handler: async ({ actor }) => ({ data: await s.gateway.status(actor) }),
  });
  api.route({
    method: 'post', path: '/reload', summary: 'Re-read the config file and apply it live (a bad one: 422 naming every key, nothing changed)', auth: 'required', permission: 'operator.gateway',
    handler: async ({ actor }) => ({ message: 'Configuration reloaded', data: await s.gateway.reload(actor) }),
  });
  return [api];
}

function mountAccounts(api: Api, s: Services): void {
  api.route({
    method: 'get', path: '/accounts', summary: 'Every account with its balance and status', auth: 'required', permission: 'operator.accounts', query: pageQuery,
    handler: async ({ query, actor }) => paginated(await s.accounts.list(actor, pageOf(query)), accountView),
  });
  api.route({
    method: 'post', path: '/accounts/:id/credits', summary: 'Add (or, negative, remove) credits', auth: 'required', permission: 'operator.credits',
    body: z.object({ amount: z.number().int(), reference: z.string().max(200).optional() }),
    handler: async ({ params, body, actor }) => {
      const id = idParam(params.id);
      const balance = await s.credits.adjust(actor, id, body.amount, body.reference);
      return { message: body.amount > 0 ? 'Crédits ajoutés' : 'Crédits retirés', data: { account_id: id, amount: body.amount, balance } };
    },
  });
  for (const [action, status] of [['suspend', 'suspended'], ['activate', 'active']] as const) {
    api.route({
      method: 'post', path: `/accounts/:id/${action}`, summary: `${action === 'suspend' ? 'Suspend' : 'Reactivate'} an account`, auth: 'required', permission: 'operator.accounts',
      handler: async ({ params, actor }) => ({ data: accountView(await s.accounts.setStatus(actor, idParam(params.id), status)) }),
    });
  }
}

function mountSenderIds(api: Api, s: Services): void {
  const view = (r: Parameters<typeof senderIdView>[0]) => ({ ...senderIdView(r), account_id: r.account_id });
  api.route({
    method: 'get', path: '/sender-ids', summary: 'Sender IDs of every account, by status', auth: 'required', permission: 'operator.sender_ids',
    query: z.object({ status: z.enum(['pending', 'approved', 'rejected']).optional() }),
    handler: async ({ query, actor }) => ({ data: (await s.senderIds.listByStatus(actor, query.status)).map(view) }),
  });
  for (const [action, status] of [['approve', 'approved'], ['reject', 'rejected']] as const) {
    api.route({
      method: 'post', path: `/sender-ids/:id/${action}`, summary: `${action === 'approve' ? 'Approve' : 'Reject'} a sender ID`, auth: 'required', permission: 'operator.sender_ids',
      handler: async ({ params, actor }) => ({ data: view(await s.senderIds.decide(actor, idParam(params.id), status)) }),
    });
  }
}


/** The operator's packages and the orders waiting for a payment to be confirmed; the ledger check. */
function mountBilling(api: Api, s: Services): void {
  const permission = 'operator.credits';
  const fields = {
    name: z.string().trim().min(1).max(100), sms_count: z.number().int().min(1), bonus_sms: z.number().int().min(0), price: z.number().int().min(0),
    currency: z.string().regex(/^[A-Z]{3}$/), validity_days: z.number().int().min(1).nullable(), is_active: z.boolean(),
  };
  resource(api, {
    path: '/packages', permission, view: packageView,
    list: { summary: 'Every SMS package, on sale or not', run: (actor) => s.billing.packages(actor) },
    create: {
      summary: 'Create an SMS package', message: 'Package created', run: (actor, b) => s.billing.createPackage(actor, b),
      body: z.object({ ...fields, bonus_sms: fields.bonus_sms.default(0), validity_days: fields.validity_days.default(null), is_active: fields.is_active.default(true) }),
    },
    update: { summary: 'Update an SMS package (is_active: false takes it off sale)', body: z.object(fields).partial(), message: 'Package updated', run: (actor, id, b) => s.billing.updatePackage(actor, id, b) },
  });
  api.route({
    method: 'get', path: '/orders', summary: 'Package orders, by status (pending: waiting for a payment to be confirmed)', auth: 'required', permission,
    query: z.object({ status: z.enum(['pending', 'confirmed', 'rejected']).optional() }),
    handler: async ({ query, actor }) => ({ data: (await s.billing.orders(actor, query)).map(orderView) }),
  });
  for (const [action, decision] of [['confirm', 'confirmed'], ['reject', 'rejected']] as const) {
    api.route({
      method: 'post', path: `/orders/:id/${action}`, summary: action === 'confirm' ? 'Confirm an order: its credits join the balance, through the ledger' : 'Reject an order: nothing changes', auth: 'required', permission,
      handler: async ({ params, actor }) => ({ data: orderView(await s.billing.decide(actor, idParam(params.id), decision)) }),
    });
  }
  api.route({
    method: 'get', path: '/doctor', summary: 'Check that every balance equals its ledger and every ledger row points at what it paid for', auth: 'required', permission,
    handler: async ({ actor }) => ({ data: await s.doctor.check(actor) }),
  });
}

const messageSearch = pageQuery.extend({
  phone: z.string().max(20).regex(/^\+?[\d ]*$/, 'digits').optional(),
  account_id: z.coerce.number().int().min(1).optional(),
  status: z.enum(MESSAGE_STATES).optional(),
  from: isoDate.optional(),
  to: isoEndDate.optional(),
});

/** Every account's messages (the console's search) and one message's story. */
function mountMessages(api: Api, s: Services): void {
  api.route({
    method: 'get', path: '/messages', summary: 'Messages of every account: by number, account, status and time range', auth: 'required', permission: 'operator.messages', query: messageSearch,
    handler: async ({ query, actor }) => {
      const filter = { phone: query.phone, accountId: query.account_id, status: query.status, from: query.from, to: query.to };
      return paginated(await s.history.search(actor, filter, pageOf(query)), (m) => ({ ...m, created_at: iso(m.created_at), done_at: iso(m.done_at) }));
    },
  });
  api.route({
    method: 'get', path: '/messages/:id', summary: "One message's story: parts, SMSC ids, receipts, state changes, webhook deliveries", auth: 'required', permission: 'operator.messages',
    handler: async ({ params, actor }) => {
      const { message: m, account, parts, webhooks, events } = await s.history.story(actor, idParam(params.id));
      return {
        data: {
          id: m.id, account, recipient: m.recipient, sender: m.sender, body: m.body, status: m.status, operator: m.operator, bind: m.bind, parts: m.parts,
          encoding: m.encoding, cost: m.cost, attempts: m.attempts, error: m.error, error_code: m.error_code, campaign_id: m.campaign_id,
          created_at: iso(m.created_at), submitted_at: iso(m.submitted_at), sent_at: iso(m.sent_at), done_at: iso(m.done_at),
          part_list: parts.map((p) => ({ part_no: p.part_no, smsc_id: p.raw_smsc_id ?? p.smsc_id, state: p.state, sent_at: iso(p.sent_at), receipt_at: iso(p.receipt_at), receipt_err: p.receipt_err, receipt_text: p.receipt_text })),
          events: events.map((e) => ({ at: iso(e.at), state: e.state, detail: e.detail })),
          webhooks: webhooks.map((w) => ({ ...w, created_at: iso(w.created_at), done_at: iso(w.done_at) })),
        },
      };
    },
  });
}
