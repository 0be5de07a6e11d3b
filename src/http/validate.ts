/** zod → field errors worded like the Laravel messages SendWave clients already display. */
import { z } from 'zod';
import { validationError, type FieldErrors } from '../services/errors.js';

export function parseOrThrow<T extends z.ZodType>(schema: T, input: unknown): z.output<T> {
  // reportInput: zod 4 leaves the offending value out of issues unless asked, and "required"
  // versus "wrong type" depends on it.
  const result = schema.safeParse(input ?? {}, { reportInput: true });
  if (result.success) return result.data;
  const fields: FieldErrors = {};
  for (const issue of result.error.issues) {
    const key = issue.path.length ? issue.path.join('.') : '_';
    (fields[key] ??= []).push(wording(issue, key.replace(/_/g, ' ')));
  }
  throw validationError(fields);
}

function wording(issue: z.core.$ZodIssue, field: string): string {
  switch (issue.code) {
    case 'invalid_type':
      return issue.input === undefined || issue.input === null ? `The ${field} field is required.` : `The ${field} field must be ${article(issue.expected)}.`;
    case 'too_small':
      if (issue.origin === 'string') return Number(issue.minimum) <= 1 ? `The ${field} field is required.` : `The ${field} field must be at least ${issue.minimum} characters.`;
      if (issue.origin === 'array') return Number(issue.minimum) <= 1 ? `The ${field} field must have at least 1 item.` : `The ${field} field must have at least ${issue.minimum} items.`;
      return `The ${field} field must be at least ${issue.minimum}.`;
    case 'too_big':
      if (issue.origin === 'string') return `The ${field} field must not be greater than ${issue.maximum} characters.`;
      if (issue.origin === 'array') return `The ${field} field must not have more than ${issue.maximum} items.`;
      return `The ${field} field must not be greater than ${issue.maximum}.`;
    case 'invalid_format':
      return issue.format === 'email' ? `The ${field} field must be a valid email address.` : `The ${field} field format is invalid.`;
    case 'invalid_value':
      return `The selected ${field} is invalid.`;
    case 'unrecognized_keys':
      return `Unknown field(s): ${issue.keys.join(', ')}.`;
    case 'custom':
      return issue.message.startsWith('The ') ? issue.message : `The ${field} field is invalid.`;
    default:
      return issue.message || `The ${field} field is invalid.`;
  }
}

const article = (type: string): string => (type === 'array' ? 'an array' : type === 'integer' || type === 'int' ? 'an integer' : type === 'object' ? 'an object' : `a ${type}`);

/** A phone-looking string: digits with an optional +, spaces, dashes, dots, parentheses. */
export const phoneLike = z.string().trim().regex(/^\+?[\d\s\-().]{3,24}$/, 'The phone format is invalid.');

/** ISO 8601 date or date-time; returns epoch ms. */
export const isoDate = z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'The date must be a valid ISO 8601 date.').transform((s) => Date.parse(s));

/** An exclusive end: end_date=2025-11-07 means "through the 7th", so a bare date ends at the next midnight. */
export const isoEndDate = z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'The date must be a valid ISO 8601 date.')
  .transform((s) => Date.parse(s) + (/^\d{4}-\d{2}-\d{2}$/.test(s) ? 86_400_000 : 0));

export const pagination = z.object({
  page: z.coerce.number().int().min(1).default(1),
  per_page: z.coerce.number().int().min(1).max(500).default(50),
});
