/**
 * CSV import of contacts, streamed: the file is parsed as it arrives (quotes, BOM, `,` or `;`,
 * CRLF) and written a few hundred rows per transaction, so 100 000 rows never sit in memory.
 * Valid rows are kept, bad ones reported with their line number, duplicates update in place.
 */
import { isUtf8 } from 'node:buffer';
import { Readable } from 'node:stream';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { CsvError, Parser } from 'csv-parse';
import { z } from 'zod';
import type { Change, Changes } from './changes.js';
import { CONTACT_STATUSES, type ContactInput, type ContactService } from './contacts.js';
import { fieldError, issue, ServiceError, type FieldIssue } from './errors.js';
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
   * Imports the CSV as it streams in, committing a batch at a time. A file that stops being
   * readable — broken CSV, an upload cut short — stops the import with a 422 naming the line; the
   * rows before that line stay imported (the ones already parsed are committed first), none after.
   * The audit row commits with the last batch of a complete import.
   */
  async importCsv(actor: Actor, file: Readable): Promise<ImportResult> {
    authorize(actor, 'manage_contacts');
    const result: ImportResult = { created: 0, updated: 0, failed: 0, errors: [] };
    let batch: ImportRow[] = [];
    const flush = async (last?: (c: Change, total: Pick<ImportResult, 'created' | 'updated' | 'failed'>) => Promise<void>) => {
      const rows = batch;
      batch = [];
      // Counted per attempt (PostgreSQL may run the transaction again), added once it commits.
      const done = await this.changes.run(actor, async (c) => {
        const counted = { created: 0, updated: 0 };
        for (const row of rows) counted[await this.contacts.upsert(c, row)] += 1;
        await last?.(c, { created: result.created + counted.created, updated: result.updated + counted.updated, failed: result.failed });
        return counted;
      });
      result.created += done.created;
      result.updated += done.updated;
    };
    let sniffed: Sniffed;
    try {
      sniffed = await sniffDelimiter(file);
    } catch (err) {
      throw stoppedAt(err, 0);
    }
    let header: string[] | null = null;
    /** The file line where the last complete record (or the header) ended. */
    let lastLine = 0;
    const reader = new RecordReader({
      bom: true, delimiter: sniffed.delimiter, relax_column_count: true, skip_empty_lines: true, trim: true, info: true, max_record_size: MAX_RECORD,
      columns: (names: string[]) => {
        lastLine = reader.info.lines;
        return (header = names.map((h) => h.trim().toLowerCase()));
      },
    });
    sniffed.stream.on('error', (err) => reader.stop(err)); // pipe() does not pass errors on
    sniffed.stream.pipe(reader);
    const stop = await readRows(reader, () => header, this.contacts, result, (line) => (lastLine = line), async (row) => {
      batch.push(row);
      if (batch.length < BATCH) return;
      await flush();
      // Parsed records arrive in large synchronous runs: give the binds' timers a turn between batches.
      await yieldToLoop();
    });
    // Bytes that are not UTF-8 end the file early, on a line boundary: what came before is whole.
    const broken = stop?.reason ?? (sniffed.notUtf8.line === undefined ? undefined : new NotUtf8(sniffed.notUtf8.line));
    if (broken !== undefined) {
      // Rows before the damage are kept; the answer says where it broke.
      if (batch.length) await flush();
      throw stoppedAt(broken, lastLine);
    }
    if (header === null || !(header as string[]).includes('phone')) throw noPhoneColumn();
    await flush((c, total) => c.audit({ action: 'contact.imported', model: 'Contact', modelId: null, new: { created: total.created, updated: total.updated, failed: total.failed } }));
    return result;
  }
}

/** Longest record the parser buffers (bytes): past it, a quote never closed stops the import instead of filling memory. */
const MAX_RECORD = 1024 * 1024;

