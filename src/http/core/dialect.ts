/**
 * A dialect is one documented API style served over the same services. The contract:
 * - A dialect MUST only translate: parse its request shapes, make one service call per route,
 *   render the neutral result in its documented shape. Rules, permissions, audit rows and
 *   webhook events live in the services; a dialect MUST NOT touch the store.
 * - A dialect MUST render every ServiceError (and every 404/405 under its prefixes) in its
 *   documented error shape and status, with its own words for the codes it knows.
 * - A dialect MUST match its documented paths exactly, trailing slash included.
 * - A dialect MAY word a code it does not know with the product's plain English (`describe`).
 */
import type { ErrorKind, ServiceError } from '../../services/errors.js';

export interface Rendered {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

export interface Dialect {
  readonly name: string;
  /** The answer for a service error, in this dialect's shape and words. */
  renderError(err: ServiceError): Rendered;
}

/** The HTTP status of each kind of error, unless a dialect documents another. */
export const STATUS: Record<ErrorKind, number> = {
  validation: 422, bad_request: 400, unauthenticated: 401, forbidden: 403, not_found: 404, method_not_allowed: 405, conflict: 409,
  insufficient_credits: 402, rate_limited: 429, payload_too_large: 413, unsupported_media_type: 415, unavailable: 503, internal: 500,
};

/** Operations endpoints and anything outside a dialect: plain `{message}`. */
export const plain: Dialect = {
  name: 'plain',
  renderError: (err) => ({ status: STATUS[err.kind], body: { message: err.message } }),
};
