/**
 * Contacts and groups of an account. One phone number per contact per account (E.164, with the
 * routing rules). Every change and its webhook event commit in one transaction.
 */
import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { Config } from '../config/schema.js';
import { normalizeNumber } from '../routing/number.js';
import type { Store } from '../store/db.js';
import type { Statement } from 'better-sqlite3';
import type { Selectable } from 'kysely';
import type { ContactsTable, ContactStatus } from '../store/tables.js';
import type { Outbox } from '../webhooks/outbox.js';
import { importContacts, type ImportResult } from './contact-import.js';
import { notFound, validationError } from './errors.js';

export interface ContactInput {
  name: string;
  email?: string | null | undefined;
  phone: string;
  group?: string | null | undefined;
  status?: ContactStatus | undefined;
  custom_fields?: Record<string, string> | undefined;
  tags?: string[] | undefined;
}

export type ContactRow = Selectable<ContactsTable> & { groups: string[] };

export interface ContactFilter {
  q?: string | undefined;
  name?: string | undefined;
  phone?: string | undefined;
  tag?: string | undefined;
  group?: string | undefined;
  status?: ContactStatus | undefined;
}

export class ContactService {
  /** Per recipient on the send path (opt-out check, personalization): prepared once. */
  private readonly lookupStmt: Statement;

  constructor(private readonly store: Store, private readonly numbering: Config['numbering'], private readonly outbox: Outbox) {
    this.lookupStmt = store.prepare(store.db.selectFrom('contacts').select(['name', 'email', 'phone', 'custom_fields', 'status']).where('account_id', '=', 0).where('phone', '=', ''));
  }

  /** E.164 or a 422 naming `field`. */
  normalizePhone(raw: string, field = 'phone'): string {
    const n = normalizeNumber(raw, this.numbering);
    if (!n.ok) throw validationError({ [field]: [`The ${field} format is invalid (${n.reason}).`] });
    return n.e164;
  }

  /** Digits to search for: a whole number in any form (national 0…, 00…) becomes its E.164 digits. */
  private phoneDigits(raw: string): string {
    const n = normalizeNumber(raw, this.numbering);
    return n.ok ? n.e164.slice(1) : raw.replace(/\D/g, '');
  }

  // ---- reads ----

  async get(accountId: number, id: number): Promise<ContactRow> {
    const row = await this.store.db.selectFrom('contacts').selectAll().where('id', '=', id).where('account_id', '=', accountId).executeTakeFirst();
    if (!row) throw notFound('contact');
    return { ...row, groups: await this.groupNames(row.id) };
  }

  private async groupNames(contactId: number): Promise<string[]> {
    const rows = await this.store.db.selectFrom('contact_group_members as m').innerJoin('contact_groups as g', 'g.id', 'm.group_id')
      .select('g.name').where('m.contact_id', '=', contactId).orderBy('g.name').execute();
    return rows.map((r) => r.name);
  }

  private filtered(accountId: number, f: ContactFilter) {
    let q = this.store.db.selectFrom('contacts as c').where('c.account_id', '=', accountId);
    if (f.q) q = q.where((eb) => eb.or([eb('c.name', 'like', `%${f.q}%`), eb('c.phone', 'like', `%${this.phoneDigits(f.q!) || f.q}%`), eb('c.email', 'like', `%${f.q}%`)]));
    if (f.name) q = q.where('c.name', 'like', `%${f.name}%`);
    if (f.phone) q = q.where('c.phone', 'like', `%${this.phoneDigits(f.phone)}%`);
    if (f.status) q = q.where('c.status', '=', f.status);
    if (f.tag) q = q.where('c.tags', 'like', `%${JSON.stringify(f.tag)}%`);
    if (f.group) {
      const group = f.group;
      q = q.where((eb) => eb.exists(eb.selectFrom('contact_group_members as m').innerJoin('contact_groups as g', 'g.id', 'm.group_id')
        .select('m.contact_id').whereRef('m.contact_id', '=', 'c.id').where('g.name', '=', group)));
    }
    return q;
  }

  async page(accountId: number, f: ContactFilter, page: number, perPage: number): Promise<{ rows: ContactRow[]; total: number }> {
    const rows = await this.filtered(accountId, f).selectAll('c').orderBy('c.id').limit(perPage).offset((page - 1) * perPage).execute();
    const { n } = await this.filtered(accountId, f).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    const groups = await this.groupsOf(rows.map((r) => r.id));
    return { rows: rows.map((r) => ({ ...r, groups: groups.get(r.id) ?? [] })), total: Number(n) };
  }

  private async groupsOf(ids: number[]): Promise<Map<number, string[]>> {
    const out = new Map<number, string[]>();
    if (!ids.length) return out;
    const rows = await this.store.db.selectFrom('contact_group_members as m').innerJoin('contact_groups as g', 'g.id', 'm.group_id')
      .select(['m.contact_id', 'g.name']).where('m.contact_id', 'in', ids).orderBy('g.name').execute();
    for (const r of rows) out.set(r.contact_id, [...(out.get(r.contact_id) ?? []), r.name]);
    return out;
  }

