/**
 * Contacts and groups of an account. One phone number per contact per account (E.164, with the
 * routing rules). Every change, its audit row and its webhook event commit in one transaction.
 */
import { randomUUID } from 'node:crypto';
import type { ContactCard, ContactRecord, GroupRecord, GroupWithSize } from '../store/contacts.js';
import type { Store } from '../store/db.js';
import type { Page, PageRequest } from '../store/repo.js';
import type { Repos } from '../store/repos.js';
import type { ContactStatus } from '../store/tables.js';
import type { Change, Changes } from './changes.js';
import { fieldError, notFound } from './errors.js';
import type { Phones } from './phones.js';
import { authorize, type Actor } from './policy.js';

export type { ContactCard, GroupRecord, GroupWithSize };

export const CONTACT_STATUSES = ['active', 'inactive', 'unsubscribed'] as const;

export interface ContactInput {
  name: string;
  email?: string | null | undefined;
  phone: string;
  group?: string | null | undefined;
  status?: ContactStatus | undefined;
  custom_fields?: Record<string, string> | undefined;
  tags?: string[] | undefined;
}

export type ContactRow = ContactRecord & { groups: string[] };

/** A contact's id, or its uuid. */
export type ContactRef = number | string;

export interface ContactFilter {
  q?: string | undefined;
  name?: string | undefined;
  phone?: string | undefined;
  tag?: string | undefined;
  /** Any of these tags. */
  tags?: string[] | undefined;
  group?: string | undefined;
  status?: ContactStatus | undefined;
}

/** What events and the audit log carry of a contact. */
const eventData = (c: ContactRecord) => ({ id: c.id, uuid: c.uuid, name: c.name, email: c.email, phone: c.phone, status: c.status });
const snapshot = (c: ContactRow) => ({ ...eventData(c), groups: c.groups, custom_fields: JSON.parse(c.custom_fields) as unknown, tags: JSON.parse(c.tags) as unknown });

export class ContactService {
  constructor(private readonly store: Store, private readonly changes: Changes, readonly phones: Phones) {}

  // ---- reads ----

  async get(actor: Actor, ref: ContactRef): Promise<ContactRow> {
    authorize(actor, 'manage_contacts');
    return this.load(this.store.repos, actor.account.id, ref);
  }

  /** A contact by id, or by uuid (Mifumo); another account's answers as missing. */
  private async load(repos: Repos, accountId: number, ref: ContactRef): Promise<ContactRow> {
    const row = typeof ref === 'number' ? await repos.contacts.get(accountId, ref) : await repos.contacts.byUuid(accountId, ref);
    if (!row) throw notFound('contact');
    return { ...row, groups: (await repos.contacts.groupNames([row.id])).get(row.id) ?? [] };
  }

  async page(actor: Actor, f: ContactFilter, req: PageRequest): Promise<Page<ContactRow>> {
    authorize(actor, 'manage_contacts');
    return this.withGroups(await this.store.repos.contacts.page(actor.account.id, {
      q: f.q ? { text: f.q, digits: this.phones.searchDigits(f.q) } : undefined,
      name: f.name, phoneDigits: f.phone ? this.phones.searchDigits(f.phone) : undefined, tag: f.tag, anyTags: f.tags, group: f.group, status: f.status,
    }, req));
  }

  private async withGroups(p: Page<ContactRecord>): Promise<Page<ContactRow>> {
    const groups = await this.store.repos.contacts.groupNames(p.rows.map((r) => r.id));
    return { ...p, rows: p.rows.map((r) => ({ ...r, groups: groups.get(r.id) ?? [] })) };
  }

  /** What the send path needs of its recipients' contacts (opt-out, personalization), by number. */
  cards(accountId: number, phones: readonly string[]): Promise<ReadonlyMap<string, ContactCard>> {
    return this.store.repos.contacts.cards(accountId, phones);
  }

  // ---- writes ----

