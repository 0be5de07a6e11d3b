/**
 * GSM 03.38 (3GPP TS 23.038) / UCS-2 text codec and concatenation for SMPP.
 *
 * Hand-rolled on purpose: the `smpp` package's codec gets the GSM table wrong, and part
 * counting must match exactly what we send (it is billed as sms_count).
 *
 * SMPP carries GSM text with data_coding 0 as *unpacked* septets (one per octet), so there is
 * no 7-bit packing here, and a UDH is simply prepended as octets.
 */

export type Encoding = 'gsm7' | 'ucs2';

export const DATA_CODING: Record<Encoding, number> = { gsm7: 0x00, ucs2: 0x08 };

export interface MessageShape {
  encoding: Encoding;
  parts: number;
  units: number;
  unitsPerPart: number;
}

export interface EncodedMessage {
  encoding: Encoding;
  dataCoding: number;
  parts: Buffer[];
  udhi: boolean;
}

export interface ConcatInfo {
  reference: number;
  total: number;
  sequence: number;
}

export interface DecodedShortMessage {
  text: string;
  concat?: ConcatInfo;
}

// ---------------------------------------------------------------------------------------------
// Tables (TS 23.038 6.2.1). Index = septet value. 0x1B is the escape to the extension table;
// it has no character of its own, so it is a placeholder never produced by the encoder.

const ESC = 0x1b;

const BASIC_TABLE: readonly string[] = [
  '@', '£', '$', '¥', 'è', 'é', 'ù', 'ì', 'ò', 'Ç', '\n', 'Ø', 'ø', '\r', 'Å', 'å',
  'Δ', '_', 'Φ', 'Γ', 'Λ', 'Ω', 'Π', 'Ψ', 'Σ', 'Θ', 'Ξ', '\u001b', 'Æ', 'æ', 'ß', 'É',
  ' ', '!', '"', '#', '¤', '%', '&', "'", '(', ')', '*', '+', ',', '-', '.', '/',
  '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', ':', ';', '<', '=', '>', '?',
  '¡', 'A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'I', 'J', 'K', 'L', 'M', 'N', 'O',
  'P', 'Q', 'R', 'S', 'T', 'U', 'V', 'W', 'X', 'Y', 'Z', 'Ä', 'Ö', 'Ñ', 'Ü', '§',
  '¿', 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o',
  'p', 'q', 'r', 's', 't', 'u', 'v', 'w', 'x', 'y', 'z', 'ä', 'ö', 'ñ', 'ü', 'à',
];

/** Extension table: septet code that follows ESC -> character. */
const EXTENSION_TABLE: ReadonlyArray<readonly [number, string]> = [
  [0x0a, '\f'], [0x14, '^'], [0x28, '{'], [0x29, '}'], [0x2f, '\\'],
  [0x3c, '['], [0x3d, '~'], [0x3e, ']'], [0x40, '|'], [0x65, '€'],
];

// Built once at load: encode lookups by UTF-16 code unit (every GSM character is in the BMP).
const BASIC_ENCODE = new Map<number, number>();
const EXT_ENCODE = new Map<number, number>();
const EXT_DECODE = new Map<number, string>();
/** Septet cost per UTF-16 code unit: 0 = not GSM, 1 = basic, 2 = extension. Hot path of analyze. */
const GSM_COST = new Uint8Array(0x10000);

BASIC_TABLE.forEach((ch, septet) => {
  if (septet === ESC) return;
  BASIC_ENCODE.set(ch.charCodeAt(0), septet);
  GSM_COST[ch.charCodeAt(0)] = 1;
});
for (const [code, ch] of EXTENSION_TABLE) {
  EXT_ENCODE.set(ch.charCodeAt(0), code);
  EXT_DECODE.set(code, ch);
  GSM_COST[ch.charCodeAt(0)] = 2;
}

const LIMITS = {
  gsm7: { single: 160, multi: 153 },
  ucs2: { single: 70, multi: 67 },
} as const;

/** UDH is one byte per part total/sequence, so a message cannot exceed 255 parts. */
const MAX_PARTS = 255;

// ---------------------------------------------------------------------------------------------
// Analysis (no buffers: runs on every accepted message)

export function isGsm7(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    if (GSM_COST[text.charCodeAt(i)] === 0) return false;
  }
  return true;
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}

/** UCS-2 cost of the character starting at i: 2 for a surrogate pair so it is never split. */
function ucs2Cost(text: string, i: number): number {
  return isHighSurrogate(text.charCodeAt(i)) && isLowSurrogate(text.charCodeAt(i + 1)) ? 2 : 1;
}

/**
 * Greedy part count that mirrors the splitting in encodeMessage: an indivisible unit (escape
 * pair, surrogate pair) that does not fit in the current part opens the next one.
 */
