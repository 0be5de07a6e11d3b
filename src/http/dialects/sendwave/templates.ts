/** SendWave templates (/api/templates…). */
import { z } from 'zod';
import type { Services } from '../../../services/index.js';
import { TEMPLATE_CATEGORIES } from '../../../store/tables.js';
import { idParam, type Api } from '../../core/route.js';
import { queryBoolean } from '../../core/validate.js';
import { templateView } from './views.js';

const fields = { name: z.string().trim().min(1).max(200), content: z.string().min(1).max(5000), category: z.enum(TEMPLATE_CATEGORIES), is_public: z.boolean() };
const createBody = z.object({ ...fields, category: fields.category.default('other'), is_public: fields.is_public.default(false) });
/** PUT changes only what it names: no defaults there. */
const patchBody = z.object(fields).partial();

export function mountTemplates(api: Api, s: Services): void {
  const permission = 'manage_templates';
  api.route({
    method: 'get', path: '/templates', summary: 'Templates, filtered by category and is_public', auth: 'required', permission,
    query: z.object({ category: z.enum(TEMPLATE_CATEGORIES).optional(), is_public: queryBoolean.optional() }),
    handler: async ({ query, actor }) => ({ data: (await s.templates.list(actor, query)).map(templateView) }),
  });
  api.route({
    method: 'get', path: '/templates/categories', summary: 'Template categories', auth: 'required', permission,
    handler: () => ({ data: s.templates.categories() }),
  });
  api.route({
    method: 'post', path: '/templates', summary: 'Create a template ({nom}, {prenom}, {email}, {telephone}, {custom.x})', auth: 'required', permission, body: createBody, status: 201,
    handler: async ({ body, actor }) => ({ message: 'Modèle créé', data: templateView(await s.templates.create(actor, body)) }),
  });
  api.route({
    method: 'get', path: '/templates/:id', summary: 'One template', auth: 'required', permission,
    handler: async ({ params, actor }) => ({ data: templateView(await s.templates.get(actor, idParam(params.id))) }),
  });
  api.route({
    method: 'put', path: '/templates/:id', summary: 'Update a template', auth: 'required', permission, body: patchBody,
    handler: async ({ params, body, actor }) => ({ message: 'Modèle mis à jour', data: templateView(await s.templates.update(actor, idParam(params.id), body)) }),
  });
  api.route({
    method: 'delete', path: '/templates/:id', summary: 'Delete a template', auth: 'required', permission,
    handler: async ({ params, actor }) => {
      await s.templates.remove(actor, idParam(params.id));
      return { message: 'Modèle supprimé' };
    },
  });
  api.route({
    method: 'post', path: '/templates/:id/preview', summary: 'The template filled with sample_data', auth: 'required', permission,
    body: z.object({ sample_data: z.record(z.string(), z.union([z.string(), z.number()]).transform(String)).default({}) }),
    handler: async ({ params, body, actor }) => ({ data: await s.templates.preview(actor, idParam(params.id), body.sample_data) }),
  });
  api.route({
    method: 'post', path: '/templates/:id/use', summary: 'Count one use of the template', auth: 'required', permission,
    handler: async ({ params, actor }) => ({ data: templateView(await s.templates.use(actor, idParam(params.id))) }),
  });
}