  async create(actor: Actor, input: ContactInput): Promise<ContactRow> {
    authorize(actor, 'manage_contacts');
    const phone = this.phones.normalize(input.phone);
    return this.changes.run(actor, async (c) => {
      if ((await c.tx.contacts.idByPhone(actor.account.id, phone)) !== undefined) throw fieldError('phone', 'taken');
      const id = await this.insert(c, { ...input, phone });
      const row = await this.load(c.tx, actor.account.id, id);
      await c.audit({ action: 'contact.created', model: 'Contact', modelId: id, new: snapshot(row) });
      return row;
    });
  }

  async update(actor: Actor, ref: ContactRef, patch: Partial<ContactInput>): Promise<ContactRow> {
    authorize(actor, 'manage_contacts');
    const phone = patch.phone !== undefined ? this.phones.normalize(patch.phone) : undefined;
    const accountId = actor.account.id;
    return this.changes.run(actor, async (c) => {
      const before = await this.load(c.tx, accountId, ref);
      const id = before.id;
      if (phone !== undefined && phone !== before.phone && (await c.tx.contacts.idByPhone(accountId, phone)) !== undefined) throw fieldError('phone', 'taken');
      await c.tx.contacts.update(accountId, id, columns({ ...patch, ...(phone ? { phone } : {}) }, before.status));
      if (patch.group !== undefined) {
        await c.tx.contacts.leaveAll(id);
        if (patch.group) await this.join(c, id, patch.group);
      }
      const after = await this.load(c.tx, accountId, id);
      await c.emit('contact.updated', eventData(after));
      await c.audit({ action: 'contact.updated', model: 'Contact', modelId: id, old: snapshot(before), new: snapshot(after) });
      return after;
    });
  }

  async remove(actor: Actor, ref: ContactRef): Promise<ContactRow> {
    authorize(actor, 'manage_contacts');
    return this.changes.run(actor, async (c) => {
      const before = await this.load(c.tx, actor.account.id, ref);
      const id = before.id;
      await c.tx.contacts.remove(actor.account.id, id);
      await c.emit('contact.deleted', { id: before.id, uuid: before.uuid, name: before.name, phone: before.phone });
      await c.audit({ action: 'contact.deleted', model: 'Contact', modelId: id, old: snapshot(before) });
      return before;
    });
  }

  /**
   * The contact of each (E.164) number, created — named after its number — where the account has
   * none: FLOW's send-sms answers every message with its contact. Part of sending, so it needs no
   * contact permission of its own.
   */
  async ensure(actor: Actor, phones: readonly string[]): Promise<Map<string, number>> {
    const accountId = actor.account.id;
    const known = await this.store.repos.contacts.idsByPhone(accountId, phones);
    const missing = [...new Set(phones.filter((p) => !known.has(p)))];
    if (!missing.length) return known;
    return this.changes.run(actor, async (c) => {
      const ids = await c.tx.contacts.idsByPhone(accountId, missing); // another request may have made some
      for (const phone of missing) if (!ids.has(phone)) ids.set(phone, await this.insert(c, { name: phone, phone }));
      for (const [phone, id] of ids) known.set(phone, id);
      return known;
    });
  }

  /**
   * Insert or update by phone (the CSV import's rule), on the import's transaction; returns
   * whether it created. Only the fields given change an existing contact; custom fields merge.
   */
  async upsert(c: Change, input: Partial<ContactInput> & { phone: string }): Promise<'created' | 'updated'> {
    const accountId = c.actor.account.id;
    const existing = await c.tx.contacts.idByPhone(accountId, input.phone);
    if (existing === undefined) {
      await this.insert(c, { ...input, name: input.name ?? input.phone });
      return 'created';
    }
    const current = (await c.tx.contacts.get(accountId, existing))!;
    const merged = { ...(JSON.parse(current.custom_fields) as Record<string, string>), ...(input.custom_fields ?? {}) };
    await c.tx.contacts.update(accountId, existing, columns({ ...input, custom_fields: merged }, current.status));
    if (input.group) await this.join(c, existing, input.group);
    await c.emit('contact.updated', async () => eventData((await c.tx.contacts.get(accountId, existing))!));
    return 'updated';
  }

