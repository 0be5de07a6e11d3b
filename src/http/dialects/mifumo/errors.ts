/**
 * Mifumo SMS errors. The integration documents (002, 004) use the envelope `{success:false,
 * message, data:null, error_code, details}`; the full reference (003) uses `{error, message,
 * details:{field:[…]}}`. One body carries both: `error_code` holds the code 004 names, `error`
 * the one 002 names where they differ (INVALID_API_KEY / INVALID_CREDENTIALS, INVALID_PHONE_FORMAT
 * / INVALID_PHONE), and validation `details` are DRF's `{field: ["…"]}`.
 */
import { ERROR_CODES, fill, type ErrorCode, type FieldIssues } from '../../../services/errors.js';
import { STATUS, type Dialect } from '../../core/dialect.js';
import { drfFields } from '../drf-wording.js';

/** Documented code, and the other document's name for it where they differ. */
const CODES: Partial<Record<ErrorCode, string | [string, string]>> = {
  no_credentials: 'AUTHENTICATION_REQUIRED',
  unauthenticated: ['INVALID_API_KEY', 'INVALID_CREDENTIALS'],
  invalid_credentials: 'INVALID_CREDENTIALS',
  invalid_token: 'INVALID_TOKEN',
  account_suspended: 'ACCOUNT_SUSPENDED',
  account_pending: 'ACCOUNT_NOT_ACTIVE',
  verification_failed: 'INVALID_VERIFICATION_CODE',
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
  campaign_active: 'CAMPAIGN_ACTIVE',
  campaign_state: 'INVALID_CAMPAIGN_STATE',
  server_error: 'INTERNAL_ERROR',
};

/** The most specific documented code a validation error deserves. */
function validationCode(fields: FieldIssues): string | [string, string] {
  if (fields.message?.some((i) => i.code === 'required')) return 'MISSING_MESSAGE';
  if (Object.keys(fields).some((f) => /phone|recipient/.test(f))) return ['INVALID_PHONE_FORMAT', 'INVALID_PHONE'];
  return 'VALIDATION_ERROR';
}

export const envelope = (data: unknown, message = 'Operation successful') => ({ success: true, message, data, error_code: null, details: null });

function failure(code: string | [string, string], message: string, details: unknown) {
  const [primary, alternate] = typeof code === 'string' ? [code, code] : code;
  return { success: false, message, data: null, error_code: primary, error: alternate, details };
}

export const mifumo: Dialect = {
  name: 'mifumo',
  renderError(err) {
    const message = fill(ERROR_CODES[err.code], err.params);
    if (err.kind === 'validation') {
      const details = drfFields(err.fields);
      return { status: 400, body: failure(validationCode(err.fields), Object.values(details).flat()[0] ?? message, details) };
    }
    const details = err.kind === 'insufficient_credits' || err.kind === 'rate_limited' ? { ...err.params } : null;
    return { status: STATUS[err.kind], body: failure(CODES[err.code] ?? err.code.toUpperCase(), message, details) };
  },
};
