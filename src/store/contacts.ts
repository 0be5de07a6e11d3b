/** Contacts of an account, its groups and their members. One contact per phone number per account. */
import type { Insertable, Selectable, Updateable } from 'kysely';
import { PreparedBySize, Repo, contains, pageOf, type Db, type Executor, type Page, type PageRequest } from './repo.js';
import type { ContactGroupsTable, ContactStatus, ContactsTable } from './tables.js';

export type ContactRecord = Selectable<ContactsTable>;
export type GroupRecord = Selectable<ContactGroupsTable>;
export type GroupWithSize = GroupRecord & { contacts_count: number };

/** What personalization and the opt-out check need of a recipient's contact. */
export interface ContactCard {
  name: string;
  email: string | null;
  phone: string;
  custom_fields: string;
  status: ContactStatus;
}

/** A segment's filter: every tag, every attribute value, and optionally a status. */
export interface SegmentFilter {
  tags?: string[] | undefined;
  attributes?: Record<string, string> | undefined;
  status?: ContactStatus | undefined;
}

/** Which contacts a campaign audience takes from the contact book. */
export type ContactSource = { ids: readonly number[] } | { uuids: readonly string[] } | { groupIds: readonly number[] } | { segment: SegmentFilter };

export interface ContactQuery {
  /** Name, email or phone digits. */
  q?: { text: string; digits: string } | undefined;
  name?: string | undefined;
  phoneDigits?: string | undefined;
  tag?: string | undefined;
  /** Any of these tags. */
  anyTags?: string[] | undefined;
  group?: string | undefined;
  status?: ContactStatus | undefined;
}

export class ContactsRepo extends Repo {
  /** On the send path, for every recipient: a few IN lists of fixed sizes, each compiled once. */
  private readonly cardsQuery: PreparedBySize<ContactCard>;

  constructor(db: Db, exec: Executor) {
    super(db, exec);
    this.cardsQuery = new PreparedBySize((size) =>
      db.selectFrom('contacts').select(['name', 'email', 'phone', 'custom_fields', 'status']).where('account_id', '=', 0).where('phone', 'in', Array<string>(size).fill('')));
  }

  /** The account's contacts among these numbers, by number. */
  async cards(accountId: number, phones: readonly string[]): Promise<Map<string, ContactCard>> {
    const found = new Map<string, ContactCard>();
    let at = 0;
    for (const size of this.cardsQuery.split(phones.length)) {
      for (const card of await this.cardsQuery.of(size).all(this.exec, [accountId, ...phones.slice(at, at + size)])) found.set(card.phone, card);
      at += size;
    }
    return found;
  }

  get(accountId: number, id: number): Promise<ContactRecord | undefined> {
    return this.db.selectFrom('contacts').selectAll().where('id', '=', id).where('account_id', '=', accountId).executeTakeFirst();
  }

  /** By the uuid the Mifumo dialect knows contacts by. */
  byUuid(accountId: number, uuid: string): Promise<ContactRecord | undefined> {
    return this.db.selectFrom('contacts').selectAll().where('uuid', '=', uuid).where('account_id', '=', accountId).executeTakeFirst();
  }

  /** Ids of the account's contacts among these numbers, by number (a few hundred at a time). */
  async idsByPhone(accountId: number, phones: readonly string[]): Promise<Map<string, number>> {
    const found = new Map<string, number>();
    for (let i = 0; i < phones.length; i += 500) {
      const rows = await this.db.selectFrom('contacts').select(['id', 'phone']).where('account_id', '=', accountId).where('phone', 'in', phones.slice(i, i + 500)).execute();
      for (const r of rows) found.set(r.phone, r.id);
    }
    return found;
  }

  async idByPhone(accountId: number, phone: string): Promise<number | undefined> {
    return (await this.db.selectFrom('contacts').select('id').where('account_id', '=', accountId).where('phone', '=', phone).executeTakeFirst())?.id;
  }

  private filtered(accountId: number, f: ContactQuery) {
    let q = this.db.selectFrom('contacts as c').where('c.account_id', '=', accountId);
    if (f.q) {
      const { text, digits } = f.q;
      q = q.where((eb) => eb.or([contains('c.name', text), contains('c.phone', digits || text), contains('c.email', text)]));
    }
    if (f.name) q = q.where(contains('c.name', f.name));
    if (f.phoneDigits !== undefined) q = q.where(contains('c.phone', f.phoneDigits));
    if (f.status) q = q.where('c.status', '=', f.status);
    if (f.tag) q = q.where(contains('c.tags', JSON.stringify(f.tag)));
    const anyTags = f.anyTags;
    if (anyTags?.length) q = q.where((eb) => eb.or(anyTags.map((t) => contains('c.tags', JSON.stringify(t)))));
    if (f.group) {
      const group = f.group;
      q = q.where((eb) => eb.exists(eb.selectFrom('contact_group_members as m').innerJoin('contact_groups as g', 'g.id', 'm.group_id')
        .select('m.contact_id').whereRef('m.contact_id', '=', 'c.id').where('g.name', '=', group)));
    }
    return q;
  }

