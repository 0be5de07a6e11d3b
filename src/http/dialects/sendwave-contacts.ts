/** SendWave contacts, contact groups, templates and blacklist (/api/contacts…, /api/templates…, /api/blacklist…). */
import type { Readable } from 'node:stream';
import busboy from 'busboy';
import type Koa from 'koa';
import { z } from 'zod';
import type { ContactRow } from '../../services/contacts.js';
import { ServiceError, validationError } from '../../services/errors.js';
import { GLOBAL_ACCOUNT } from '../../store/blacklist.js';
import { TEMPLATE_CATEGORIES } from '../../store/tables.js';
import { iso, paginated, type Api } from '../api.js';
import type { HttpServices } from '../services.js';
import { pagination } from '../validate.js';
import { idParam } from './sendwave.js';
import { origin } from './sendwave-webhooks.js';

const STATUSES = ['active', 'inactive', 'unsubscribed'] as const;

export const contactView = (c: ContactRow) => ({
  id: c.id, uuid: c.uuid, name: c.name, email: c.email, phone: c.phone, group: c.groups[0] ?? null, groups: c.groups, status: c.status,
  custom_fields: JSON.parse(c.custom_fields) as Record<string, string>, tags: JSON.parse(c.tags) as string[],
  opt_in_at: iso(c.opt_in_at), opt_out_at: iso(c.opt_out_at), created_at: iso(c.created_at), updated_at: iso(c.updated_at),
});

const contactBody = z.object({
  name: z.string().trim().min(1).max(200),
  email: z.email().max(190).nullable().optional(),
  phone: z.string().trim().min(1).max(32),
  group: z.string().trim().max(100).nullable().optional(),
  status: z.enum(STATUSES).optional(),
  custom_fields: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]).transform(String)).optional(),
  tags: z.array(z.string().trim().min(1).max(50)).max(50).optional(),
});

export function mountContacts(api: Api, s: HttpServices): void {
  api.route({
    method: 'get', path: '/contacts', summary: 'Contacts, filtered (q, name, phone, tag, group, status) and paginated', auth: 'user',
    query: pagination.extend({ q: z.string().optional(), search: z.string().optional(), name: z.string().optional(), phone: z.string().optional(), tag: z.string().optional(), group: z.string().optional(), status: z.enum(STATUSES).optional() }),
    handler: async (_ctx, { query, principal }) => {
      const { rows, total } = await s.contacts.page(principal.account.id, { ...query, q: query.q ?? query.search }, query.page, query.per_page);
      return paginated(rows.map(contactView), total, query.page, query.per_page);
    },
  });
  api.route({
    method: 'post', path: '/contacts', summary: 'Create a contact (one per phone number)', auth: 'user', body: contactBody,
    handler: async (ctx, { body, principal }) => {
      const c = await s.contacts.create(principal.account.id, body);
      await s.audit.record(principal, origin(ctx), { action: 'contact.created', model: 'Contact', modelId: c.id, new: contactView(c) });
      s.kickWebhooks();
      ctx.status = 201;
      return { message: 'Contact créé', data: contactView(c) };
    },
  });
  api.route({
    method: 'post', path: '/contacts/import', summary: 'Import contacts from a CSV file (multipart field "file")', auth: 'user',
    handler: async (ctx, { principal }) => {
      const result = await withUploadedFile(ctx, (file) => s.contacts.importCsv(principal.account.id, file));
      await s.audit.record(principal, origin(ctx), { action: 'contact.imported', model: 'Contact', modelId: null, new: { created: result.created, updated: result.updated, failed: result.failed } });
      s.kickWebhooks();
      return { message: 'Import terminé', data: result };
    },
  });
  api.route({
    method: 'get', path: '/contacts/:id', summary: 'One contact', auth: 'user',
    handler: async (_ctx, { params, principal }) => ({ data: contactView(await s.contacts.get(principal.account.id, idParam(params.id))) }),
  });
  api.route({
    method: 'put', path: '/contacts/:id', summary: 'Update a contact', auth: 'user', body: contactBody.partial(),
    handler: async (ctx, { params, body, principal }) => {
      const { before, after } = await s.contacts.update(principal.account.id, idParam(params.id), body);
      await s.audit.record(principal, origin(ctx), { action: 'contact.updated', model: 'Contact', modelId: after.id, old: contactView(before), new: contactView(after) });
      s.kickWebhooks();
      return { message: 'Contact mis à jour', data: contactView(after) };
    },
  });
  api.route({
    method: 'delete', path: '/contacts/:id', summary: 'Delete a contact', auth: 'user',
    handler: async (ctx, { params, principal }) => {
      const before = await s.contacts.remove(principal.account.id, idParam(params.id));
      await s.audit.record(principal, origin(ctx), { action: 'contact.deleted', model: 'Contact', modelId: before.id, old: contactView(before) });
      s.kickWebhooks();
      return { message: 'Contact supprimé' };
    },
  });
  mountGroups(api, s);
}