function countParts(text: string, encoding: Encoding, units: number): number {
  const { single, multi } = LIMITS[encoding];
  if (units <= single) return 1;
  let parts = 1;
  let used = 0;
  for (let i = 0; i < text.length; ) {
    const cost = encoding === 'gsm7' ? (GSM_COST[text.charCodeAt(i)] as number) : ucs2Cost(text, i);
    if (used + cost > multi) {
      parts++;
      used = 0;
    }
    used += cost;
    i += encoding === 'gsm7' ? 1 : cost;
  }
  return parts;
}

function gsmSeptets(text: string): number {
  let septets = 0;
  for (let i = 0; i < text.length; i++) {
    const cost = GSM_COST[text.charCodeAt(i)] as number;
    if (cost === 0) return -1;
    septets += cost;
  }
  return septets;
}

export function analyze(text: string): MessageShape {
  const septets = gsmSeptets(text);
  const encoding: Encoding = septets >= 0 ? 'gsm7' : 'ucs2';
  const units = septets >= 0 ? septets : text.length;
  const parts = countParts(text, encoding, units);
  const limits = LIMITS[encoding];
  return { encoding, parts, units, unitsPerPart: parts === 1 ? limits.single : limits.multi };
}

// ---------------------------------------------------------------------------------------------
// GSM 7-bit / UCS-2 primitives

export function encodeGsm7(text: string): Buffer {
  const out = Buffer.allocUnsafe(text.length * 2);
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    const basic = BASIC_ENCODE.get(code);
    if (basic !== undefined) {
      out[n++] = basic;
      continue;
    }
    const ext = EXT_ENCODE.get(code);
    if (ext === undefined) {
      throw new RangeError(`character U+${code.toString(16).padStart(4, '0')} at ${i} is not in the GSM 03.38 alphabet`);
    }
    out[n++] = ESC;
    out[n++] = ext;
  }
  return out.subarray(0, n);
}

export function decodeGsm7(septets: Buffer): string {
  let text = '';
  for (let i = 0; i < septets.length; i++) {
    // Unpacked septets should be < 0x80; mask rather than fail on a sloppy SMSC.
    const septet = (septets[i] as number) & 0x7f;
    if (septet !== ESC) {
      text += BASIC_TABLE[septet];
      continue;
    }
    const next = septets[++i];
    if (next === undefined) break; // dangling escape at the end: nothing to show
    const code = next & 0x7f;
    // TS 23.038: an unknown extension code is shown as the basic-table character.
    text += EXT_DECODE.get(code) ?? (code === ESC ? ' ' : BASIC_TABLE[code]);
  }
  return text;
}

export function encodeUcs2(text: string): Buffer {
  // Node writes UTF-16LE code units verbatim (lone surrogates included); swap to big-endian.
  return Buffer.from(text, 'utf16le').swap16();
}

export function decodeUcs2(buf: Buffer): string {
  // Copy: swap16 works in place and the caller's buffer must stay intact. An odd trailing byte
  // cannot form a code unit and is dropped.
  const even = Buffer.from(buf.subarray(0, buf.length & ~1));
  return even.swap16().toString('utf16le');
}

// ---------------------------------------------------------------------------------------------
// Splitting and concatenation

/** Split points of a GSM septet stream: never between ESC and its code. */
function splitGsm(septets: Buffer, size: number): Buffer[] {
  const parts: Buffer[] = [];
  for (let start = 0; start < septets.length; ) {
    let end = Math.min(start + size, septets.length);
    // Only an escape can be 0x1B (extension codes never are), so this is always a pair start.
    if (end < septets.length && septets[end - 1] === ESC) end--;
    parts.push(septets.subarray(start, end));
    start = end;
  }
  return parts;
}

/** Split a text into UTF-16 chunks of at most `size` code units, keeping surrogate pairs whole. */
function splitUcs2(text: string, size: number): string[] {
  const parts: string[] = [];
  for (let start = 0; start < text.length; ) {
    let end = Math.min(start + size, text.length);
    if (end < text.length && isHighSurrogate(text.charCodeAt(end - 1)) && isLowSurrogate(text.charCodeAt(end))) end--;
    parts.push(text.slice(start, end));
    start = end;
  }
  return parts;
}

function udh(reference: number, total: number, sequence: number): Buffer {
  return Buffer.from([0x05, 0x00, 0x03, reference, total, sequence]);
}

function withUdh(bodies: Buffer[], reference: number): Buffer[] {
  if (bodies.length > MAX_PARTS) throw new RangeError(`message needs ${bodies.length} parts, max is ${MAX_PARTS}`);
  return bodies.map((body, i) => Buffer.concat([udh(reference, bodies.length, i + 1), body]));
}

