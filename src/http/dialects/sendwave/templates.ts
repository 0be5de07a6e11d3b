/** SendWave templates (/api/templates…). */
import { z } from 'zod';
import type { Services } from '../../../services/index.js';
import { TEMPLATE_CATEGORIES } from '../../../store/tables.js';
import { idParam, type Api } from '../../core/route.js';
import { queryBoolean } from '../../core/validate.js';
import { resource } from './resource.js';
import { templateView } from './views.js';

const fields = { name: z.string().trim().min(1).max(200), content: z.string().min(1).max(5000), category: z.enum(TEMPLATE_CATEGORIES), is_public: z.boolean() };
const createBody = z.object({ ...fields, category: fields.category.default('other'), is_public: fields.is_public.default(false) });
/** PUT changes only what it names: no defaults there. */
const patchBody = z.object(fields).partial();

export function mountTemplates(api: Api, s: Services): void {
  const permission = 'manage_templates';
  // Before /templates/:id, which would take "categories" for an id.
  api.route({
    method: 'get', path: '/templates/categories', summary: 'Template categories', auth: 'required', permission,
    handler: () => ({ data: s.templates.categories() }),
  });
  resource(api, {
    path: '/templates', permission, view: templateView,
    list: {
      summary: 'Templates, filtered by category and is_public',
      query: z.object({ category: z.enum(TEMPLATE_CATEGORIES).optional(), is_public: queryBoolean.optional() }),
      run: (actor, query) => s.templates.list(actor, query),
    },
    create: { summary: 'Create a template ({nom}, {prenom}, {email}, {telephone}, {custom.x})', body: createBody, message: 'Modèle créé', run: (actor, body) => s.templates.create(actor, body) },
    get: { summary: 'One template', run: (actor, id) => s.templates.get(actor, id) },
    update: { summary: 'Update a template', body: patchBody, message: 'Modèle mis à jour', run: (actor, id, body) => s.templates.update(actor, id, body) },
    remove: { summary: 'Delete a template', message: 'Modèle supprimé', run: (actor, id) => s.templates.remove(actor, id) },
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
