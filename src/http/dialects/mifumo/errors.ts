/**
 * Mifumo SMS errors: the envelope `{success:false, message, data:null, error_code, details}`
 * with the documented codes (seeds 002 and 004), and DRF's words for field errors in `details`.
 */
import { ERROR_CODES, fill, type ErrorCode, type FieldIssues } from '../../../services/errors.js';
import { STATUS, type Dialect } from '../../core/dialect.js';
import { drfFields } from '../drf-wording.js';

const CODES: Partial<Record<ErrorCode, string>> = {
  no_credentials: 'AUTHENTICATION_REQUIRED',
  unauthenticated: 'INVALID_API_KEY',
  invalid_credentials: 'INVALID_CREDENTIALS',
  invalid_token: 'INVALID_TOKEN',
  account_suspended: 'ACCOUNT_SUSPENDED',
  permission_denied: 'PERMISSION_DENIED',
  registration_closed: 'REGISTRATION_CLOSED',
  not_found: 'NOT_FOUND',
  unknown_path: 'NOT_FOUND',
  method_not_allowed: 'METHOD_NOT_ALLOWED',
  insufficient_credits: 'INSUFFICIENT_BALANCE',
  credit_limit_reached: 'INSUFFICIENT_BALANCE',
  rate_limited: 'RATE_LIMIT_EXCEEDED',
  invalid_json: 'INVALID_JSON',
  body_too_large: 'PAYLOAD_TOO_LARGE',
  server_error: 'INTERNAL_ERROR',
};

/** The most specific documented code a validation error deserves. */
function validationCode(fields: FieldIssues): string {
  if (fields.message?.some((i) => i.code === 'required')) return 'MISSING_MESSAGE';
  const phones = Object.entries(fields).filter(([f]) => /phone|recipient/.test(f));
  if (phones.length) return 'INVALID_PHONE_FORMAT';
  return 'VALIDATION_ERROR';
}

export const envelope = (data: unknown, message = 'Operation successful') => ({ success: true, message, data, error_code: null, details: null });

export const mifumo: Dialect = {
  name: 'mifumo',
  renderError(err) {
    const message = fill(ERROR_CODES[err.code], err.params);
    if (err.kind === 'validation') {
      const details = drfFields(err.fields);
      return { status: 400, body: { success: false, message: Object.values(details).flat()[0] ?? message, data: null, error_code: validationCode(err.fields), details } };
    }
    const details = err.kind === 'insufficient_credits' ? { ...err.params } : null;
    return { status: STATUS[err.kind], body: { success: false, message, data: null, error_code: CODES[err.code] ?? err.code.toUpperCase(), details } };
  },
};
