/** SendWave blacklist: the account's own (/api/blacklist) and, for the operator, the global one (/api/admin/blacklist). */
import { z } from 'zod';
import type { BlacklistScope } from '../../../services/blacklist.js';
import type { Services } from '../../../services/index.js';
import { idParam, type Api } from '../../core/route.js';
import { pageOf, pageQuery, paginated } from './paging.js';
import { blacklistView } from './views.js';

const phoneBody = { phone_number: z.string().trim().min(1).max(32) };

export function mountBlacklist(api: Api, s: Services, scope: BlacklistScope): void {
  const permission = scope === 'global' ? 'operator.blacklist' : 'manage_blacklist';
  api.route({
    method: 'get', path: '/blacklist', summary: scope === 'global' ? 'The global blacklist' : "The caller's blacklist", auth: 'required', permission, query: pageQuery,
    handler: async ({ query, actor }) => paginated(await s.blacklist.page(actor, scope, pageOf(query)), blacklistView),
  });
  api.route({
    method: 'post', path: '/blacklist', summary: 'Blacklist a number', auth: 'required', permission, status: 201,
    body: z.object({ ...phoneBody, reason: z.string().max(500).optional() }),
    handler: async ({ body, actor }) => ({ message: 'Numéro ajouté à la liste noire', data: blacklistView(await s.blacklist.add(actor, scope, body.phone_number, body.reason ?? null)) }),
  });
  api.route({
    method: 'delete', path: '/blacklist/:id', summary: 'Remove a number from the blacklist', auth: 'required', permission,
    handler: async ({ params, actor }) => {
      await s.blacklist.remove(actor, scope, idParam(params.id));
      return { message: 'Numéro retiré de la liste noire' };
    },
  });
  if (scope === 'account') {
    api.route({
      method: 'post', path: '/blacklist/check', summary: 'Is this number blacklisted for the caller (own or global list)?', auth: 'required', permission,
      body: z.object(phoneBody),
      handler: ({ body, actor }) => {
        const { phone, where } = s.blacklist.check(actor, body.phone_number);
        return { phone_number: phone, is_blacklisted: where !== null, scope: where };
      },
    });
  }
}
