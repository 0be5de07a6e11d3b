/** SendWave contacts and contact groups (/api/contacts…, /api/contact-groups…). */
import { z } from 'zod';
import { CONTACT_STATUSES } from '../../../services/contacts.js';
import type { Services } from '../../../services/index.js';
import { withUploadedFile } from '../../core/multipart.js';
import { idParam, type Api } from '../../core/route.js';
import { pageOf, pageQuery, paginated } from './paging.js';
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
  api.route({
    method: 'get', path: '/contacts', summary: 'Contacts, filtered (q, name, phone, tag, group, status) and paginated', auth: 'required', permission,
    query: pageQuery.extend({ q: z.string().optional(), search: z.string().optional(), name: z.string().optional(), phone: z.string().optional(), tag: z.string().optional(), group: z.string().optional(), status: z.enum(CONTACT_STATUSES).optional() }),
    handler: async ({ query, actor }) => paginated(await s.contacts.page(actor, { ...query, q: query.q ?? query.search }, pageOf(query)), contactView),
  });
  api.route({
    method: 'post', path: '/contacts', summary: 'Create a contact (one per phone number)', auth: 'required', permission, body: contactBody, status: 201,
    handler: async ({ body, actor }) => ({ message: 'Contact créé', data: contactView(await s.contacts.create(actor, body)) }),
  });
  api.route({
    method: 'post', path: '/contacts/import', summary: 'Import contacts from a CSV file (multipart field "file")', auth: 'required', permission,
    handler: async ({ ctx, actor }) => ({ message: 'Import terminé', data: importView(await withUploadedFile(ctx, 'file', (file) => s.imports.importCsv(actor, file))) }),
  });
  api.route({
    method: 'get', path: '/contacts/:id', summary: 'One contact', auth: 'required', permission,
    handler: async ({ params, actor }) => ({ data: contactView(await s.contacts.get(actor, idParam(params.id))) }),
  });
  api.route({
    method: 'put', path: '/contacts/:id', summary: 'Update a contact', auth: 'required', permission, body: contactBody.partial(),
    handler: async ({ params, body, actor }) => ({ message: 'Contact mis à jour', data: contactView(await s.contacts.update(actor, idParam(params.id), body)) }),
  });
  api.route({
    method: 'delete', path: '/contacts/:id', summary: 'Delete a contact', auth: 'required', permission,
    handler: async ({ params, actor }) => {
      await s.contacts.remove(actor, idParam(params.id));
      return { message: 'Contact supprimé' };
    },
  });
  mountGroups(api, s);
}

function mountGroups(api: Api, s: Services): void {
  const permission = 'manage_groups';
  api.route({
    method: 'get', path: '/contact-groups', summary: 'Contact groups with their sizes', auth: 'required', permission,
    handler: async ({ actor }) => ({ data: (await s.contacts.groups(actor)).map(groupView) }),
  });
  api.route({
    method: 'post', path: '/contact-groups', summary: 'Create a group', auth: 'required', permission, status: 201,
    body: z.object({ name: z.string().trim().min(1).max(100), description: z.string().max(500).optional() }),
    handler: async ({ body, actor }) => ({ message: 'Groupe créé', data: groupView(await s.contacts.createGroup(actor, body)) }),
  });
  api.route({
    method: 'delete', path: '/contact-groups/:id', summary: 'Delete a group (its contacts stay)', auth: 'required', permission,
    handler: async ({ params, actor }) => {
      await s.contacts.deleteGroup(actor, idParam(params.id));
      return { message: 'Groupe supprimé' };
    },
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