/** What a record stream yields: a record with where it ended, or why reading stopped (always last). */
type ReadItem = { record: Record<string, string>; info: { lines: number } } | { stop: unknown };

/**
 * csv-parse, except that a syntax error, or `stop()` (the source failed), ends the records with a
 * `{stop}` item instead of destroying the stream: records parsed before the damage, often in the
 * same chunk, are still delivered, so "rows before it were imported" holds to the line.
 */
class RecordReader extends Parser {
  private stopped = false;

  override _transform(chunk: Buffer, encoding: BufferEncoding, done: (err?: Error | null) => void): void {
    if (this.stopped) return done(); // the rest of the upload is drained, unread
    super._transform(chunk, encoding, (err?: Error | null) => this.settle(err, done));
  }

  override _flush(done: (err?: Error | null) => void): void {
    if (this.stopped) return done();
    super._flush((err?: Error | null) => this.settle(err, done));
  }

  stop(reason: unknown): void {
    if (this.stopped || this.writableFinished || this.destroyed) return; // read to the end already, or abandoned
    this.stopped = true;
    this.push({ stop: reason });
    this.push(null);
  }

  private settle(err: Error | null | undefined, done: () => void): void {
    if (err) this.stop(err);
    done();
  }
}

/** Fixed words for the parser's complaints: its own messages quote the cell, which must not travel further. */
const CSV_REASONS: Record<string, string> = {
  INVALID_OPENING_QUOTE: 'a quote inside a cell that does not begin with one (quote the whole cell and double the quote: "ab""c")',
  CSV_INVALID_CLOSING_QUOTE: 'characters after the closing quote of a cell',
  CSV_NON_TRIMABLE_CHAR_AFTER_CLOSING_QUOTE: 'characters after the closing quote of a cell',
  CSV_QUOTE_NOT_CLOSED: 'a quote opened there is never closed',
  CSV_MAX_RECORD_SIZE: `a line longer than ${MAX_RECORD / 1024 / 1024} MB (a quote never closed?)`,
};

/**
 * The error for a read that stopped after line `line`: a CSV syntax error names its line; an
 * error of the upload (cut short, too large) gets the line it reached; anything else (a bug) is
 * left as it is.
 */
function stoppedAt(reason: unknown, line: number): unknown {
  if (reason instanceof NotUtf8) return fieldError('file', 'csv_malformed', { line: reason.line, reason: 'bytes that are not UTF-8 (save the file as "CSV UTF-8")' });
  if (reason instanceof CsvError) {
    // An unclosed quote is only noticed at the end of the file: it opened in the record after the last good one.
    const at = reason.code === 'CSV_QUOTE_NOT_CLOSED' ? line + 1 : Number(reason.lines) || line + 1;
    return fieldError('file', 'csv_malformed', { line: at, reason: CSV_REASONS[reason.code] ?? 'it cannot be read as CSV' });
  }
  if (reason instanceof ServiceError && reason.kind === 'validation') {
    const fields = Object.fromEntries(Object.entries(reason.fields).map(([f, issues]) => [f, issues.map((i) => ({ ...i, params: { ...i.params, line } }))]));
    return new ServiceError(reason.kind, reason.code, fields, reason.params);
  }
  return reason;
}

/** Checks and hands on each record; returns why reading stopped early, if it did. */
async function readRows(reader: AsyncIterable<unknown>, header: () => string[] | null, contacts: ContactService, result: ImportResult, reached: (line: number) => void, keep: (row: ImportRow) => Promise<void>): Promise<{ reason: unknown } | null> {
  for await (const item of reader as AsyncIterable<ReadItem>) {
    if ('stop' in item) return { reason: item.stop };
    const { record, info } = item;
    if (!header()!.includes('phone')) throw noPhoneColumn();
    reached(info.lines);
    const row = toContact(record, contacts);
    if ('issue' in row) {
      result.failed += 1;
      if (result.errors.length < MAX_REPORTED) result.errors.push({ row: info.lines, field: row.field, issue: row.issue });
      continue;
    }
    await keep(row);
  }
  return null;
}

