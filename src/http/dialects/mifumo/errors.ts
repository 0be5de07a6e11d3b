/**
 * Mifumo SMS errors. The integration documents (002, 004) use the envelope `{success:false,
 * message, data:null, error_code, details}`; the full reference (003) uses `{error, message,
 * details:{field:[…]}}`. One body carries both: `error_code` holds the code 004 names, `error`
 * the one 002 names where they differ (INVALID_API_KEY / INVALID_CREDENTIALS, INVALID_PHONE_FORMAT
 * / INVALID_PHONE), and validation `details` are DRF's `{field: ["…"]}`.
 */
import { ERROR_CODES, ServiceError, fill, type ErrorCode, type FieldIssues } from '../../../services/errors.js';
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
  invalid_page: 'NOT_FOUND',
  unknown_path: 'NOT_FOUND',
  method_not_allowed: 'METHOD_NOT_ALLOWED',
  insufficient_credits: 'INSUFFICIENT_BALANCE',
  credit_limit_reached: 'INSUFFICIENT_BALANCE',
  rate_limited: 'RATE_LIMIT_EXCEEDED',
  invalid_json: 'INVALID_JSON',
  body_too_large: 'PAYLOAD_TOO_LARGE',
  campaign_active: 'CAMPAIGN_ACTIVE',
  send_failed: 'SMS_SEND_FAILED',
  campaign_state: 'INVALID_CAMPAIGN_STATE',
  server_error: 'INTERNAL_ERROR',
  storage_unavailable: 'SERVICE_UNAVAILABLE',
  unavailable: 'SERVICE_UNAVAILABLE',
};

const PHONE_FORMAT = new Set(['e164', 'invalid_phone', 'format', 'phone_not_number']);

/** The most specific documented code a validation error deserves. */
function validationCode(fields: FieldIssues): string | [string, string] {
  if (fields.message?.some((i) => i.code === 'required')) return 'MISSING_MESSAGE';
  const phoneFormat = Object.entries(fields).some(([f, issues]) => /phone|recipient/.test(f) && issues.some((i) => PHONE_FORMAT.has(i.code)));
  return phoneFormat ? ['INVALID_PHONE_FORMAT', 'INVALID_PHONE'] : 'VALIDATION_ERROR';
}

/** The services' field names Mifumo clients know by another. */
const FIELDS: Record<string, string> = { phone: 'phone_number', message_content: 'message', custom_fields: 'attributes' };

/** A send none of whose recipients could be queued is an error for Mifumo clients (SMS_SEND_FAILED), not a success with zero sent. */
export function sentOrFailed<T extends { accepted: number; failures: { reason: string }[] }>(summary: T): T {
  if (summary.accepted === 0) throw new ServiceError('bad_request', 'send_failed', {}, { reason: summary.failures[0]?.reason ?? 'no recipient' });
  return summary;
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
      const details = drfFields(err.fields, (f) => FIELDS[f] ?? f);
      return { status: 400, body: failure(validationCode(err.fields), Object.values(details).flat()[0] ?? message, details) };
    }
    // The integration documents show `details` as a string: the figures behind the error, or its words.
    const figures = Object.entries(err.params).filter(([k]) => k !== 'what' && k !== 'path').map(([k, v]) => `${k}: ${v}`).join(', ');
    const details = figures || message;
    return { status: STATUS[err.kind], body: failure(CODES[err.code] ?? err.code.toUpperCase(), message, details) };
  },
};