  // ---- writes (synchronous transactions) ----

  async create(accountId: number, input: ContactInput): Promise<ContactRow> {
    const phone = this.normalizePhone(input.phone);
    const id = this.store.transaction(() => {
      if (this.idByPhone(accountId, phone) !== undefined) throw validationError({ phone: ['The phone has already been taken.'] });
      const newId = this.insert(accountId, { ...input, phone });
      if (input.group) this.join(accountId, newId, input.group);
      this.outbox.emit(accountId, 'contact.created', () => this.eventData(accountId, newId));
      return newId;
    });
    return this.get(accountId, id);
  }

  async update(accountId: number, id: number, patch: Partial<ContactInput>): Promise<{ before: ContactRow; after: ContactRow }> {
    const before = await this.get(accountId, id);
    const phone = patch.phone !== undefined ? this.normalizePhone(patch.phone) : undefined;
    this.store.transaction(() => {
      if (phone !== undefined && phone !== before.phone && this.idByPhone(accountId, phone) !== undefined) {
        throw validationError({ phone: ['The phone has already been taken.'] });
      }
      this.store.run(this.store.db.updateTable('contacts').set(this.columns({ ...patch, ...(phone ? { phone } : {}) }, before.status)).where('id', '=', id).where('account_id', '=', accountId));
      if (patch.group !== undefined) {
        this.store.run(this.store.db.deleteFrom('contact_group_members').where('contact_id', '=', id));
        if (patch.group) this.join(accountId, id, patch.group);
      }
      this.outbox.emit(accountId, 'contact.updated', () => this.eventData(accountId, id));
    });
    return { before, after: await this.get(accountId, id) };
  }

  async remove(accountId: number, id: number): Promise<ContactRow> {
    const before = await this.get(accountId, id);
    this.store.transaction(() => {
      this.store.run(this.store.db.deleteFrom('contacts').where('id', '=', id).where('account_id', '=', accountId));
      this.outbox.emit(accountId, 'contact.deleted', { id: before.id, uuid: before.uuid, name: before.name, phone: before.phone });
    });
    return before;
  }

  /**
   * Insert or update by phone (the CSV import's rule); returns whether it created. Only the
   * fields given change an existing contact; custom fields merge. Call inside a transaction.
   */
  upsertSync(accountId: number, input: Partial<ContactInput> & { phone: string }): 'created' | 'updated' {
    const existing = this.idByPhone(accountId, input.phone);
    if (existing === undefined) {
      const id = this.insert(accountId, { ...input, name: input.name ?? input.phone });
      if (input.group) this.join(accountId, id, input.group);
      this.outbox.emit(accountId, 'contact.created', () => this.eventData(accountId, id));
      return 'created';
    }
    const current = this.store.all(this.store.db.selectFrom('contacts').select(['status', 'custom_fields']).where('id', '=', existing))[0]!;
    const merged = { ...(JSON.parse(current.custom_fields) as Record<string, string>), ...(input.custom_fields ?? {}) };
    this.store.run(this.store.db.updateTable('contacts').set(this.columns({ ...input, custom_fields: merged }, current.status)).where('id', '=', existing));
    if (input.group) this.join(accountId, existing, input.group);
    this.outbox.emit(accountId, 'contact.updated', () => this.eventData(accountId, existing));
    return 'updated';
  }

  private idByPhone(accountId: number, phone: string): number | undefined {
    return this.store.all(this.store.db.selectFrom('contacts').select('id').where('account_id', '=', accountId).where('phone', '=', phone))[0]?.id;
  }

  private insert(accountId: number, input: ContactInput & { phone: string }): number {
    const now = Date.now();
    const status = input.status ?? 'active';
    return this.store.run(this.store.db.insertInto('contacts').values({
      uuid: randomUUID(), account_id: accountId, name: input.name.trim(), email: input.email || null, phone: input.phone, status,
      custom_fields: JSON.stringify(input.custom_fields ?? {}), tags: JSON.stringify(input.tags ?? []),
      opt_in_at: status === 'active' ? now : null, opt_out_at: status === 'unsubscribed' ? now : null, created_at: now, updated_at: now,
    })).lastInsertRowid;
  }

