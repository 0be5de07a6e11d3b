/** The daemon's HTTP API as the benchmark calls it (undici Pool, JSON both ways). */
import type { Pool } from 'undici';

export interface Answer {
  status: number;
  text: string;
  json: any;
}

/** One JSON call; `timeoutMs` bounds the wait for the headers and then for the body. */
export async function call(pool: Pool, method: 'GET' | 'POST', path: string, token?: string, body?: unknown, timeoutMs = 10_000): Promise<Answer> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await pool.request({ method, path, headers, body: body === undefined ? null : JSON.stringify(body), headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
  const text = await res.body.text();
  let json: unknown = null;
  try {
    json = JSON.parse(text);
  } catch {
    // not JSON (e.g. /metrics)
  }
  return { status: res.statusCode, text, json };
}

/** A 2xx answer's JSON, or an error naming the call. */
export async function callOk(pool: Pool, method: 'GET' | 'POST', path: string, token?: string, body?: unknown): Promise<any> {
  const r = await call(pool, method, path, token, body);
  if (r.status < 200 || r.status >= 300) throw new Error(`${method} ${path}: HTTP ${r.status} ${r.text.slice(0, 500)}`);
  return r.json;
}

/** Probe period of the daemon's event-loop delay histogram (prom-client's default); its samples include it. */
const ELD_RESOLUTION_MS = 10;

/**
 * The daemon's event-loop delay p99 and max since the previous scrape, from its own /metrics
 * (prom-client resets the histogram on every scrape). NaN when the metric is absent.
 */
export async function scrapeLag(pool: Pool): Promise<{ p99Ms: number; maxMs: number }> {
  const r = await call(pool, 'GET', '/metrics').catch(() => null);
  const read = (metric: string): number => {
    const m = r && r.status === 200 ? new RegExp(`^relais_nodejs_eventloop_lag_${metric}_seconds(?:\\{[^}]*\\})?\\s+(\\S+)`, 'm').exec(r.text) : null;
    return m ? Math.max(0, Number(m[1]) * 1000 - ELD_RESOLUTION_MS) : NaN;
  };
  return { p99Ms: read('p99'), maxMs: read('max') };
}
