/**
 * SMPP delivery receipts: the Appendix B text format, message_state TLV values, and SMSC message
 * id normalization (SMSCs often report the same id in a different base in the receipt than in
 * submit_sm_resp, so ids must be compared by numeric value, not by string).
 */

export type ReceiptStat = 'DELIVRD' | 'UNDELIV' | 'EXPIRED' | 'REJECTD' | 'DELETED' | 'UNKNOWN' | 'ACCEPTD' | 'ENROUTE';

export interface Receipt {
  id: string;
  stat: ReceiptStat;
  err?: string;
  submitDate?: string;
  doneDate?: string;
  text?: string;
}

export type IdFormat = 'hex' | 'decimal';

const STATS: readonly ReceiptStat[] = ['DELIVRD', 'UNDELIV', 'EXPIRED', 'REJECTD', 'DELETED', 'UNKNOWN', 'ACCEPTD', 'ENROUTE'];

/** Spelled-out forms some SMSCs send instead of the 7-letter codes. */
const STAT_ALIASES: Readonly<Record<string, ReceiptStat>> = {
  DELIVERED: 'DELIVRD',
  UNDELIVERABLE: 'UNDELIV',
  UNDELIVERED: 'UNDELIV',
  REJECTED: 'REJECTD',
  ACCEPTED: 'ACCEPTD',
};

// ---------------------------------------------------------------------------------------------
// Receipt text

/**
 * A key is a known field name at the start or after whitespace, followed by ':' (spaces
 * allowed around it). Anchoring on whitespace keeps e.g. "id" inside a value from matching.
 */
const KEY_RE = /(?<!\S)(id|sub|dlvrd|submit[ _]?date|done[ _]?date|stat|err|text)\s*:/gi;

type Field = 'id' | 'sub' | 'dlvrd' | 'submitdate' | 'donedate' | 'stat' | 'err' | 'text';

/** Split receipt text into raw field values. `text:` runs to the end, whatever it contains. */
function splitFields(input: string): Map<Field, string> {
  const fields = new Map<Field, string>();
  const matches = [...input.matchAll(KEY_RE)];
  for (let i = 0; i < matches.length; i++) {
    const m = matches[i] as RegExpMatchArray;
    const key = (m[1] as string).toLowerCase().replace(/[ _]/g, '') as Field;
    const start = (m.index as number) + m[0].length;
    if (key === 'text') {
      if (!fields.has('text')) fields.set('text', input.slice(start).trim());
      break;
    }
    const end = matches[i + 1]?.index ?? input.length;
    // First token only: vendor-specific extras ("foo:bar") must not leak into a known field.
    const value = input.slice(start, end).trim().split(/\s+/)[0] ?? '';
    if (!fields.has(key)) fields.set(key, value);
  }
  return fields;
}

function parseStat(raw: string | undefined): ReceiptStat | null {
  if (!raw) return null;
  const upper = raw.toUpperCase();
  if ((STATS as readonly string[]).includes(upper)) return upper as ReceiptStat;
  // A receipt with an unrecognised status is still a receipt: report it as UNKNOWN.
  return STAT_ALIASES[upper] ?? 'UNKNOWN';
}

export function parseReceiptText(text: string): Receipt | null {
  const fields = splitFields(text);
  const id = fields.get('id');
  const stat = parseStat(fields.get('stat'));
  if (!id || !stat) return null;
  const receipt: Receipt = { id, stat };
  const err = fields.get('err');
  const submitDate = fields.get('submitdate');
  const doneDate = fields.get('donedate');
  const body = fields.get('text');
  if (err) receipt.err = err;
  if (submitDate) receipt.submitDate = submitDate;
  if (doneDate) receipt.doneDate = doneDate;
  if (body !== undefined) receipt.text = body;
  return receipt;
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

/** YYMMDDhhmm in UTC, as Appendix B specifies. */
function formatDate(d: Date): string {
  return (
    pad(d.getUTCFullYear() % 100, 2) +
    pad(d.getUTCMonth() + 1, 2) +
    pad(d.getUTCDate(), 2) +
    pad(d.getUTCHours(), 2) +
    pad(d.getUTCMinutes(), 2)
  );
}

export function formatReceiptText(r: {
  id: string;
  stat: ReceiptStat;
  err?: string;
  submitDate: Date;
  doneDate: Date;
  text?: string;
  sub?: number;
  dlvrd?: number;
}): string {
  const dlvrd = r.dlvrd ?? (r.stat === 'DELIVRD' ? 1 : 0);
  return [
    `id:${r.id}`,
    `sub:${pad(r.sub ?? 1, 3)}`,
    `dlvrd:${pad(dlvrd, 3)}`,
    `submit date:${formatDate(r.submitDate)}`,
    `done date:${formatDate(r.doneDate)}`,
    `stat:${r.stat}`,
    `err:${r.err ?? '000'}`,
    // Appendix B: the first 20 characters of the original message.
    `text:${(r.text ?? '').slice(0, 20)}`,
  ].join(' ');
}

// ---------------------------------------------------------------------------------------------
// message_state TLV (SMPP 3.4 5.3.2.35)

// A Record keyed by every stat makes the compiler check the mapping is exhaustive.
const STAT_TO_STATE: Readonly<Record<ReceiptStat, number>> = {
  ENROUTE: 1,
  DELIVRD: 2,
  EXPIRED: 3,
  DELETED: 4,
  UNDELIV: 5,
  ACCEPTD: 6,
  UNKNOWN: 7,
  REJECTD: 8,
};

const STATE_TO_STAT: ReadonlyMap<number, ReceiptStat> = new Map(
  STATS.map((stat) => [STAT_TO_STATE[stat], stat] as const),
);

export function statFromMessageState(state: number): ReceiptStat | null {
  return STATE_TO_STAT.get(state) ?? null;
}

export function messageStateFromStat(stat: ReceiptStat): number {
  return STAT_TO_STATE[stat];
}

export function isFinalStat(stat: ReceiptStat): boolean {
  return stat !== 'ENROUTE' && stat !== 'ACCEPTD';
}

// ---------------------------------------------------------------------------------------------
// SMSC message id normalization

const HEX_RE = /^[0-9a-f]+$/i;
const DECIMAL_RE = /^[0-9]+$/;

/**
 * Canonical form of an SMSC message id: lowercase hex of its numeric value when it parses in
 * `format` (BigInt: 20+ digit ids exceed 2^53), else the lowercased id without leading zeros,
 * so non-numeric ids (UUID-like) only ever match themselves.
 */
export function normalizeSmscId(id: string, format: IdFormat): string {
  const trimmed = id.trim();
  if (format === 'hex' && HEX_RE.test(trimmed)) return BigInt(`0x${trimmed}`).toString(16);
  if (format === 'decimal' && DECIMAL_RE.test(trimmed)) return BigInt(trimmed).toString(16);
  return trimmed.toLowerCase().replace(/^0+(?=.)/, '');
}

/**
 * Canonical form of the id reported in a receipt, parsed in the operator's configured receipt
 * format. `format` (the submit_sm_resp format) is part of the signature so callers pass the
 * whole id configuration; the canonical form does not depend on it, since both sides normalize
 * to the same numeric representation.
 */
export function normalizeReceiptId(id: string, format: IdFormat, receiptFormat: IdFormat): string {
  void format;
  return normalizeSmscId(id, receiptFormat);
}