  /** The columns a patch changes; opt-in/out times follow status changes. */
  private columns(patch: Partial<ContactInput>, previous: ContactStatus) {
    const now = Date.now();
    return {
      ...(patch.name !== undefined ? { name: patch.name.trim() } : {}),
      ...(patch.email !== undefined ? { email: patch.email || null } : {}),
      ...(patch.phone !== undefined ? { phone: patch.phone } : {}),
      ...(patch.status !== undefined ? { status: patch.status } : {}),
      ...(patch.status === 'unsubscribed' && previous !== 'unsubscribed' ? { opt_out_at: now } : {}),
      ...(patch.status === 'active' && previous !== 'active' ? { opt_in_at: now, opt_out_at: null } : {}),
      ...(patch.custom_fields !== undefined ? { custom_fields: JSON.stringify(patch.custom_fields) } : {}),
      ...(patch.tags !== undefined ? { tags: JSON.stringify(patch.tags) } : {}),
      updated_at: now,
    };
  }

  private eventData(accountId: number, id: number): Record<string, unknown> {
    const row = this.store.all(this.store.db.selectFrom('contacts').select(['id', 'uuid', 'name', 'email', 'phone', 'status']).where('id', '=', id).where('account_id', '=', accountId))[0];
    return { ...row };
  }

  /** Streamed CSV import (see contact-import.ts). */
  importCsv(accountId: number, file: Readable): Promise<ImportResult> {
    return importContacts(this.store, this, accountId, file);
  }

  // ---- groups ----

  /** The group named `name`, created if needed. Call inside a transaction. */
  private groupId(accountId: number, name: string): number {
    const trimmed = name.trim();
    const found = this.store.all(this.store.db.selectFrom('contact_groups').select('id').where('account_id', '=', accountId).where('name', '=', trimmed))[0];
    if (found) return found.id;
    return this.store.run(this.store.db.insertInto('contact_groups').values({ account_id: accountId, name: trimmed, description: null, created_at: Date.now() })).lastInsertRowid;
  }

  private join(accountId: number, contactId: number, groupName: string): void {
    const gid = this.groupId(accountId, groupName);
    this.store.run(this.store.db.insertInto('contact_group_members').values({ group_id: gid, contact_id: contactId, added_at: Date.now() }).onConflict((oc) => oc.doNothing()));
  }

  async groups(accountId: number) {
    return this.store.db.selectFrom('contact_groups as g').leftJoin('contact_group_members as m', 'm.group_id', 'g.id')
      .select(['g.id', 'g.name', 'g.description', 'g.created_at', (eb) => eb.fn.count<number>('m.contact_id').as('contacts_count')])
      .where('g.account_id', '=', accountId).groupBy('g.id').orderBy('g.id').execute();
  }

  async group(accountId: number, id: number) {
    const row = await this.store.db.selectFrom('contact_groups').selectAll().where('id', '=', id).where('account_id', '=', accountId).executeTakeFirst();
    if (!row) throw notFound('contact group');
    return row;
  }

  async createGroup(accountId: number, input: { name: string; description?: string | undefined }) {
    const exists = await this.store.db.selectFrom('contact_groups').select('id').where('account_id', '=', accountId).where('name', '=', input.name.trim()).executeTakeFirst();
    if (exists) throw validationError({ name: ['The name has already been taken.'] });
    return this.store.db.insertInto('contact_groups').values({ account_id: accountId, name: input.name.trim(), description: input.description ?? null, created_at: Date.now() })
      .returningAll().executeTakeFirstOrThrow();
  }

  async deleteGroup(accountId: number, id: number) {
    const before = await this.group(accountId, id);
    await this.store.db.deleteFrom('contact_groups').where('id', '=', id).where('account_id', '=', accountId).execute();
    return before;
  }

  /** Every id must be one of the caller's contacts: a foreign id is a 404, as everywhere. */
  async changeMembers(accountId: number, groupId: number, contactIds: number[], action: 'add' | 'remove'): Promise<number> {
    await this.group(accountId, groupId);
    const unique = [...new Set(contactIds)];
    const owned = await this.store.db.selectFrom('contacts').select('id').where('account_id', '=', accountId).where('id', 'in', unique).execute();
    if (owned.length !== unique.length) throw notFound('contact');
    return this.store.transaction(() => {
      let changed = 0;
      for (const id of unique) {
        const q = action === 'add'
          ? this.store.db.insertInto('contact_group_members').values({ group_id: groupId, contact_id: id, added_at: Date.now() }).onConflict((oc) => oc.doNothing())
          : this.store.db.deleteFrom('contact_group_members').where('group_id', '=', groupId).where('contact_id', '=', id);
        changed += this.store.run(q).changes;
      }
      return changed;
    });
  }

  async groupMembers(accountId: number, groupId: number, page: number, perPage: number) {
    const group = await this.group(accountId, groupId);
    return this.page(accountId, { group: group.name }, page, perPage);
  }

  /** For personalization: the contact with this number, if the account has one. */
  lookupSync(accountId: number, phone: string): { name: string; email: string | null; phone: string; custom_fields: string; status: ContactStatus } | undefined {
    return this.lookupStmt.get(accountId, phone) as { name: string; email: string | null; phone: string; custom_fields: string; status: ContactStatus } | undefined;
  }
}