export function encodeMessage(text: string, reference: number): EncodedMessage {
  const encoding: Encoding = isGsm7(text) ? 'gsm7' : 'ucs2';
  const dataCoding = DATA_CODING[encoding];
  const body = encoding === 'gsm7' ? encodeGsm7(text) : encodeUcs2(text);
  const units = encoding === 'gsm7' ? body.length : text.length;
  if (units <= LIMITS[encoding].single) return { encoding, dataCoding, parts: [body], udhi: false };

  const bodies =
    encoding === 'gsm7'
      ? splitGsm(body, LIMITS.gsm7.multi)
      : splitUcs2(text, LIMITS.ucs2.multi).map(encodeUcs2);
  // Mask so a caller's rolling counter can be passed as-is; the IE holds one octet.
  return { encoding, dataCoding, parts: withUdh(bodies, reference & 0xff), udhi: true };
}

// ---------------------------------------------------------------------------------------------
// Inbound decoding

interface SplitUdh {
  body: Buffer;
  concat?: ConcatInfo;
}

/** Concatenation IE (8-bit ref IEI 0x00, 16-bit ref IEI 0x08); invalid values are ignored per 23.040. */
function concatFromIe(iei: number, data: Buffer): ConcatInfo | undefined {
  let info: ConcatInfo | undefined;
  if (iei === 0x00 && data.length === 3) {
    info = { reference: data[0] as number, total: data[1] as number, sequence: data[2] as number };
  } else if (iei === 0x08 && data.length === 4) {
    info = { reference: data.readUInt16BE(0), total: data[2] as number, sequence: data[3] as number };
  }
  if (!info || info.total === 0 || info.sequence === 0 || info.sequence > info.total) return undefined;
  return info;
}

function parseUdh(buf: Buffer): SplitUdh {
  const udhl = buf[0];
  // No room for the declared header: the UDHI flag is probably wrong, keep everything as text.
  if (udhl === undefined || 1 + udhl > buf.length) return { body: buf };
  const header = buf.subarray(1, 1 + udhl);
  let concat: ConcatInfo | undefined;
  for (let i = 0; i + 2 <= header.length; ) {
    const iei = header[i] as number;
    const len = header[i + 1] as number;
    if (i + 2 + len > header.length) break;
    concat ??= concatFromIe(iei, header.subarray(i + 2, i + 2 + len));
    i += 2 + len;
  }
  const body = buf.subarray(1 + udhl);
  return concat ? { body, concat } : { body };
}

type Alphabet = 'gsm7' | 'latin1' | 'ascii' | 'ucs2';

/** SMPP 3.4 5.2.19 data_coding, with GSM 03.38 DCS groups as a fallback for the other values. */
function alphabetFor(dataCoding: number, defaultAlphabet: 'gsm7' | 'latin1' | 'ascii'): Alphabet {
  switch (dataCoding) {
    case 0x00: return defaultAlphabet;
    case 0x01: return 'ascii';
    case 0x02: case 0x03: case 0x04: return 'latin1'; // 8-bit binary or Latin-1
    case 0x08: return 'ucs2';
  }
  if (dataCoding >= 0xf0) return dataCoding & 0x04 ? 'latin1' : 'gsm7'; // data coding/message class
  if (dataCoding >= 0x10 && dataCoding <= 0x3f) {
    // General data coding group: bits 3..2 give the alphabet.
    const alphabet = (dataCoding >> 2) & 0x03;
    return alphabet === 0 ? 'gsm7' : alphabet === 2 ? 'ucs2' : 'latin1';
  }
  if (dataCoding >= 0xc0 && dataCoding <= 0xdf) return 'gsm7'; // message waiting, GSM
  if (dataCoding >= 0xe0 && dataCoding <= 0xef) return 'ucs2'; // message waiting, UCS-2
  return 'latin1'; // JIS, Cyrillic, Hebrew, KS C...: no built-in decoder, best effort
}

function decodeWith(alphabet: Alphabet, body: Buffer): string {
  switch (alphabet) {
    case 'gsm7': return decodeGsm7(body);
    case 'ucs2': return decodeUcs2(body);
    case 'ascii': return body.toString('ascii');
    case 'latin1': return body.toString('latin1');
  }
}

export function decodeShortMessage(
  buf: Buffer,
  dataCoding: number,
  udhi: boolean,
  defaultAlphabet: 'gsm7' | 'latin1' | 'ascii' = 'gsm7',
): DecodedShortMessage {
  const { body, concat } = udhi ? parseUdh(buf) : { body: buf, concat: undefined };
  const text = decodeWith(alphabetFor(dataCoding, defaultAlphabet), body);
  return concat ? { text, concat } : { text };
}
