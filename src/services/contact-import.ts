/**
 * CSV import of contacts, streamed: the file is parsed as it arrives (quotes, BOM, `,` or `;`,
 * CRLF) and written a few hundred rows per transaction, so 100 000 rows never sit in memory.
 * Valid rows are kept, bad ones reported with their line number, duplicates update in place.
 */
import { Readable } from 'node:stream';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { parse } from 'csv-parse';
import { z } from 'zod';
import type { Change, Changes } from './changes.js';
import { CONTACT_STATUSES, type ContactInput, type ContactService } from './contacts.js';
import { fieldError, issue, type FieldIssue } from './errors.js';
import { authorize, type Actor } from './policy.js';

export interface ImportResult {
  created: number;
  updated: number;
  failed: number;
  /** Bad rows by line number (the first 1000). */
  errors: { row: number; field: string; issue: FieldIssue }[];
}

const KNOWN = new Set(['name', 'email', 'phone', 'group', 'status']);
const MAX_REPORTED = 1000;
const BATCH = 200;
const email = z.email();

export class ContactImportService {
  constructor(private readonly changes: Changes, private readonly contacts: ContactService) {}

  /**
   * Imports the CSV as it streams in, committing a batch at a time. A broken file stops the
   * import with a 422 naming the line; the rows before it stay imported. The audit row commits
   * with the last batch of a complete import.
   */
  async importCsv(actor: Actor, file: Readable): Promise<ImportResult> {
    authorize(actor, 'manage_contacts');
    const result: ImportResult = { created: 0, updated: 0, failed: 0, errors: [] };
    const { delimiter, stream } = await sniffDelimiter(file);
    let header: string[] | null = null;
    const parser = stream.pipe(parse({
      bom: true, delimiter, relax_column_count: true, skip_empty_lines: true, trim: true, info: true,
      columns: (names: string[]) => (header = names.map((h) => h.trim().toLowerCase())),
    }));
    stream.on('error', (err) => parser.destroy(err)); // pipe() does not pass errors on
    let batch: ImportRow[] = [];
    const flush = (last?: (c: Change) => Promise<void>) => {
      const rows = batch;
      batch = [];
      return this.changes.run(actor, async (c) => {
        for (const row of rows) result[await this.contacts.upsert(c, row)] += 1;
        await last?.(c);
      });
    };
    try {
      await readRows(parser, () => header, this.contacts, result, async (row) => {
        batch.push(row);
        if (batch.length < BATCH) return;
        await flush();
        // Parsed records arrive in large synchronous runs: give the binds' timers a turn between batches.
        await yieldToLoop();
      });
    } catch (err) {
      // Rows before the damage are kept; the answer says where it broke.
      const e = err as { code?: string; lines?: number; message?: string };
      if (typeof e.code === 'string' && e.code.startsWith('CSV_')) {
        if (batch.length) await flush();
        throw fieldError('file', 'csv_malformed', { line: e.lines ?? '?', reason: e.message ?? e.code });
      }
      throw err;
    }
    if (header === null || !(header as string[]).includes('phone')) throw noPhoneColumn();
    await flush((c) => c.audit({ action: 'contact.imported', model: 'Contact', modelId: null, new: { created: result.created, updated: result.updated, failed: result.failed } }));
    return result;
  }
}

async function readRows(parser: AsyncIterable<unknown>, header: () => string[] | null, contacts: ContactService, result: ImportResult, keep: (row: ImportRow) => Promise<void>): Promise<void> {
  for await (const { record, info } of parser as AsyncIterable<{ record: Record<string, string>; info: { lines: number } }>) {
    if (!header()!.includes('phone')) throw noPhoneColumn();
    const row = toContact(record, contacts);
    if ('issue' in row) {
      result.failed += 1;
      if (result.errors.length < MAX_REPORTED) result.errors.push({ row: info.lines, field: row.field, issue: row.issue });
      continue;
    }
    await keep(row);
  }
}

const noPhoneColumn = () => fieldError('file', 'csv_no_phone_column');

/**
 * One separator per file, the one its header line uses: with both allowed, an unquoted
 * "Durand, Fils" in a ;-separated export (as French spreadsheets write them) would be split.
 */
async function sniffDelimiter(file: Readable): Promise<{ delimiter: string; stream: Readable }> {
  const it = file[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  let head = Buffer.alloc(0);
  while (!head.includes(10) && head.length < 64 * 1024) {
    const next = await it.next();
    if (next.done) break;
    head = Buffer.concat([head, next.value]);
  }
  const firstLine = head.subarray(0, head.includes(10) ? head.indexOf(10) : head.length).toString('utf8').replace(/"[^"]*"/g, '');
  const delimiter = (firstLine.split(';').length > firstLine.split(',').length) ? ';' : ',';
  const stream = Readable.from((async function* () {
    if (head.length) yield head;
    for (;;) {
      const next = await it.next();
      if (next.done) return;
      yield next.value;
    }
  })());
  return { delimiter, stream };
}

/** Only the columns the file has (and fills) change an existing contact: a phone-only list must not wipe names or re-subscribe opted-out people. */
type ImportRow = Partial<ContactInput> & { phone: string };

function toContact(record: Record<string, string>, contacts: ContactService): ImportRow | { field: string; issue: FieldIssue } {
  const phoneRaw = record.phone ?? '';
  if (!phoneRaw) return { field: 'phone', issue: issue('required') };
  const phone = contacts.phones.tryNormalize(phoneRaw);
  if (!phone) return { field: 'phone', issue: issue('phone_not_number', { value: phoneRaw }) };
  const mail = record.email || undefined;
  if (mail && !email.safeParse(mail).success) return { field: 'email', issue: issue('email_not_valid', { value: mail }) };
  const status = record.status || undefined;
  if (status !== undefined && !(CONTACT_STATUSES as readonly string[]).includes(status)) return { field: 'status', issue: issue('status_not_allowed', { value: status, allowed: 'active, inactive or unsubscribed' }) };
  const custom = Object.fromEntries(Object.entries(record).filter(([k, v]) => !KNOWN.has(k) && k !== '' && v !== undefined && v !== ''));
  return {
    phone,
    ...(record.name ? { name: record.name } : {}),
    ...(mail ? { email: mail } : {}),
    ...(record.group ? { group: record.group } : {}),
    ...(status ? { status: status as ContactInput['status'] } : {}),
    ...(Object.keys(custom).length ? { custom_fields: custom } : {}),
  };
}
