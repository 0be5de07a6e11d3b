/**
 * CSV import of contacts, streamed: the file is parsed as it arrives (quotes, BOM, `,` or `;`,
 * CRLF) and written in batches of 500 rows per transaction, so 100 000 rows never sit in memory.
 * Valid rows are kept, bad ones reported with their line number, duplicates update in place.
 */
import type { Readable } from 'node:stream';
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
const BATCH = 500;
const email = z.email();

export async function importContacts(store: Store, contacts: ContactService, accountId: number, file: Readable): Promise<ImportResult> {
  const result: ImportResult = { created: 0, updated: 0, failed: 0, errors: [] };
  const parser = file.pipe(parse({
    bom: true, columns: (header: string[]) => header.map((h) => h.trim().toLowerCase()), delimiter: [',', ';'],
    relax_column_count: true, skip_empty_lines: true, trim: true, info: true,
  }));
  let batch: { line: number; input: ContactInput & { phone: string } }[] = [];
  const flush = () => {
    const rows = batch;
    batch = [];
    store.transaction(() => {
      for (const { input } of rows) result[contacts.upsertSync(accountId, input)] += 1;
    });
  };
  let sawPhoneColumn: boolean | null = null;
  for await (const { record, info } of parser as AsyncIterable<{ record: Record<string, string>; info: { lines: number } }>) {
    sawPhoneColumn ??= 'phone' in record;
    if (!sawPhoneColumn) throw validationError({ file: ['The CSV must have a header line with at least a "phone" column (name,email,phone,group,status).'] });
    const line = info.lines;
    const row = toContact(record, contacts);
    if ('error' in row) {
      result.failed += 1;
      if (result.errors.length < MAX_REPORTED) result.errors.push({ row: line, field: row.field, message: row.error });
      continue;
    }
    batch.push({ line, input: row });
    if (batch.length >= BATCH) flush();
  }
  if (batch.length) flush();
  return result;
}

function toContact(record: Record<string, string>, contacts: ContactService): (ContactInput & { phone: string }) | { field: string; error: string } {
  const phoneRaw = record.phone ?? '';
  if (!phoneRaw) return { field: 'phone', error: 'The phone field is required.' };
  let phone: string;
  try {
    phone = contacts.normalizePhone(phoneRaw);
  } catch {
    return { field: 'phone', error: `The phone "${phoneRaw}" is not a valid number.` };
  }
  const mail = record.email || null;
  if (mail && !email.safeParse(mail).success) return { field: 'email', error: `The email "${mail}" is not a valid email address.` };
  const status = record.status || 'active';
  if (!['active', 'inactive', 'unsubscribed'].includes(status)) return { field: 'status', error: `The status "${status}" must be active, inactive or unsubscribed.` };
  const custom = Object.fromEntries(Object.entries(record).filter(([k, v]) => !KNOWN.has(k) && k !== '' && v !== undefined && v !== ''));
  return { name: record.name || phone, email: mail, phone, group: record.group || null, status: status as ContactInput['status'], custom_fields: custom };
}
