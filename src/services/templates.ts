/** Message templates of an account: CRUD, categories, preview with sample data, usage count. */
import { analyze } from '../smpp/codec.js';
import type { Store } from '../store/db.js';
import { TEMPLATE_CATEGORIES, type TemplateCategory } from '../store/tables.js';
import { notFound } from './errors.js';
import { fill, variablesOf } from './personalize.js';

export interface TemplateInput {
  name: string;
  content: string;
  category: TemplateCategory;
  is_public: boolean;
}

export class TemplateService {
  constructor(private readonly store: Store) {}

  categories(): readonly TemplateCategory[] {
    return TEMPLATE_CATEGORIES;
  }

  async list(accountId: number, f: { category?: TemplateCategory | undefined; is_public?: boolean | undefined }) {
    let q = this.store.db.selectFrom('templates').selectAll().where('account_id', '=', accountId);
    if (f.category) q = q.where('category', '=', f.category);
    if (f.is_public !== undefined) q = q.where('is_public', '=', f.is_public ? 1 : 0);
    return q.orderBy('id').execute();
  }

  async get(accountId: number, id: number) {
    const row = await this.store.db.selectFrom('templates').selectAll().where('id', '=', id).where('account_id', '=', accountId).executeTakeFirst();
    if (!row) throw notFound('template');
    return row;
  }

  async create(accountId: number, input: TemplateInput) {
    const now = Date.now();
    return this.store.db.insertInto('templates').values({ account_id: accountId, name: input.name, content: input.content, category: input.category, is_public: input.is_public ? 1 : 0, created_at: now, updated_at: now })
      .returningAll().executeTakeFirstOrThrow();
  }

  async update(accountId: number, id: number, patch: Partial<TemplateInput>) {
    const before = await this.get(accountId, id);
    const after = await this.store.db.updateTable('templates').set({
      ...(patch.name !== undefined ? { name: patch.name } : {}),
      ...(patch.content !== undefined ? { content: patch.content } : {}),
      ...(patch.category !== undefined ? { category: patch.category } : {}),
      ...(patch.is_public !== undefined ? { is_public: patch.is_public ? 1 : 0 } : {}),
      updated_at: Date.now(),
    }).where('id', '=', id).where('account_id', '=', accountId).returningAll().executeTakeFirstOrThrow();
    return { before, after };
  }

  async remove(accountId: number, id: number) {
    const before = await this.get(accountId, id);
    await this.store.db.deleteFrom('templates').where('id', '=', id).where('account_id', '=', accountId).execute();
    return before;
  }

  /** sample_data keys may be written "{nom}" (as the document shows) or "nom". */
  async preview(accountId: number, id: number, sample: Record<string, string>) {
    const t = await this.get(accountId, id);
    const filled = fill(t.content, undefined, sample);
    const shape = analyze(filled.text);
    return { original: t.content, preview: filled.text, variables: variablesOf(t.content), missing_variables: filled.unfilled, sms_count: shape.parts, encoding: shape.encoding, characters: shape.units };
  }

  async use(accountId: number, id: number) {
    await this.get(accountId, id);
    return this.store.db.updateTable('templates').set((eb) => ({ usage_count: eb('usage_count', '+', 1) })).where('id', '=', id).where('account_id', '=', accountId)
      .returningAll().executeTakeFirstOrThrow();
  }
}
