/**
 * The API client of the web pages: JSON in and out (a file upload as multipart), the session
 * cookie (sent by the browser, same origin), and the session's CSRF token in X-CSRF-Token on every
 * POST, PUT and DELETE. Errors carry the API's own message ({"message": …, "errors": {field: [..]}},
 * or Mifumo's envelope with "details").
 */

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly errors: Record<string, string[]> | string[] | null = null,
  ) {
    super(message);
  }

  /** Every problem the API listed (a reload's bad keys, a form's fields), one a line. */
  details(): string[] {
    if (!this.errors) return [];
    if (Array.isArray(this.errors)) return this.errors.map(String);
    return Object.entries(this.errors).flatMap(([k, msgs]) => (Array.isArray(msgs) ? msgs : [msgs]).map((m) => `${k}: ${String(m)}`));
  }
}

let csrfToken: string | null = null;
const unauthorizedHandlers: Array<(err: ApiError) => void> = [];

export function setCsrfToken(token: string | null): void {
  csrfToken = token;
}

/** Called when a request answers 401 (the session ended or was never there). */
export function onUnauthorized(fn: (err: ApiError) => void): void {
  unauthorizedHandlers.push(fn);
}

const TIMEOUT_MS = 15_000;

export interface RequestOptions {
  /** JSON, or a FormData sent as multipart/form-data (the browser writes its boundary). */
  body?: unknown;
  /** Don't call the 401 handlers (the login form and the page-load session check handle 401 themselves). */
  quiet401?: boolean;
}

export async function request<T = unknown>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  const upper = method.toUpperCase();
  if (upper !== 'GET' && upper !== 'HEAD' && csrfToken) headers['x-csrf-token'] = csrfToken;
  let body: string | FormData | undefined;
  if (opts.body instanceof FormData) body = opts.body;
  else if (opts.body !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(opts.body);
  }
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), TIMEOUT_MS);
  let res: Response;
  try {
    res = await fetch(path, { method: upper, headers, body, credentials: 'same-origin', signal: abort.signal });
  } catch (e) {
    throw new ApiError(0, abort.signal.aborted ? 'The daemon did not answer in time.' : 'The daemon cannot be reached (network error).');
  } finally {
    clearTimeout(timer);
  }
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  let json: unknown = null;
  if (text) {
    try {
      json = JSON.parse(text);
    } catch {
      json = null;
    }
  }
  if (!res.ok) {
    const obj = (json && typeof json === 'object' ? json : {}) as { message?: unknown; errors?: unknown; details?: unknown };
    const message = typeof obj.message === 'string' && obj.message ? obj.message : `${res.status} ${res.statusText || 'error'}`;
    const listed = obj.errors ?? obj.details;
    const errors = listed && typeof listed === 'object' ? (listed as Record<string, string[]> | string[]) : null;
    const err = new ApiError(res.status, message, errors);
    if (res.status === 401 && !opts.quiet401) for (const fn of unauthorizedHandlers) fn(err);
    throw err;
  }
  return json as T;
}

export const get = <T = unknown>(path: string, opts?: RequestOptions) => request<T>('GET', path, opts);
/** What an action answers: the API's message and the changed resource. */
export interface Answer {
  message?: string;
  data?: unknown;
}

export const post = <T = Answer>(path: string, body?: unknown, opts?: RequestOptions) => request<T>('POST', path, { ...opts, body });
export const put = <T = Answer>(path: string, body?: unknown, opts?: RequestOptions) => request<T>('PUT', path, { ...opts, body });
export const del = <T = Answer>(path: string, opts?: RequestOptions) => request<T>('DELETE', path, opts);

/** Uploads one file as multipart/form-data in the field `field` (a CSV import). */
export function upload<T = Answer>(path: string, file: Blob, field = 'file', filename = 'upload.csv'): Promise<T> {
  const form = new FormData();
  form.append(field, file, file instanceof File ? file.name : filename);
  return request<T>('POST', path, { body: form });
}

/** A query string from the defined, non-empty values. */
export function query(params: Record<string, string | number | null | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}

// --- The web session -------------------------------------------------------------------------

export interface SessionAccount {
  id: number;
  name: string;
  email: string;
  role: string;
}
export interface Session {
  csrf_token: string;
  /** The account (for a sub-account: the parent account it acts in). */
  account: SessionAccount;
  /** Set when a sub-account logged in. */
  sub_account_id?: number | null;
}

/** The current session, or null when not logged in. */
export async function currentSession(): Promise<Session | null> {
  try {
    const res = await get<{ data: Session }>('/web/session', { quiet401: true });
    setCsrfToken(res.data.csrf_token);
    return res.data;
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) return null;
    throw e;
  }
}

export async function login(email: string, password: string, app: 'console' | 'dashboard'): Promise<Session> {
  const res = await post<{ data: Session }>('/web/session', { email, password, app }, { quiet401: true });
  setCsrfToken(res.data.csrf_token);
  return res.data;
}

export async function logout(): Promise<void> {
  try {
    await del('/web/session', { quiet401: true });
  } finally {
    setCsrfToken(null);
  }
}
