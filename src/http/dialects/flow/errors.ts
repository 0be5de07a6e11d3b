/**
 * FLOW SMS errors as Django REST Framework answers them: `{detail}` for authentication,
 * permission and not-found, `{field:[…]}` with 400 for validation (under FLOW's own field
 * names), 401 with `WWW-Authenticate: Bearer`.
 */
import { ERROR_CODES, fill, type ErrorCode } from '../../../services/errors.js';
import { STATUS, type Dialect } from '../../core/dialect.js';
import { drfFields } from '../drf-wording.js';

const DETAIL: Partial<Record<ErrorCode, string>> = {
  no_credentials: 'Authentication credentials were not provided.',
  unauthenticated: 'Given token not valid for any token type',
  invalid_token: 'Token is invalid or expired',
  invalid_credentials: 'No active account found with the given credentials',
  account_pending: 'No active account found with the given credentials',
  account_suspended: 'No active account found with the given credentials',
  permission_denied: 'You do not have permission to perform this action.',
  not_found: 'Not found.',
  invalid_page: 'Invalid page.',
  unknown_path: 'Not found.',
  method_not_allowed: 'Method "{method}" not allowed.',
  rate_limited: 'Request was throttled. Expected available in {retry_after} seconds.',
  invalid_json: 'JSON parse error.',
  server_error: 'A server error occurred.',
  storage_unavailable: 'Service temporarily unavailable, try again later.',
};

/** The services' field names FLOW clients know by another. */
const FIELDS: Record<string, string> = { message_content: 'message', recipients: 'phone_numbers', scheduled_at: 'schedule_time' };

export const flow: Dialect = {
  name: 'flow',
  renderError(err) {
    if (err.kind === 'validation') return { status: 400, body: drfFields(err.fields, (f) => FIELDS[f] ?? f) };
    const body = { detail: fill(DETAIL[err.code] ?? ERROR_CODES[err.code], err.params) };
    if (err.kind === 'unauthenticated') return { status: 401, body, headers: { 'WWW-Authenticate': 'Bearer realm="api"' } };
    return { status: STATUS[err.kind], body };
  },
};
