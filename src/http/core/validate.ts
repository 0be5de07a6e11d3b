/** zod → neutral field issues (each dialect words them), and input schemas every dialect shares. */
import { z } from 'zod';
import { isTimeZone } from '../../scheduler/slots.js';
import { FIELD_CODES, invalid, issue, type FieldCode, type FieldIssue, type FieldIssues } from '../../services/errors.js';

export function parseOrThrow<T extends z.ZodType>(schema: T, input: unknown): z.output<T> {
  // reportInput: zod 4 leaves the offending value out of issues unless asked, and "required"
  // versus "wrong type" depends on it.
  const result = schema.safeParse(input ?? {}, { reportInput: true });
  if (result.success) return result.data;
  const fields: FieldIssues = {};
  for (const i of result.error.issues) {
    const key = i.path.length ? i.path.join('.') : '_';
    (fields[key] ??= []).push(toIssue(i));
  }
  throw invalid(fields);
}

function toIssue(i: z.core.$ZodIssue): FieldIssue {
  switch (i.code) {
    case 'invalid_type':
      return i.input === undefined || i.input === null ? issue('required') : issue('type', { expected: i.expected === 'int' ? 'integer' : i.expected });
    case 'too_small': {
      const min = Number(i.minimum);
      if (i.origin === 'string') return min <= 1 ? issue('required') : issue('min_length', { min });
      if (i.origin === 'array') return issue('min_items', { min });
      return issue('min', { min });
    }
    case 'too_big': {
      const max = Number(i.maximum);
      if (i.origin === 'string') return issue('max_length', { max });
      if (i.origin === 'array') return issue('max_items', { max });
      return issue('max', { max });
    }
    case 'invalid_format':
      // A pattern may name its own code as the message (e.g. 'e164').
      if (i.message in FIELD_CODES) return issue(i.message as FieldCode);
      return issue(i.format === 'email' ? 'email' : 'format');
    case 'invalid_value':
      return issue('choice', { allowed: i.values.map(String).join(', ') });
    case 'unrecognized_keys':
      return issue('unknown_fields', { keys: i.keys.join(', ') });
    case 'custom':
      // Refinements name their code as the message.
      return issue(i.message in FIELD_CODES ? (i.message as FieldCode) : 'invalid');
    default:
      return issue('invalid');
  }
}

/** A phone-looking string: digits with an optional +, spaces, dashes, dots, parentheses. */
export const phoneLike = z.string().trim().regex(/^\+?[\d\s\-().]{3,24}$/);

const isDate = (s: string) => !Number.isNaN(Date.parse(s));

/** ISO 8601 date or date-time; returns epoch ms. */
export const isoDate = z.string().refine(isDate, 'date').transform((s) => Date.parse(s));

/** An exclusive end: end_date=2025-11-07 means "through the 7th", so a bare date ends at the next midnight. */
export const isoEndDate = z.string().refine(isDate, 'date').transform((s) => Date.parse(s) + (/^\d{4}-\d{2}-\d{2}$/.test(s) ? 86_400_000 : 0));

/** A query flag written true/false or 1/0. */
export const queryBoolean = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');

/** An IANA time zone (Africa/Libreville). */
export const timeZone = z.string().refine(isTimeZone, 'timezone');

/**
 * Text that is not well-formed — a lone surrogate (`"\\ud800"` in JSON) or bytes that were not
 * UTF-8 (decoded as U+FFFD) — is refused on the field that carries it, before anything is
 * charged or sent: it would otherwise go out as replacement characters.
 */
export function refuseMalformedText(input: unknown): void {
  const bad = malformedAt(input, '');
  if (bad !== null) throw invalid({ [bad || '_']: [issue('encoding')] });
}

const LONE_SURROGATE_OR_REPLACEMENT = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]|\uFFFD/;

/**
 * The first malformed key or string, depth first. A loop, not a recursion: a body nested
 * 100 000 deep fits in the body limit and would overflow the stack (a 500).
 */
function malformedAt(input: unknown, root: string): string | null {
  const todo: { v: unknown; path: string; key?: string }[] = [{ v: input, path: root }];
  while (todo.length) {
    const { v, path, key } = todo.pop()!;
    if (key !== undefined && LONE_SURROGATE_OR_REPLACEMENT.test(key)) return path;
    if (typeof v === 'string') {
      if (LONE_SURROGATE_OR_REPLACEMENT.test(v)) return path;
      continue;
    }
    if (v === null || typeof v !== 'object') continue;
    const entries = Object.entries(v);
    for (let i = entries.length - 1; i >= 0; i--) {
      const [k, child] = entries[i]!;
      todo.push({ v: child, path: path ? `${path}.${k}` : k, key: k });
    }
  }
  return null;
}
