/**
 * What the CLI prints. The store keeps times as epoch milliseconds (UTC); the CLI shows them as
 * ISO 8601 like the HTTP API does, so an operator can compare the two and read them at a glance.
 */

/** Column names that hold an epoch-millisecond time: `*_at`, plus the queue's `not_before`. */
const isTimeKey = (key: string): boolean => key.endsWith('_at') || key === 'not_before';

/** The largest time a Date can hold (±8.64e15 ms). */
const MAX_TIME = 8.64e15;

/** A copy of `value` where every time column (at any depth) is an ISO 8601 string. */
export function isoTimes(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(isoTimes);
  if (value === null || typeof value !== 'object' || value instanceof Date) return value instanceof Date ? value.toISOString() : value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [
    k,
    isTimeKey(k) && typeof v === 'number' && Number.isFinite(v) && Math.abs(v) <= MAX_TIME ? new Date(v).toISOString() : isoTimes(v),
  ]));
}

/** One JSON line on stdout, times as ISO 8601. */
export const printJson = (o: unknown): void => console.log(JSON.stringify(isoTimes(o)));
