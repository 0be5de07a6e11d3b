/**
 * SendWave Pro (Laravel) errors: `{message, errors:{field:[…]}}` with Laravel's validation
 * sentences and summary line, and the document's own words for 401, 403, 429 and 402.
 */
import { ERROR_CODES, fill, type ErrorCode } from '../../../services/errors.js';
import { STATUS, type Dialect } from '../../core/dialect.js';
import { wording, type FieldWording } from '../../core/wording.js';

const article = (type: unknown): string => (type === 'array' ? 'an array' : type === 'integer' ? 'an integer' : type === 'object' ? 'an object' : `a ${String(type)}`);

/** Laravel's validation sentences, where they differ from the product's. */
const FIELDS: FieldWording = {
  required: 'The {field} field is required.',
  type: (p) => `The {field} field must be ${article(p.expected)}.`,
  min_length: 'The {field} field must be at least {min} characters.',
  max_length: 'The {field} field must not be greater than {max} characters.',
  min_items: (p) => (Number(p.min) <= 1 ? 'The {field} field must have at least 1 item.' : 'The {field} field must have at least {min} items.'),
  max_items: 'The {field} field must not have more than {max} items.',
  min: 'The {field} field must be at least {min}.',
  max: 'The {field} field must not be greater than {max}.',
  email: 'The {field} field must be a valid email address.',
  format: 'The {field} field format is invalid.',
  date: 'The {field} field must be a valid date.',
  choice: 'The selected {field} is invalid.',
  confirmed: 'The {field} field confirmation does not match.',
  taken: 'The {field} has already been taken.',
  invalid: 'The {field} field is invalid.',
  not_zero: 'The {field} must not be zero.',
};

const ERRORS: Partial<Record<ErrorCode, string | ((params: Record<string, string | number>) => string)>> = {
  no_credentials: 'Unauthenticated.',
  unauthenticated: 'Unauthenticated.',
  invalid_token: 'Unauthenticated.',
  permission_denied: "Cette action n'est pas autorisée.",
  rate_limited: 'Too Many Attempts.',
  insufficient_credits: 'Crédit insuffisant : cet envoi coûte {required}, le solde est de {balance}.',
  credit_limit_reached: 'Limite de crédit du sous-compte atteinte : cet envoi coûte {required}, il reste {available}.',
  not_found: (p) => (p.what ? 'No query results for {what}.' : 'No query results.'),
  unknown_path: 'Not Found.',
  method_not_allowed: 'The {method} method is not supported for this route.',
};

/** Field issues in Laravel's words (the product's where Laravel has none). */
export const laravel = wording(FIELDS);

/** Laravel's summary line: the first message, plus how many more there are. */
function summary(fields: Record<string, string[]>): string {
  const all = Object.values(fields).flat();
  if (!all.length) return 'The given data was invalid.';
  return all.length > 1 ? `${all[0]} (and ${all.length - 1} more error${all.length > 2 ? 's' : ''})` : all[0]!;
}

export const sendwave: Dialect = {
  name: 'sendwave',
  renderError(err) {
    const status = STATUS[err.kind];
    const words = ERRORS[err.code] ?? ERROR_CODES[err.code];
    const message = fill(typeof words === 'function' ? words(err.params) : words, err.params);
    if (err.kind === 'validation') {
      const errors = laravel.fields(err.fields);
      return { status, body: { message: summary(errors), errors } };
    }
    if (err.kind === 'insufficient_credits') return { status, body: { message, errors: { balance: [message] }, ...err.params } };
    return { status, body: { message } };
  },
};
