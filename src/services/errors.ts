/**
 * Errors services raise, in no dialect's words: a kind (what went wrong, for the status), a stable
 * code, per-field issue codes with their parameters, and parameters of the error itself. Each
 * dialect renders them in its documented shape and wording; `describe` is the plain English
 * fallback for a dialect that has no words of its own for a code (and for logs).
 */
export type ErrorKind =
  | 'validation'
  | 'bad_request'
  | 'unauthenticated'
  | 'forbidden'
  | 'not_found'
  | 'method_not_allowed'
  | 'conflict'
  | 'insufficient_credits'
  | 'rate_limited'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'unavailable'
  | 'internal';

/** One problem with one input field: a stable code and the values the wording may use. */
export interface FieldIssue {
  code: FieldCode;
  params?: Record<string, string | number>;
}

export type FieldIssues = Record<string, FieldIssue[]>;

/**
 * Per-field codes, with the product's plain English for each (`{field}` and params filled in).
 * Dialects word the generic ones their own way (Laravel, Django REST Framework).
 */
export const FIELD_CODES = {
  required: '{Field} is required.',
  type: '{Field} must be {expected}.',
  min_length: '{Field} must be at least {min} characters.',
  max_length: '{Field} must be at most {max} characters.',
  min_items: '{Field} must have at least {min} items.',
  max_items: '{Field} must have at most {max} items.',
  min: '{Field} must be at least {min}.',
  max: '{Field} must be at most {max}.',
  email: '{Field} must be a valid email address.',
  format: '{Field} has an invalid format.',
  date: '{Field} must be a valid ISO 8601 date.',
  choice: '{Field} must be one of: {allowed}.',
  unknown_fields: 'Unknown field(s): {keys}.',
  confirmed: '{Field} confirmation does not match.',
  taken: '{Field} has already been taken.',
  invalid: '{Field} is invalid.',
  encoding: '{Field} is not well-formed text: it has a lone surrogate or bytes that are not UTF-8.',
  not_zero: '{Field} must not be zero.',
  already_blacklisted: 'The phone number is already blacklisted.',
  invalid_phone: 'The {field} format is invalid ({reason}).',
  e164: 'The {field} must be an E.164 number: "+", the country code and the number (+255123456789).',
  phone_not_number: 'The {field} "{value}" is not a valid number.',
  email_not_valid: 'The {field} "{value}" is not a valid email address.',
  status_not_allowed: 'The {field} "{value}" must be {allowed}.',
  sender_not_approved: 'The sender id "{name}" is not approved for this account.',
  sender_pending: 'The sender id "{name}" is {status}, not approved.',
  sender_name: 'The {field} must be 1 to 11 letters or digits, or a number of up to 15 digits.',
  message_too_long: 'The message is too long: it needs {parts} parts; at most {max} are allowed.',
  balance_below_zero: 'The balance is {balance}: it cannot go below zero.',
  idempotency_reused: 'This Idempotency-Key was already used with a different request.',
  unknown_events: 'Unknown event(s): {events}.',
  url_invalid: 'The {field} must be a valid URL.',
  url_scheme: 'The {field} must start with http:// or https://.',
  url_credentials: 'The {field} must not contain credentials.',
  url_private: 'The {field} points to a private, loopback or link-local address, which this gateway refuses (webhooks.allow_private_networks).',
  file_required: 'The {field} field is required.',
  file_not_multipart: 'Send the CSV as multipart/form-data in a field named "{field}".',
  file_too_large: 'The {field} is larger than {max_mb} MB: rows up to line {line} were imported; split the rest.',
  upload_truncated: 'The {field} upload was cut short after line {line}: the multipart body ends before the file does. Rows up to that line were imported; send the rest again.',
  multipart_malformed: 'The request body is not valid multipart/form-data ({reason}). Send the CSV as multipart/form-data in a field named "{field}".',
  csv_malformed: 'The CSV is malformed near line {line}: {reason}. Rows before it were imported.',
  unknown_permissions: 'Unknown permission(s): {permissions}. Allowed: {allowed}.',
  percentages_total: 'The variant percentages must add up to 100 (they add up to {total}).',
  no_recipients: 'The campaign has no recipient left to send to.',
  no_valid_recipient: 'No recipient can be sent to: {reasons}.',
  timezone: 'The {field} must be an IANA time zone such as Africa/Libreville.',
  time_of_day: 'The {field} must be a time of day, HH:MM.',
  config: '{problem}',
  csv_no_phone_column: 'The CSV must have a header line with at least a "phone" column (name,email,phone,group,status).',
} as const;

