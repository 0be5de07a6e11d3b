/**
 * CSV import of contacts, streamed: the file is parsed as it arrives (quotes, BOM, `,` or `;`,
 * CRLF) and written in batches of 500 rows per transaction, so 100 000 rows never sit in memory.
 * Valid rows are kept, bad ones reported with their line number, duplicates update in place.
 */
import { Readable } from 'node:stream';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { parse } from 'csv-parse';
import { z } from 'zod';
import type { Store } from '../store/db.js';
import type { ContactInput, ContactService } from './contacts.js';
import { validationError } from './errors.js';

export interface ImportResult {
  created: number;
  updated: number;
  failed: number;
  errors: { row: number; field: string; message: string }[];
}

const KNOWN = new Set(['name', 'email', 'phone', 'group', 'status']);
const MAX_REPORTED = 1000;
const BATCH = 200;
const email = z.email();

export async function importContacts(store: Store, contacts: ContactService, accountId: number, file: Readable): Promise<ImportResult> {
  const result: ImportResult = { created: 0, updated: 0, failed: 0, errors: [] };
  const { delimiter, stream } = await sniffDelimiter(file);
  let header: string[] | null = null;
  const parser = stream.pipe(parse({
    bom: true, delimiter, relax_column_count: true, skip_empty_lines: true, trim: true, info: true,
    columns: (names: string[]) => (header = names.map((h) => h.trim().toLowerCase())),
  }));
  stream.on('error', (err) => parser.destroy(err)); // pipe() does not pass errors on
  let batch: ImportRow[] = [];
  const flush = () => {
    const rows = batch;
    batch = [];
    store.transaction(() => {
      for (const row of rows) result[contacts.upsertSync(accountId, row)] += 1;
    });
  };
  try {
    await readRows(parser, () => header, contacts, result, async (row) => {
      batch.push(row);
      if (batch.length < BATCH) return;
      flush();
      // Parsed records arrive in large synchronous runs: give the binds' timers a turn between batches.
      await yieldToLoop();
    });
  } catch (err) {
    // Rows before the damage are kept (their batches committed); the answer says where it broke.
    const e = err as { code?: string; lines?: number; message?: string };
    if (typeof e.code === 'string' && e.code.startsWith('CSV_')) {
      if (batch.length) flush();
      throw validationError({ file: [`The CSV is malformed near line ${e.lines ?? '?'}: ${e.message ?? e.code}. Rows before it were imported.`] });
    }
    throw err;
  }
  if (header === null || !(header as string[]).includes('phone')) throw noPhoneColumn();
  if (batch.length) flush();
  return result;
}

async function readRows(parser: AsyncIterable<unknown>, header: () => string[] | null, contacts: ContactService, result: ImportResult, keep: (row: ImportRow) => Promise<void>): Promise<void> {
  for await (const { record, info } of parser as AsyncIterable<{ record: Record<string, string>; info: { lines: number } }>) {
    if (!header()!.includes('phone')) throw noPhoneColumn();
    const row = toContact(record, contacts);
    if ('error' in row) {
      result.failed += 1;
      if (result.errors.length < MAX_REPORTED) result.errors.push({ row: info.lines, field: row.field, message: row.error });
      continue;
    }
    await keep(row);
  }
}

const noPhoneColumn = () => validationError({ file: ['The CSV must have a header line with at least a "phone" column (name,email,phone,group,status).'] });

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

function toContact(record: Record<string, string>, contacts: ContactService): ImportRow | { field: string; error: string } {
  const phoneRaw = record.phone ?? '';
  if (!phoneRaw) return { field: 'phone', error: 'The phone field is required.' };
  let phone: string;
  try {
    phone = contacts.normalizePhone(phoneRaw);
  } catch {
    return { field: 'phone', error: `The phone "${phoneRaw}" is not a valid number.` };
  }
  const mail = record.email || undefined;
  if (mail && !email.safeParse(mail).success) return { field: 'email', error: `The email "${mail}" is not a valid email address.` };
  const status = record.status || undefined;
  if (status !== undefined && !['active', 'inactive', 'unsubscribed'].includes(status)) return { field: 'status', error: `The status "${status}" must be active, inactive or unsubscribed.` };
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