function mountGroups(api: Api, s: HttpServices): void {
  const groupView = (g: { id: number; name: string; description: string | null; created_at: number; contacts_count?: number }) => ({
    id: g.id, name: g.name, description: g.description, contacts_count: Number(g.contacts_count ?? 0), created_at: iso(g.created_at),
  });
  api.route({
    method: 'get', path: '/contact-groups', summary: 'Contact groups with their sizes', auth: 'user',
    handler: async (_ctx, { principal }) => ({ data: (await s.contacts.groups(principal.account.id)).map(groupView) }),
  });
  api.route({
    method: 'post', path: '/contact-groups', summary: 'Create a group', auth: 'user',
    body: z.object({ name: z.string().trim().min(1).max(100), description: z.string().max(500).optional() }),
    handler: async (ctx, { body, principal }) => {
      const g = await s.contacts.createGroup(principal.account.id, body);
      await s.audit.record(principal, origin(ctx), { action: 'contact_group.created', model: 'ContactGroup', modelId: g.id, new: { name: g.name, description: g.description } });
      ctx.status = 201;
      return { message: 'Groupe créé', data: groupView(g) };
    },
  });
  api.route({
    method: 'delete', path: '/contact-groups/:id', summary: 'Delete a group (its contacts stay)', auth: 'user',
    handler: async (ctx, { params, principal }) => {
      const g = await s.contacts.deleteGroup(principal.account.id, idParam(params.id));
      await s.audit.record(principal, origin(ctx), { action: 'contact_group.deleted', model: 'ContactGroup', modelId: g.id, old: { name: g.name } });
      return { message: 'Groupe supprimé' };
    },
  });
  for (const action of ['add', 'remove'] as const) {
    api.route({
      method: 'post', path: `/contact-groups/:id/contacts/${action}`, summary: `${action === 'add' ? 'Add contacts to' : 'Remove contacts from'} a group`, auth: 'user',
      body: z.object({ contact_ids: z.array(z.number().int().positive()).min(1).max(10_000) }),
      handler: async (ctx, { params, body, principal }) => {
        const id = idParam(params.id);
        const changed = await s.contacts.changeMembers(principal.account.id, id, body.contact_ids, action);
        await s.audit.record(principal, origin(ctx), { action: `contact_group.contacts_${action === 'add' ? 'added' : 'removed'}`, model: 'ContactGroup', modelId: id, new: { contact_ids: body.contact_ids } });
        return { message: action === 'add' ? 'Contacts ajoutés au groupe' : 'Contacts retirés du groupe', data: { group_id: id, changed } };
      },
    });
  }
  api.route({
    method: 'get', path: '/contact-groups/:id/contacts', summary: "A group's contacts", auth: 'user', query: pagination,
    handler: async (_ctx, { params, query, principal }) => {
      const { rows, total } = await s.contacts.groupMembers(principal.account.id, idParam(params.id), query.page, query.per_page);
      return paginated(rows.map(contactView), total, query.page, query.per_page);
    },
  });
}

