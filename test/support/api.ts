/**
 * HTTP helpers for API tests: plain global fetch against a gateway started by the harness.
 * Nothing here reaches into the HTTP layer; setup shortcuts (funding) go through the services.
 */
import assert from 'node:assert/strict';
import type { Gateway } from './harness.js';

export interface CallOptions {
  token?: string | undefined;
  body?: unknown;
  headers?: Record<string, string>;
  /** Sent as is (with a JSON content type unless headers say otherwise): bad JSON, huge bodies. */
  rawBody?: string;
}

export interface CallResult {
  status: number;
  headers: Headers;
  /** Parsed JSON, or null when the answer is not JSON (CSV exports). */
  json: any;
  text: string;
}

export async function call(gw: Pick<Gateway, 'url'>, method: string, path: string, opts: CallOptions = {}): Promise<CallResult> {
  const headers: Record<string, string> = { accept: 'application/json', ...(opts.headers ?? {}) };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  let body: string | undefined;
  if (opts.rawBody !== undefined) body = opts.rawBody;
  else if (opts.body !== undefined) body = JSON.stringify(opts.body);
  if (body !== undefined && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) headers['content-type'] = 'application/json';
  const res = await fetch(`${gw.url}${path}`, { method: method.toUpperCase(), headers, body });
  const text = await res.text();
  let json: any = null;
  if ((res.headers.get('content-type') ?? '').includes('json')) {
    try {
      json = JSON.parse(text);
    } catch {
      json = null;
    }
  }
  return { status: res.status, headers: res.headers, json, text };
}

export const PASSWORD = 'password123';

/** Registers `email` through the API and returns a fresh access token from /auth/login. */
export async function registerAndLogin(gw: Pick<Gateway, 'url'>, email: string, name = 'Test User'): Promise<string> {
  const reg = await call(gw, 'POST', '/api/auth/register', { body: { name, email, password: PASSWORD, password_confirmation: PASSWORD } });
  assert.equal(reg.status, 201, `register ${email}: ${reg.text}`);
  const login = await call(gw, 'POST', '/api/auth/login', { body: { email, password: PASSWORD } });
  assert.equal(login.status, 200, `login ${email}: ${login.text}`);
  return login.json.data.token as string;
}

/** The account id behind a token, from /api/auth/me. */
export async function accountIdOf(gw: Pick<Gateway, 'url'>, token: string): Promise<number> {
  const me = await call(gw, 'GET', '/api/auth/me', { token });
  assert.equal(me.status, 200, `me: ${me.text}`);
  return me.json.data.id as number;
}

let admins = 0;

/** A new admin account (created through the service) and its token (obtained through HTTP). */
export async function adminToken(gw: Pick<Gateway, 'url' | 'accounts'>): Promise<string> {
  const email = `admin${++admins}-${process.pid}@relais.test`;
  await gw.accounts.create({ name: 'Test Admin', email, password: PASSWORD, role: 'admin' });
  const login = await call(gw, 'POST', '/api/auth/login', { body: { email, password: PASSWORD } });
  assert.equal(login.status, 200, `admin login: ${login.text}`);
  return login.json.data.token as string;
}

/** Tops up an account's balance; returns the new balance. */
export async function fund(gw: Pick<Gateway, 'credits'>, accountId: number, amount: number): Promise<number> {
  const balance = await gw.credits.credit({ accountId, amount, reason: 'topup', reference: 'test' });
  assert.notEqual(balance, null, `no account ${accountId}`);
  return balance!;
}

/** Requests sender ID `name` for the token's account and approves it through the admin API; returns its id. */
export async function approveSender(gw: Pick<Gateway, 'url' | 'accounts'>, token: string, name: string, admin?: string): Promise<number> {
  const req = await call(gw, 'POST', '/api/sender-ids', { token, body: { name } });
  assert.equal(req.status, 201, `sender id request: ${req.text}`);
  const id = req.json.data.id as number;
  const ok = await call(gw, 'POST', `/api/admin/sender-ids/${id}/approve`, { token: admin ?? (await adminToken(gw)) });
  assert.equal(ok.status, 200, `approve: ${ok.text}`);
  assert.equal(ok.json.data.status, 'approved');
  return id;
}
