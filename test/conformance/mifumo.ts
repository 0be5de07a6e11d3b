/** Mifumo set-up as an integrator does it: log in (/api/auth/login/), create a key (/api/auth/keys/create/). */
import assert from 'node:assert/strict';
import { call } from '../support/api.js';
import type { Gateway } from '../support/harness.js';
import { integrator } from './support.js';

export interface MifumoAccount {
  accountId: number;
  access: string;
  refresh: string;
  apiKey: string;
}

export async function mifumoAccount(gw: Gateway, email: string, o: { credits?: number; senders?: string[] } = {}): Promise<MifumoAccount> {
  const password = 'SecurePassword123!';
  const account = await integrator(gw, { email, password, credits: o.credits ?? 1_000_000, senders: o.senders ?? ['MIFUMO', 'Taarifa-SMS'] });
  const login = await call(gw, 'POST', '/api/auth/login/', { body: { email, password } });
  assert.equal(login.status, 200, login.text);
  const key = await call(gw, 'POST', '/api/auth/keys/create/', { token: login.json.tokens.access, body: { name: 'conformance' } });
  assert.equal(key.status, 201, key.text);
  return { accountId: account.id, access: login.json.tokens.access, refresh: login.json.tokens.refresh, apiKey: key.json.data.api_key };
}

/** The envelope every integration answer is, with `success` as expected. */
export function assertEnvelope(json: any, success: boolean): void {
  assert.deepEqual(Object.keys(json).filter((k) => ['success', 'message', 'data', 'error_code', 'details'].includes(k)).sort(), ['data', 'details', 'error_code', 'message', 'success'], JSON.stringify(json));
  assert.equal(json.success, success, JSON.stringify(json));
  assert.equal(typeof json.message, 'string');
  if (success) assert.deepEqual([json.error_code, json.details], [null, null]);
  else assert.deepEqual([json.data, typeof json.error_code], [null, 'string']);
}