export type FieldCode = keyof typeof FIELD_CODES;

/** Error codes, with the product's plain English for each; dialects word them their own way. */
export const ERROR_CODES = {
  validation_failed: 'The given data was invalid.',
  invalid_json: 'The request body is not valid JSON.',
  body_too_large: 'The request body is larger than {limit_kb} KB.',
  json_only: 'Send the body as application/json.',
  bad_request: 'Bad request.',
  no_credentials: 'Authentication credentials were not provided.',
  unauthenticated: 'The credentials are not valid.',
  invalid_credentials: 'The provided credentials are incorrect.',
  invalid_token: 'The token is invalid or expired.',
  account_suspended: 'This account is suspended.',
  account_pending: 'This account is not active yet: verify its phone number first.',
  verification_failed: 'The verification code is wrong or has expired.',
  permission_denied: 'You do not have permission to perform this action.',
  registration_needs_phone: 'This gateway activates new accounts by a code sent by SMS: register with a phone number (POST /api/auth/register/) and verify it (POST /api/auth/verify-phone/).',
  registration_closed: 'Registration is closed on this gateway: ask the operator for an account.',
  self_suspension: 'An admin cannot suspend their own account.',
  order_decided: 'The order is {status} already.',
  campaign_active: 'The campaign is {status}: pause or cancel it first.',
  campaign_state: 'The campaign is {status}: it cannot go to {to}.',
  send_failed: 'No message could be sent: {reason}.',
  not_found: 'Not found.',
  invalid_page: 'Invalid page.',
  unknown_path: 'Not found.',
  method_not_allowed: 'Method {method} not allowed.',
  insufficient_credits: 'Insufficient credits: this costs {required}, the balance is {balance}.',
  credit_limit_reached: "The sub-account's credit limit does not cover this: it costs {required}, {available} is left.",
  rate_limited: 'Too many requests: retry in {retry_after} s.',
  loopback_only: 'This endpoint answers loopback clients only.',
  no_config_file: 'This daemon was started without a config file: there is nothing to re-read.',
  csrf_failed: 'This request needs the session\'s CSRF token (X-CSRF-Token) and must come from this site.',
  console_admins_only: 'The console is for the gateway\'s administrators: this account is not one.',
  unavailable: 'The service is unavailable.',
  storage_unavailable: 'The gateway cannot write to its database right now (disk full or read-only storage): nothing of this request was accepted. Retry later.',
  server_error: 'Server Error',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export class ServiceError extends Error {
  constructor(
    readonly kind: ErrorKind,
    readonly code: ErrorCode,
    readonly fields: FieldIssues = {},
    readonly params: Record<string, string | number> = {},
  ) {
    super(fill(ERROR_CODES[code], params));
    this.name = 'ServiceError';
  }
}

/** `{name}` placeholders filled from params (missing ones left as written). */
export function fill(template: string, params: Record<string, string | number | undefined>): string {
  return template.replace(/\{(\w+)\}/g, (m, k: string) => (params[k] === undefined ? m : String(params[k])));
}

/**
 * One field issue in words: `template` (a dialect's, or the product's) with `{field}` as the
 * field's name in words, `{Field}` capitalized, and the issue's params.
 */
export function wordIssue(template: string, field: string, issue: FieldIssue): string {
  const words = field.replace(/_/g, ' ');
  return fill(template, { field: words, Field: words.charAt(0).toUpperCase() + words.slice(1), ...issue.params });
}

/** The product's plain English for one field issue. */
export const describeIssue = (field: string, i: FieldIssue): string => wordIssue(FIELD_CODES[i.code], field, i);

export const issue = (code: FieldCode, params?: Record<string, string | number>): FieldIssue => (params ? { code, params } : { code });

/** A 422 on one field (or several). */
export const invalid = (fields: FieldIssues): ServiceError => new ServiceError('validation', 'validation_failed', fields);

export const fieldError = (field: string, code: FieldCode, params?: Record<string, string | number>): ServiceError => invalid({ [field]: [issue(code, params)] });

/** Anything the caller may not see answers as if it did not exist; `what` names the kind of thing looked for. */
export const notFound = (what: string): ServiceError => new ServiceError('not_found', 'not_found', {}, { what });