export function mountTemplates(api: Api, s: HttpServices): void {
  const view = (t: { id: number; name: string; content: string; category: string; is_public: number; usage_count: number; created_at: number; updated_at: number }) => ({
    id: t.id, name: t.name, content: t.content, category: t.category, is_public: t.is_public === 1, usage_count: t.usage_count, created_at: iso(t.created_at), updated_at: iso(t.updated_at),
  });
  const fields = { name: z.string().trim().min(1).max(200), content: z.string().min(1).max(5000), category: z.enum(TEMPLATE_CATEGORIES), is_public: z.boolean() };
  const body = z.object({ ...fields, category: fields.category.default('other'), is_public: fields.is_public.default(false) });
  // PUT changes only what it names: no defaults there.
  const patchBody = z.object(fields).partial();
  api.route({
    method: 'get', path: '/templates', summary: 'Templates, filtered by category and is_public', auth: 'user',
    query: z.object({ category: z.enum(TEMPLATE_CATEGORIES).optional(), is_public: z.enum(['true', 'false', '1', '0']).optional() }),
    handler: async (_ctx, { query, principal }) => {
      const isPublic = query.is_public === undefined ? undefined : query.is_public === 'true' || query.is_public === '1';
      return { data: (await s.templates.list(principal.account.id, { category: query.category, is_public: isPublic })).map(view) };
    },
  });
  api.route({
    method: 'get', path: '/templates/categories', summary: 'Template categories', auth: 'user',
    handler: () => ({ data: s.templates.categories() }),
  });
  api.route({
    method: 'post', path: '/templates', summary: 'Create a template ({nom}, {prenom}, {email}, {telephone}, {custom.x})', auth: 'user', body,
    handler: async (ctx, { body: input, principal }) => {
      const t = await s.templates.create(principal.account.id, input);
      await s.audit.record(principal, origin(ctx), { action: 'template.created', model: 'Template', modelId: t.id, new: view(t) });
      ctx.status = 201;
      return { message: 'Modèle créé', data: view(t) };
    },
  });
  api.route({
    method: 'get', path: '/templates/:id', summary: 'One template', auth: 'user',
    handler: async (_ctx, { params, principal }) => ({ data: view(await s.templates.get(principal.account.id, idParam(params.id))) }),
  });
  api.route({
    method: 'put', path: '/templates/:id', summary: 'Update a template', auth: 'user', body: patchBody,
    handler: async (ctx, { params, body: patch, principal }) => {
      const { before, after } = await s.templates.update(principal.account.id, idParam(params.id), patch);
      await s.audit.record(principal, origin(ctx), { action: 'template.updated', model: 'Template', modelId: after.id, old: view(before), new: view(after) });
      return { message: 'Modèle mis à jour', data: view(after) };
    },
  });
  api.route({
    method: 'delete', path: '/templates/:id', summary: 'Delete a template', auth: 'user',
    handler: async (ctx, { params, principal }) => {
      const before = await s.templates.remove(principal.account.id, idParam(params.id));
      await s.audit.record(principal, origin(ctx), { action: 'template.deleted', model: 'Template', modelId: before.id, old: view(before) });
      return { message: 'Modèle supprimé' };
    },
  });
  api.route({
    method: 'post', path: '/templates/:id/preview', summary: 'The template filled with sample_data', auth: 'user',
    body: z.object({ sample_data: z.record(z.string(), z.union([z.string(), z.number()]).transform(String)).default({}) }),
    handler: async (_ctx, { params, body: input, principal }) => ({ data: await s.templates.preview(principal.account.id, idParam(params.id), input.sample_data) }),
  });
  api.route({
    method: 'post', path: '/templates/:id/use', summary: 'Count one use of the template', auth: 'user',
    handler: async (_ctx, { params, principal }) => ({ data: view(await s.templates.use(principal.account.id, idParam(params.id))) }),
  });
}

const blacklistView = (b: { id: number; phone: string; reason: string | null; source: string; created_at: number }) => ({
  id: b.id, phone_number: b.phone, reason: b.reason, source: b.source, created_at: iso(b.created_at),
});

