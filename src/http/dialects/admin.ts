/**
 * The operator's admin API under /api/admin, at fixed paths provisioning scripts rely on.
 * Every route requires an admin account; anyone else gets 403.
 */
import { z } from 'zod';
import type { Account } from '../../services/accounts.js';
import { ServiceError, validationError } from '../../services/errors.js';
import { iso, paginated, type Api } from '../api.js';
import type { HttpServices } from '../services.js';
import { pagination } from '../validate.js';
import { idParam } from './sendwave.js';
import { origin } from './sendwave-webhooks.js';

const accountView = (a: Account) => ({
  id: a.id, name: a.name, email: a.email, role: a.role, status: a.status, balance: a.balance, default_sender_id: a.default_sender_id, created_at: iso(a.created_at),
});

export function mountAdmin(api: Api, s: HttpServices): void {
  api.route({
    method: 'get', path: '/accounts', summary: 'Every account with its balance and status', auth: 'admin', query: pagination,
    handler: async (_ctx, { query }) => {
      const { rows, total } = await s.accounts.list({ limit: query.per_page, offset: (query.page - 1) * query.per_page });
      return paginated(rows.map(accountView), total, query.page, query.per_page);
    },
  });
  api.route({
    method: 'post', path: '/accounts/:id/credits', summary: 'Add (or, negative, remove) credits', auth: 'admin',
    body: z.object({ amount: z.number().int().refine((n) => n !== 0, 'The amount must not be zero.'), reference: z.string().max(200).optional() }),
    handler: async (ctx, { params, body, principal }) => {
      const id = idParam(params.id);
      await s.accounts.require(id);
      const reference = body.reference ?? `admin:${principal.account.id}`;
      // Removing credits never takes a balance below zero.
      const balance = body.amount > 0 ? s.credits.credit(id, body.amount, 'topup', reference) : s.credits.debit(id, -body.amount, reference, 'adjustment');
      if (balance === null) throw validationError({ amount: [`The balance is ${s.credits.balanceOf(id)}: it cannot go below zero.`] });
      await s.audit.record(principal, origin(ctx), { action: body.amount > 0 ? 'account.credits_added' : 'account.credits_removed', model: 'Account', modelId: id, new: { amount: body.amount, balance } });
      return { message: body.amount > 0 ? 'Crédits ajoutés' : 'Crédits retirés', data: { account_id: id, amount: body.amount, balance } };
    },
  });
  for (const [action, status] of [['suspend', 'suspended'], ['activate', 'active']] as const) {
    api.route({
      method: 'post', path: `/accounts/:id/${action}`, summary: `${action === 'suspend' ? 'Suspend' : 'Reactivate'} an account`, auth: 'admin',
      handler: async (ctx, { params, principal }) => {
        const id = idParam(params.id);
        if (id === principal.account.id && status === 'suspended') throw new ServiceError('forbidden', 'An admin cannot suspend their own account.');
        const account = await s.accounts.setStatus(id, status);
        await s.audit.record(principal, origin(ctx), { action: `account.${action === 'suspend' ? 'suspended' : 'activated'}`, model: 'Account', modelId: id, new: { status } });
        return { data: accountView(account) };
      },
    });
  }
  const senderView = (r: { id: number; account_id: number; name: string; status: string; created_at: number; decided_at: number | null }) => ({
    id: r.id, account_id: r.account_id, name: r.name, status: r.status, created_at: iso(r.created_at), decided_at: iso(r.decided_at),
  });
  api.route({
    method: 'get', path: '/sender-ids', summary: 'Sender IDs of every account, by status', auth: 'admin',
    query: z.object({ status: z.enum(['pending', 'approved', 'rejected']).optional() }),
    handler: async (_ctx, { query }) => ({ data: (await s.senderIds.listByStatus(query.status)).map(senderView) }),
  });
  for (const [action, status] of [['approve', 'approved'], ['reject', 'rejected']] as const) {
    api.route({
      method: 'post', path: `/sender-ids/:id/${action}`, summary: `${action === 'approve' ? 'Approve' : 'Reject'} a sender ID`, auth: 'admin',
      handler: async (ctx, { params, principal }) => {
        const row = await s.senderIds.decide(idParam(params.id), status);
        await s.audit.record(principal, origin(ctx), { action: `sender_id.${status}`, model: 'SenderId', modelId: row.id, new: { name: row.name, account_id: row.account_id, status } });
        return { data: senderView(row) };
      },
    });
  }
  api.route({
    method: 'get', path: '/binds', summary: 'SMPP binds: state and counters', auth: 'admin',
    handler: () => ({ data: s.binds() }),
  });
  api.route({
    method: 'get', path: '/routes', summary: 'Prefix routes, longest first, and the default route', auth: 'admin',
    handler: () => ({ data: s.router.list(), default_route: s.config.default_route ?? null }),
  });
}