  private async insert(c: Change, input: ContactInput & { phone: string }): Promise<number> {
    const now = Date.now();
    const status = input.status ?? 'active';
    const accountId = c.actor.account.id;
    const id = await c.tx.contacts.insert({
      uuid: randomUUID(), account_id: accountId, name: input.name.trim(), email: input.email || null, phone: input.phone, status,
      custom_fields: JSON.stringify(input.custom_fields ?? {}), tags: JSON.stringify(input.tags ?? []),
      opt_in_at: status === 'active' ? now : null, opt_out_at: status === 'unsubscribed' ? now : null, created_at: now, updated_at: now,
    });
    if (input.group) await this.join(c, id, input.group);
    await c.emit('contact.created', async () => eventData((await c.tx.contacts.get(accountId, id))!));
    return id;
  }

  // ---- groups ----

  /** The group named `name`, created if needed. */
  private async groupNamed(c: Change, name: string): Promise<number> {
    const trimmed = name.trim();
    const found = await c.tx.contacts.groupByName(c.actor.account.id, trimmed);
    return found?.id ?? (await c.tx.contacts.insertGroup({ account_id: c.actor.account.id, name: trimmed, description: null, created_at: Date.now() })).id;
  }

  private async join(c: Change, contactId: number, groupName: string): Promise<void> {
    await c.tx.contacts.join(await this.groupNamed(c, groupName), contactId, Date.now());
  }

  groups(actor: Actor): Promise<GroupWithSize[]> {
    authorize(actor, 'manage_groups');
    return this.store.repos.contacts.groups(actor.account.id);
  }

  private async group(repos: Repos, accountId: number, id: number): Promise<GroupRecord> {
    const row = await repos.contacts.group(accountId, id);
    if (!row) throw notFound('contact group');
    return row;
  }

  createGroup(actor: Actor, input: { name: string; description?: string | undefined }): Promise<GroupRecord> {
    authorize(actor, 'manage_groups');
    const name = input.name.trim();
    return this.changes.run(actor, async (c) => {
      if (await c.tx.contacts.groupByName(actor.account.id, name)) throw fieldError('name', 'taken');
      const g = await c.tx.contacts.insertGroup({ account_id: actor.account.id, name, description: input.description ?? null, created_at: Date.now() });
      await c.audit({ action: 'contact_group.created', model: 'ContactGroup', modelId: g.id, new: { name: g.name, description: g.description } });
      return g;
    });
  }

  deleteGroup(actor: Actor, id: number): Promise<GroupRecord> {
    authorize(actor, 'manage_groups');
    return this.changes.run(actor, async (c) => {
      const before = await this.group(c.tx, actor.account.id, id);
      await c.tx.contacts.removeGroup(actor.account.id, id);
      await c.audit({ action: 'contact_group.deleted', model: 'ContactGroup', modelId: id, old: { name: before.name } });
      return before;
    });
  }

  /** Every id must be one of the caller's contacts: a foreign id is a 404, as everywhere. Returns how many changed. */
  changeMembers(actor: Actor, groupId: number, contactIds: number[], action: 'add' | 'remove'): Promise<number> {
    authorize(actor, 'manage_groups');
    const unique = [...new Set(contactIds)];
    return this.changes.run(actor, async (c) => {
      await this.group(c.tx, actor.account.id, groupId);
      if ((await c.tx.contacts.owned(actor.account.id, unique)).length !== unique.length) throw notFound('contact');
      let changed = 0;
      const at = Date.now();
      for (const id of unique) if (action === 'add' ? await c.tx.contacts.join(groupId, id, at) : await c.tx.contacts.leave(groupId, id)) changed += 1;
      await c.audit({ action: `contact_group.contacts_${action === 'add' ? 'added' : 'removed'}`, model: 'ContactGroup', modelId: groupId, new: { contact_ids: contactIds } });
      return changed;
    });
  }

  async groupMembers(actor: Actor, groupId: number, req: PageRequest): Promise<Page<ContactRow>> {
    authorize(actor, 'manage_groups');
    const group = await this.group(this.store.repos, actor.account.id, groupId);
    return this.withGroups(await this.store.repos.contacts.page(actor.account.id, { group: group.name }, req));
  }
}

/** The columns a patch changes; opt-in/out times follow status changes. */
function columns(patch: Partial<ContactInput>, previous: ContactStatus) {
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