const noPhoneColumn = () => fieldError('file', 'csv_no_phone_column');

/**
 * One separator per file, the one its header line uses: with both allowed, an unquoted
 * "Durand, Fils" in a ;-separated export (as French spreadsheets write them) would be split.
 */
interface Sniffed {
  delimiter: string;
  stream: Readable;
  /** Set when the stream stopped early at bytes that are not UTF-8. */
  notUtf8: { line?: number };
}

async function sniffDelimiter(file: Readable): Promise<Sniffed> {
  const it = file[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  let head = Buffer.alloc(0);
  while (!head.includes(10) && head.length < 64 * 1024) {
    const next = await it.next();
    if (next.done) break;
    head = Buffer.concat([head, next.value]);
  }
  const firstLine = head.subarray(0, head.includes(10) ? head.indexOf(10) : head.length).toString('utf8').replace(/"[^"]*"/g, '');
  const delimiter = (firstLine.split(';').length > firstLine.split(',').length) ? ';' : ',';
  const notUtf8: { line?: number } = {};
  const stream = Readable.from(utf8Only(notUtf8, (async function* () {
    if (head.length) yield head;
    for (;;) {
      const next = await it.next();
      if (next.done) return;
      yield next.value;
    }
  })()));
  return { delimiter, stream, notUtf8 };
}

/** The file has bytes that are not UTF-8 on this line (a Latin-1 or UTF-16 export). */
class NotUtf8 extends Error {
  constructor(readonly line: number) {
    super(`bytes that are not UTF-8 on line ${line}`);
  }
}

/**
 * The chunks as they come while they are UTF-8; at the first byte that is not, the complete lines
 * before it, then the end, with that byte's line in `found`: a Latin-1 "é" must not become U+FFFD
 * in a contact's name. (An end rather than an error: the parser then hands over the last record.)
 */
async function* utf8Only(found: { line?: number }, chunks: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  let carry = Buffer.alloc(0);
  let lines = 0;
  for await (const chunk of chunks) {
    const data = carry.length ? Buffer.concat([carry, chunk]) : chunk;
    const whole = data.length - incompleteTail(data);
    const part = data.subarray(0, whole);
    if (!isUtf8(part)) {
      const bad = firstInvalid(part);
      const cut = part.lastIndexOf(10, bad) + 1;
      if (cut > 0) yield part.subarray(0, cut);
      found.line = lines + countLines(part.subarray(0, cut)) + 1;
      return;
    }
    lines += countLines(part);
    yield part;
    carry = Buffer.from(data.subarray(whole));
  }
  if (carry.length) found.line = lines + 1;
}

const countLines = (b: Buffer): number => {
  let n = 0;
  for (let i = b.indexOf(10); i !== -1; i = b.indexOf(10, i + 1)) n++;
  return n;
};

/** Bytes at the end that begin a multi-byte character the next chunk completes (0 to 3). */
function incompleteTail(b: Buffer): number {
  for (let back = 1; back <= Math.min(3, b.length); back++) {
    const byte = b[b.length - back]!;
    if ((byte & 0xc0) === 0x80) continue; // a continuation byte: look further back
    const need = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
    return need > back ? back : 0;
  }
  return 0;
}

/** Where the first byte that breaks UTF-8 is (the buffer is known to hold one). */
function firstInvalid(b: Buffer): number {
  let lo = 0;
  let hi = b.length;
  // The longest valid prefix, by halves (isUtf8 is native); a prefix may end inside a character,
  // so step back over an incomplete tail before asking.
  while (hi - lo > 1) {
    const mid = (lo + hi) >>> 1;
    const prefix = b.subarray(0, mid);
    if (isUtf8(prefix.subarray(0, prefix.length - incompleteTail(prefix)))) lo = mid;
    else hi = mid;
  }
  return lo;
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
