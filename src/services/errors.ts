/**
 * Errors services raise, independent of any HTTP dialect: each dialect renders them in its own
 * documented shape and status.
 */
export type FieldErrors = Record<string, string[]>;

export type ServiceErrorKind =
  | 'validation'        // 422
  | 'unauthenticated'   // 401
  | 'forbidden'         // 403
  | 'not_found'         // 404
  | 'conflict'          // 409
  | 'insufficient_credits' // 402
  | 'rate_limited'      // 429
  | 'bad_request';      // 400

export class ServiceError extends Error {
  constructor(readonly kind: ServiceErrorKind, message: string, readonly fields: FieldErrors = {}, readonly details: Record<string, unknown> = {}) {
    super(message);
    this.name = 'ServiceError';
  }
}

export const validationError = (fields: FieldErrors, message?: string): ServiceError =>
  new ServiceError('validation', message ?? firstMessage(fields), fields);

export const notFound = (what = 'resource'): ServiceError => new ServiceError('not_found', `No query results for ${what}.`);

/** Laravel's summary line: the first message, plus how many more there are. */
function firstMessage(fields: FieldErrors): string {
  const all = Object.values(fields).flat();
  if (!all.length) return 'The given data was invalid.';
  return all.length > 1 ? `${all[0]} (and ${all.length - 1} more error${all.length > 2 ? 's' : ''})` : all[0]!;
}
