/** Message templates of an account: CRUD, categories, preview with sample data, usage count. */
import { analyze } from '../smpp/codec.js';
import type { Store } from '../store/db.js';
import { TEMPLATE_CATEGORIES, type TemplateCategory } from '../store/tables.js';
import type { TemplateRow } from '../store/templates.js';
import type { Changes } from './changes.js';
import { notFound } from './errors.js';
import { fill, variablesOf } from './personalize.js';
import { authorize, type Actor } from './policy.js';

export type { TemplateRow };

export interface TemplateInput {
  name: string;
  content: string;
  category: TemplateCategory;
  is_public: boolean;
}

export interface TemplatePreview {
  original: string;
  preview: string;
  variables: string[];
  missing_variables: string[];
  sms_count: number;
  encoding: 'gsm7' | 'ucs2';
  characters: number;
}

/** What the audit log keeps of a template. */
const snapshot = (t: TemplateRow) => ({ id: t.id, name: t.name, content: t.content, category: t.category, is_public: t.is_public === 1 });

export class TemplateService {
  constructor(private readonly store: Store, private readonly changes: Changes) {}

  categories(): readonly TemplateCategory[] {
    return TEMPLATE_CATEGORIES;
  }

  list(actor: Actor, f: { category?: TemplateCategory | undefined; is_public?: boolean | undefined }): Promise<TemplateRow[]> {
    authorize(actor, 'manage_templates');
    return this.store.repos.templates.list(actor.account.id, f);
  }

  async get(actor: Actor, id: number): Promise<TemplateRow> {
    authorize(actor, 'manage_templates');
    return this.found(await this.store.repos.templates.get(actor.account.id, id));
  }

  private found(row: TemplateRow | undefined): TemplateRow {
    if (!row) throw notFound('template');
    return row;
  }

  create(actor: Actor, input: TemplateInput): Promise<TemplateRow> {
    authorize(actor, 'manage_templates');
    const now = Date.now();
    return this.changes.run(actor, async (c) => {
      const t = await c.tx.templates.insert({ account_id: actor.account.id, name: input.name, content: input.content, category: input.category, is_public: input.is_public ? 1 : 0, created_at: now, updated_at: now });
      await c.audit({ action: 'template.created', model: 'Template', modelId: t.id, new: snapshot(t) });
      return t;
    });
  }

  /** Changes only what the patch names. */
  update(actor: Actor, id: number, patch: Partial<TemplateInput>): Promise<TemplateRow> {
    authorize(actor, 'manage_templates');
    return this.changes.run(actor, async (c) => {
      const before = this.found(await c.tx.templates.get(actor.account.id, id));
      const after = this.found(await c.tx.templates.update(actor.account.id, id, {
        ...(patch.name !== undefined ? { name: patch.name } : {}),
        ...(patch.content !== undefined ? { content: patch.content } : {}),
        ...(patch.category !== undefined ? { category: patch.category } : {}),
        ...(patch.is_public !== undefined ? { is_public: patch.is_public ? 1 : 0 } : {}),
        updated_at: Date.now(),
      }));
      await c.audit({ action: 'template.updated', model: 'Template', modelId: id, old: snapshot(before), new: snapshot(after) });
      return after;
    });
  }

  remove(actor: Actor, id: number): Promise<TemplateRow> {
    authorize(actor, 'manage_templates');
    return this.changes.run(actor, async (c) => {
      const before = this.found(await c.tx.templates.get(actor.account.id, id));
      await c.tx.templates.remove(actor.account.id, id);
      await c.audit({ action: 'template.deleted', model: 'Template', modelId: id, old: snapshot(before) });
      return before;
    });
  }

  /** sample_data keys may be written "{nom}" (as the document shows) or "nom". */
  async preview(actor: Actor, id: number, sample: Record<string, string>): Promise<TemplatePreview> {
    const t = await this.get(actor, id);
    const filled = fill(t.content, undefined, sample);
    const shape = analyze(filled.text);
    return { original: t.content, preview: filled.text, variables: variablesOf(t.content), missing_variables: filled.unfilled, sms_count: shape.parts, encoding: shape.encoding, characters: shape.units };
  }

  async use(actor: Actor, id: number): Promise<TemplateRow> {
    authorize(actor, 'manage_templates');
    return this.found(await this.store.transaction((tx) => tx.templates.countUse(actor.account.id, id)));
  }
}
