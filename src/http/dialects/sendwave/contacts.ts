/** SendWave contacts and contact groups (/api/contacts…, /api/contact-groups…). */
import { z } from 'zod';
import { CONTACT_STATUSES } from '../../../services/contacts.js';
import type { Services } from '../../../services/index.js';
import { withUploadedFile } from '../../core/multipart.js';
import { idParam, type Api } from '../../core/route.js';
import { pageOf, pageQuery, paginated } from './paging.js';
import { resource } from './resource.js';
import { contactView, groupView, importView } from './views.js';

const contactBody = z.object({
  name: z.string().trim().min(1).max(200),
  email: z.email().max(190).nullable().optional(),
  phone: z.string().trim().min(1).max(32),
  group: z.string().trim().max(100).nullable().optional(),
  status: z.enum(CONTACT_STATUSES).optional(),
  custom_fields: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]).transform(String)).optional(),
  tags: z.array(z.string().trim().min(1).max(50)).max(50).optional(),
});

export function mountContacts(api: Api, s: Services): void {
  const permission = 'manage_contacts';
  // Before /contacts/:id.
  api.route({
    method: 'post', path: '/contacts/import', summary: 'Import contacts from a CSV file (multipart field "file")', auth: 'required', permission,
    handler: async ({ ctx, actor }) => ({ message: 'Import terminé', data: importView(await withUploadedFile(ctx, 'file', (file) => s.imports.importCsv(actor, file))) }),
  });
  resource(api, {
    path: '/contacts', permission, view: contactView,
    list: {
      summary: 'Contacts, filtered (q, name, phone, tag, group, status) and paginated',
      query: pageQuery.extend({ q: z.string().optional(), search: z.string().optional(), name: z.string().optional(), phone: z.string().optional(), tag: z.string().optional(), group: z.string().optional(), status: z.enum(CONTACT_STATUSES).optional() }),
      run: (actor, query) => s.contacts.page(actor, { ...query, q: query.q ?? query.search }, pageOf(query)),
    },
    create: { summary: 'Create a contact (one per phone number)', body: contactBody, message: 'Contact créé', run: (actor, body) => s.contacts.create(actor, body) },
    get: { summary: 'One contact', run: (actor, id) => s.contacts.get(actor, id) },
    update: { summary: 'Update a contact', body: contactBody.partial(), message: 'Contact mis à jour', run: (actor, id, body) => s.contacts.update(actor, id, body) },
    remove: { summary: 'Delete a contact', message: 'Contact supprimé', run: (actor, id) => s.contacts.remove(actor, id) },
  });
  mountGroups(api, s);
}

function mountGroups(api: Api, s: Services): void {
  const permission = 'manage_groups';
  resource(api, {
    path: '/contact-groups', permission, view: groupView,
    list: { summary: 'Contact groups with their sizes', run: (actor) => s.contacts.groups(actor) },
    create: {
      summary: 'Create a group', message: 'Groupe créé', run: (actor, body) => s.contacts.createGroup(actor, body),
      body: z.object({ name: z.string().trim().min(1).max(100), description: z.string().max(500).optional() }),
    },
    remove: { summary: 'Delete a group (its contacts stay)', message: 'Groupe supprimé', run: (actor, id) => s.contacts.deleteGroup(actor, id) },
  });
  for (const action of ['add', 'remove'] as const) {
    api.route({
      method: 'post', path: `/contact-groups/:id/contacts/${action}`, summary: `${action === 'add' ? 'Add contacts to' : 'Remove contacts from'} a group`, auth: 'required', permission,
      body: z.object({ contact_ids: z.array(z.number().int().positive()).min(1).max(10_000) }),
      handler: async ({ params, body, actor }) => {
        const id = idParam(params.id);
        const changed = await s.contacts.changeMembers(actor, id, body.contact_ids, action);
        return { message: action === 'add' ? 'Contacts ajoutés au groupe' : 'Contacts retirés du groupe', data: { group_id: id, changed } };
      },
    });
  }
  api.route({
    method: 'get', path: '/contact-groups/:id/contacts', summary: "A group's contacts", auth: 'required', permission, query: pageQuery,
    handler: async ({ params, query, actor }) => paginated(await s.contacts.groupMembers(actor, idParam(params.id), pageOf(query)), contactView),
  });
}
