/** SendWave blacklist: the account's own (/api/blacklist) and, for the operator, the global one (/api/admin/blacklist). */
import { z } from 'zod';
import type { BlacklistScope } from '../../../services/blacklist.js';
import type { Services } from '../../../services/index.js';
import type { Api } from '../../core/route.js';
import { pageOf, pageQuery } from './paging.js';
import { resource } from './resource.js';
import { blacklistView } from './views.js';

const phoneBody = { phone_number: z.string().trim().min(1).max(32) };

export function mountBlacklist(api: Api, s: Services, scope: BlacklistScope): void {
  const permission = scope === 'global' ? 'operator.blacklist' : 'manage_blacklist';
  resource(api, {
    path: '/blacklist', permission, view: blacklistView,
    list: { summary: scope === 'global' ? 'The global blacklist' : "The caller's blacklist", query: pageQuery, run: (actor, query) => s.blacklist.page(actor, scope, pageOf(query)) },
    create: {
      summary: 'Blacklist a number', message: 'Numéro ajouté à la liste noire', run: (actor, body) => s.blacklist.add(actor, scope, body.phone_number, body.reason ?? null),
      body: z.object({ ...phoneBody, reason: z.string().max(500).optional() }),
    },
    remove: { summary: 'Remove a number from the blacklist', message: 'Numéro retiré de la liste noire', run: (actor, id) => s.blacklist.remove(actor, scope, id) },
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