/** The account's own list (/api/blacklist) or, for admins, the global one (/api/admin/blacklist). */
export function mountBlacklist(api: Api, s: HttpServices, scope: 'account' | 'global'): void {
  const owner = (accountId: number) => (scope === 'global' ? GLOBAL_ACCOUNT : accountId);
  const auth = scope === 'global' ? 'admin' : 'user';
  api.route({
    method: 'get', path: '/blacklist', summary: scope === 'global' ? 'The global blacklist' : "The caller's blacklist", auth, query: pagination,
    handler: async (_ctx, { query, principal }) => {
      const id = owner(principal.account.id);
      const rows = await s.blacklist.list(id, { limit: query.per_page, offset: (query.page - 1) * query.per_page });
      return paginated(rows.map(blacklistView), await s.blacklist.count(id), query.page, query.per_page);
    },
  });
  api.route({
    method: 'post', path: '/blacklist', summary: 'Blacklist a number', auth,
    body: z.object({ phone_number: z.string().trim().min(1).max(32), reason: z.string().max(500).optional() }),
    handler: async (ctx, { body, principal }) => {
      const phone = s.contacts.normalizePhone(body.phone_number, 'phone_number');
      const row = await s.blacklistService.add(owner(principal.account.id), principal.account.id, phone, body.reason ?? null, scope === 'global' ? 'admin' : 'api');
      if (!row) throw validationError({ phone_number: ['The phone number is already blacklisted.'] });
      await s.audit.record(principal, origin(ctx), { action: 'blacklist.added', model: 'Blacklist', modelId: row.id, new: blacklistView(row) });
      s.kickWebhooks();
      ctx.status = 201;
      return { message: 'Numéro ajouté à la liste noire', data: blacklistView(row) };
    },
  });
  api.route({
    method: 'delete', path: '/blacklist/:id', summary: 'Remove a number from the blacklist', auth,
    handler: async (ctx, { params, principal }) => {
      const id = idParam(params.id);
      const row = await s.blacklist.get(owner(principal.account.id), id);
      if (!row || !(await s.blacklist.remove(owner(principal.account.id), id))) throw new ServiceError('not_found', 'No query results for blacklist entry.');
      await s.audit.record(principal, origin(ctx), { action: 'blacklist.removed', model: 'Blacklist', modelId: id, old: blacklistView(row) });
      return { message: 'Numéro retiré de la liste noire' };
    },
  });
  if (scope === 'account') {
    api.route({
      method: 'post', path: '/blacklist/check', summary: 'Is this number blacklisted for the caller (own or global list)?', auth,
      body: z.object({ phone_number: z.string().trim().min(1).max(32) }),
      handler: async (_ctx, { body, principal }) => {
        const phone = s.contacts.normalizePhone(body.phone_number, 'phone_number');
        const where = await s.blacklist.where(phone, principal.account.id);
        return { phone_number: phone, is_blacklisted: where !== null, scope: where };
      },
    });
  }
}

/** The first file of a multipart request, streamed to `consume`; 422 when there is none. */
function withUploadedFile<T>(ctx: Koa.Context, consume: (file: Readable) => Promise<T>): Promise<T> {
  if (!ctx.is('multipart/form-data')) return Promise.reject(validationError({ file: ['Send the CSV as multipart/form-data in a field named "file".'] }));
  return new Promise<T>((resolve, reject) => {
    let handled = false;
    const bb = busboy({ headers: ctx.req.headers, limits: { files: 1, fileSize: 200 * 1024 * 1024 } });
    bb.on('file', (_field, stream) => {
      handled = true;
      // Past the size limit, refuse rather than import a silently truncated file.
      stream.on('limit', () => stream.destroy(validationError({ file: ['The file is larger than 200 MB: split it.'] })));
      consume(stream).then(resolve, (err: unknown) => {
        stream.resume();
        reject(err);
      });
    });
    bb.on('error', reject);
    bb.on('close', () => {
      if (!handled) reject(validationError({ file: ['The file field is required.'] }));
    });
    ctx.req.pipe(bb);
  });
}
