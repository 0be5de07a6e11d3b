/** Segments: saved filters on an account's contacts (tags, attributes, status), evaluated when used. */
import type { SegmentFilter } from '../store/contacts.js';
import type { Store } from '../store/db.js';
import type { SegmentRecord } from '../store/segments.js';
import type { Changes } from './changes.js';
import { fieldError, notFound } from './errors.js';
import { authorize, type Actor } from './policy.js';

export type { SegmentFilter, SegmentRecord };

export interface SegmentInput {
  name: string;
  description?: string | null | undefined;
  filter: SegmentFilter;
}

const snapshot = (s: SegmentRecord) => ({ id: s.id, name: s.name, description: s.description, filter: JSON.parse(s.filter) as unknown });

export class SegmentService {
  constructor(private readonly store: Store, private readonly changes: Changes) {}

  list(actor: Actor): Promise<SegmentRecord[]> {
    authorize(actor, 'manage_contacts');
    return this.store.repos.segments.list(actor.account.id);
  }

  async get(actor: Actor, id: number): Promise<SegmentRecord> {
    authorize(actor, 'manage_contacts');
    const s = await this.store.repos.segments.get(actor.account.id, id);
    if (!s) throw notFound('segment');
    return s;
  }

  /** A segment and how many contacts it selects now. */
  async detail(actor: Actor, id: number): Promise<{ segment: SegmentRecord; size: number }> {
    const segment = await this.get(actor, id);
    return { segment, size: await this.count(actor.account.id, segment) };
  }

  private async count(accountId: number, s: SegmentRecord): Promise<number> {
    let n = 0;
    for (let after = 0; ;) {
      const page = await this.store.repos.contacts.sourcePage(accountId, { segment: JSON.parse(s.filter) as SegmentFilter }, after, 5000);
      n += page.length;
      if (page.length < 5000) return n;
      after = page[page.length - 1]!.id;
    }
  }

  create(actor: Actor, input: SegmentInput): Promise<SegmentRecord> {
    authorize(actor, 'manage_contacts');
    if (!input.name.trim()) throw fieldError('name', 'required');
    const now = Date.now();
    return this.changes.run(actor, async (c) => {
      const s = await c.tx.segments.insert({ account_id: actor.account.id, name: input.name.trim(), description: input.description ?? null, filter: JSON.stringify(input.filter), created_at: now, updated_at: now });
      await c.audit({ action: 'segment.created', model: 'Segment', modelId: s.id, new: snapshot(s) });
      return s;
    });
  }

  update(actor: Actor, id: number, patch: Partial<SegmentInput>): Promise<SegmentRecord> {
    authorize(actor, 'manage_contacts');
    return this.changes.run(actor, async (c) => {
      const before = await c.tx.segments.get(actor.account.id, id);
      if (!before) throw notFound('segment');
      const after = (await c.tx.segments.update(actor.account.id, id, {
        ...(patch.name !== undefined ? { name: patch.name.trim() } : {}),
        ...(patch.description !== undefined ? { description: patch.description } : {}),
        ...(patch.filter !== undefined ? { filter: JSON.stringify(patch.filter) } : {}),
        updated_at: Date.now(),
      }))!;
      await c.audit({ action: 'segment.updated', model: 'Segment', modelId: id, old: snapshot(before), new: snapshot(after) });
      return after;
    });
  }

  remove(actor: Actor, id: number): Promise<SegmentRecord> {
    authorize(actor, 'manage_contacts');
    return this.changes.run(actor, async (c) => {
      const before = await c.tx.segments.get(actor.account.id, id);
      if (!before) throw notFound('segment');
      await c.tx.segments.remove(actor.account.id, id);
      await c.audit({ action: 'segment.deleted', model: 'Segment', modelId: id, old: snapshot(before) });
      return before;
    });
  }
}