  /** The next `limit` contacts of a source after contact `afterId`, by id: audiences are read a page at a time. */
  sourcePage(accountId: number, source: ContactSource, afterId: number, limit: number): Promise<(ContactCard & { id: number })[]> {
    let q = this.db.selectFrom('contacts as c').select(['c.id', 'c.name', 'c.email', 'c.phone', 'c.custom_fields', 'c.status'])
      .where('c.account_id', '=', accountId).where('c.id', '>', afterId);
    if ('ids' in source) q = q.where('c.id', 'in', source.ids.length ? source.ids : [0]);
    else if ('uuids' in source) q = q.where('c.uuid', 'in', source.uuids.length ? source.uuids : ['']);
    else if ('groupIds' in source) {
      const groups = source.groupIds.length ? source.groupIds : [0];
      q = q.where((eb) => eb.exists(eb.selectFrom('contact_group_members as m').select('m.contact_id').whereRef('m.contact_id', '=', 'c.id').where('m.group_id', 'in', groups)));
    } else {
      const f = source.segment;
      for (const tag of f.tags ?? []) q = q.where(contains('c.tags', JSON.stringify(tag)));
      for (const [k, v] of Object.entries(f.attributes ?? {})) q = q.where(contains('c.custom_fields', `${JSON.stringify(k)}:${JSON.stringify(v)}`));
      if (f.status) q = q.where('c.status', '=', f.status);
    }
    return q.orderBy('c.id').limit(limit).execute();
  }

  page(accountId: number, f: ContactQuery, req: PageRequest): Promise<Page<ContactRecord>> {
    return pageOf(this.filtered(accountId, f).selectAll('c').orderBy('c.id'), req);
  }

  /** Group names of each contact, by contact id. */
  async groupNames(ids: readonly number[]): Promise<Map<number, string[]>> {
    const out = new Map<number, string[]>();
    if (!ids.length) return out;
    const rows = await this.db.selectFrom('contact_group_members as m').innerJoin('contact_groups as g', 'g.id', 'm.group_id')
      .select(['m.contact_id', 'g.name']).where('m.contact_id', 'in', ids).orderBy('g.name').execute();
    for (const r of rows) out.set(r.contact_id, [...(out.get(r.contact_id) ?? []), r.name]);
    return out;
  }

  async insert(row: Insertable<ContactsTable>): Promise<number> {
    return (await this.db.insertInto('contacts').values(row).returning('id').executeTakeFirstOrThrow()).id;
  }

  async update(accountId: number, id: number, patch: Updateable<ContactsTable>): Promise<void> {
    await this.db.updateTable('contacts').set(patch).where('id', '=', id).where('account_id', '=', accountId).execute();
  }

  async remove(accountId: number, id: number): Promise<void> {
    await this.db.deleteFrom('contacts').where('id', '=', id).where('account_id', '=', accountId).execute();
  }

  /** Which of these ids are contacts of the account. */
  async owned(accountId: number, ids: readonly number[]): Promise<number[]> {
    if (!ids.length) return [];
    return (await this.db.selectFrom('contacts').select('id').where('account_id', '=', accountId).where('id', 'in', ids).execute()).map((r) => r.id);
  }

  // ---- groups ----

  groups(accountId: number): Promise<GroupWithSize[]> {
    return this.db.selectFrom('contact_groups as g').leftJoin('contact_group_members as m', 'm.group_id', 'g.id')
      .select(['g.id', 'g.account_id', 'g.name', 'g.description', 'g.created_at', (eb) => eb.fn.count<number>('m.contact_id').as('contacts_count')])
      .where('g.account_id', '=', accountId).groupBy('g.id').orderBy('g.id').execute();
  }

  group(accountId: number, id: number): Promise<GroupRecord | undefined> {
    return this.db.selectFrom('contact_groups').selectAll().where('id', '=', id).where('account_id', '=', accountId).executeTakeFirst();
  }

  groupByName(accountId: number, name: string): Promise<GroupRecord | undefined> {
    return this.db.selectFrom('contact_groups').selectAll().where('account_id', '=', accountId).where('name', '=', name).executeTakeFirst();
  }

  insertGroup(row: Insertable<ContactGroupsTable>): Promise<GroupRecord> {
    return this.db.insertInto('contact_groups').values(row).returningAll().executeTakeFirstOrThrow();
  }

  async removeGroup(accountId: number, id: number): Promise<void> {
    await this.db.deleteFrom('contact_groups').where('id', '=', id).where('account_id', '=', accountId).execute();
  }

  /** Returns whether the contact was not a member yet. */
  async join(groupId: number, contactId: number, at: number): Promise<boolean> {
    const r = await this.db.insertInto('contact_group_members').values({ group_id: groupId, contact_id: contactId, added_at: at }).onConflict((oc) => oc.doNothing()).executeTakeFirst();
    return Number(r.numInsertedOrUpdatedRows ?? 0n) > 0;
  }

  async leave(groupId: number, contactId: number): Promise<boolean> {
    const r = await this.db.deleteFrom('contact_group_members').where('group_id', '=', groupId).where('contact_id', '=', contactId).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  async leaveAll(contactId: number): Promise<void> {
    await this.db.deleteFrom('contact_group_members').where('contact_id', '=', contactId).execute();
  }
}
