/**
 * A dialect is one documented API style. Each renders service errors in its own shape; the
 * shared middleware picks the renderer the matched router put on ctx.state.dialect.
 */
import type { ServiceError, ServiceErrorKind } from '../services/errors.js';

export const STATUS: Record<ServiceErrorKind, number> = {
  validation: 422, unauthenticated: 401, forbidden: 403, not_found: 404, conflict: 409,
  insufficient_credits: 402, rate_limited: 429, bad_request: 400,
};

export interface Dialect {
  name: string;
  renderError(err: ServiceError): unknown;
}

/** SendWave Pro (Laravel): `{message, errors:{field:[…]}}`. */
export const sendwave: Dialect = {
  name: 'sendwave',
  renderError(err) {
    switch (err.kind) {
      case 'validation':
        return { message: err.message, errors: err.fields };
      case 'unauthenticated':
        return { message: err.message || 'Unauthenticated.' };
      case 'forbidden':
        return { message: err.message || "Cette action n'est pas autorisée." };
      case 'rate_limited':
        return { message: 'Too Many Attempts.' };
      case 'insufficient_credits':
        return { message: err.message, errors: { balance: [err.message] }, ...err.details };
      default:
        return { message: err.message };
    }
  },
};

/** Operations endpoints and anything outside a dialect: plain `{message}`. */
export const plain: Dialect = { name: 'plain', renderError: (err) => ({ message: err.message }) };
