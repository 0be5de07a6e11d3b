/** First-start admin, CLI provisioning and credit refunds, against a real daemon. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { request } from 'node:http';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { startGateway, startSimulator, tempDir, waitFor } from '../support/harness.js';

const post = async (url: string, body: unknown, token?: string) => {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) }, body: JSON.stringify(body) });
  return { status: res.status, json: (await res.json()) as any };
};

test('first start creates an admin with a generated password, written once to a 0600 file that logs in', async () => {
  const tmp = tempDir();
  const sim = await startSimulator({ systemId: 'airtel', password: 'pw' });
  const gw = await startGateway([{ name: 'airtel', binds: [{ port: sim.port }] }], {}, join(tmp.dir, 'relais.db'));
  try {
    const file = join(tmp.dir, 'admin-credentials.txt');
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const [, email, password] = /email: (\S+)\npassword: (\S+)/.exec(readFileSync(file, 'utf8'))!;
    const login = await post(`${gw.url}/api/auth/login`, { email, password });
    assert.equal(login.status, 200);
    const binds = await fetch(`${gw.url}/api/admin/binds`, { headers: { authorization: `Bearer ${login.json.data.token}` } });
    assert.equal(binds.status, 200);
  } finally {
    await gw.cleanup();
    await sim.stop();
    tmp.cleanup();
  }
});

test('relais user create --admin and relais credits provision accounts from the command line', async () => {
  const tmp = tempDir();
  const config = join(tmp.dir, 'relais.yaml');
  writeFileSync(config, `database: { path: ${join(tmp.dir, 'relais.db')} }\nnumbering: { country_code: "241" }\noperators:\n  - { name: airtel, binds: [{ host: 127.0.0.1, port: 1, system_id: a, password: b, tps: 1 }] }\n`);
  const cli = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', 'src/main.ts', ...args, '--config', config], { encoding: 'utf8', timeout: 30_000 });
  try {
    const created = cli('user', 'create', '--email', 'Ops@Example.com', '--admin');
    assert.equal(created.status, 0, created.stderr);
    const admin = JSON.parse(created.stdout);
    assert.equal(admin.role, 'admin');
    assert.equal(admin.email, 'ops@example.com');
    assert.ok(admin.password.length >= 16);
    const credited = cli('credits', '--email', 'ops@example.com', '--amount', '500');
    assert.equal(credited.status, 0, credited.stderr);
    assert.equal(JSON.parse(credited.stdout).balance, 500);
    const missing = cli('credits', '--email', 'nobody@example.com', '--amount', '5');
    assert.equal(missing.status, 1);
  } finally {
    tmp.cleanup();
  }
});

test('credits come back for messages the SMSC never took; not for delivered ones', async () => {
  const sim = await startSimulator({ systemId: 'airtel', password: 'pw', faults: { rejectShare: 1 } });
  const gw = await startGateway([{ name: 'airtel', binds: [{ port: sim.port }] }]);
  try {
    const account = await gw.accounts.create({ name: 'A', email: 'a@example.com', password: 'password123' });
    await gw.credits.credit({ accountId: account.id, amount: 100, reason: 'topup', reference: 'test' });
    const token = (await post(`${gw.url}/api/auth/login`, { email: 'a@example.com', password: 'password123' })).json.data.token as string;
    const sent = await post(`${gw.url}/api/messages/send`, { recipients: ['+24162000001', '+24162000002'], message: 'hi' }, token);
    assert.equal(sent.status, 200);
    assert.equal(sent.json.data.balance, 60);
    const ids = sent.json.data.message_ids as number[];
    const rows = await gw.waitFinal(ids);
    assert.ok(rows.every((r) => r.status === 'failed'));
    await waitFor(async () => (await gw.credits.balanceOf(account.id)) === 100, 5000, 'refund');
    const moves = await gw.store.db.selectFrom('credit_transactions').select(['amount', 'reason']).where('account_id', '=', account.id).orderBy('id').execute();
    assert.deepEqual(moves, [{ amount: 100, reason: 'topup' }, { amount: -40, reason: 'send' }, { amount: 20, reason: 'refund' }, { amount: 20, reason: 'refund' }]);
    // Delivered messages are not refunded.
    sim.setFaults({});
    const ok = await post(`${gw.url}/api/messages/send`, { recipients: ['+24162000003'], message: 'hi' }, token);
    await gw.waitFinal(ok.json.data.message_ids);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(await gw.credits.balanceOf(account.id), 80);
  } finally {
    await gw.cleanup();
    await sim.stop();
  }
});

test('passwords, tokens and API keys never reach the logs, even at debug level', async () => {
  const { PassThrough } = await import('node:stream');
  const sink = new PassThrough();
  let logs = '';
  sink.on('data', (d: Buffer) => (logs += d.toString()));
  const sim = await startSimulator({ systemId: 'airtel', password: 'pw' });
  const gw = await startGateway([{ name: 'airtel', binds: [{ port: sim.port, password: 'pw' }] }], { log: { level: 'debug' } }, undefined, sink);
  try {
    const password = 'Sup3r-Secret-Passw0rd';
    await post(`${gw.url}/api/auth/register`, { name: 'Leak', email: 'leak@example.com', password, password_confirmation: password });
    const token = (await post(`${gw.url}/api/auth/login`, { email: 'leak@example.com', password })).json.data.token as string;
    const key = (await post(`${gw.url}/api/api-keys`, { name: 'k' }, token)).json.data.key as string;
    await fetch(`${gw.url}/api/auth/me`, { headers: { authorization: `Bearer ${key}` } });
    await post(`${gw.url}/api/auth/login`, { email: 'leak@example.com', password: 'wrong-password-xyz' });
    await new Promise((r) => setTimeout(r, 50));
    assert.ok(logs.includes('"path":"/api/auth/login"'), 'requests are logged');
    for (const secret of [password, 'wrong-password-xyz', token, key, token.split('.')[2]!]) assert.ok(!logs.includes(secret), `a secret reached the logs: ${secret.slice(0, 8)}…`);
  } finally {
    await gw.cleanup();
    await sim.stop();
  }
});

/** A JSON POST from a chosen loopback address (127.0.0.0/8 is all this host's). */
function postFrom(localAddress: string, url: string, body: unknown): Promise<{ status: number; retryAfter: string | null }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', localAddress, headers: { 'content-type': 'application/json' } }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, retryAfter: (res.headers['retry-after'] as string | undefined) ?? null }));
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

test('failed logins are limited per login and client, and per login from everywhere, only for a window: one client cannot keep a victim out', async () => {
  const sim = await startSimulator({ systemId: 'airtel', password: 'pw' });
  const gw = await startGateway([{ name: 'airtel', binds: [{ port: sim.port }] }], { auth: { login_failures: { per_client: 3, per_login: 6, window: 2 } } });
  try {
    await gw.accounts.create({ name: 'Victim', email: 'victim@example.com', password: 'right-password' });
    const login = (from: string, password: string) => postFrom(from, `${gw.url}/api/auth/login`, { email: 'victim@example.com', password });
    for (let i = 0; i < 3; i++) assert.equal((await login('127.0.0.1', 'guess')).status, 401);
    const locked = await login('127.0.0.1', 'right-password');
    assert.equal(locked.status, 429, 'the guessing client is refused, even with the right password');
    assert.ok(Number(locked.retryAfter) >= 1 && Number(locked.retryAfter) <= 2);
    assert.equal((await login('127.0.0.2', 'right-password')).status, 200, 'the victim, elsewhere, still logs in');
    for (let i = 0; i < 3; i++) assert.equal((await login('127.0.0.3', 'guess')).status, 401);
    assert.equal((await login('127.0.0.4', 'right-password')).status, 429, 'a login guessed from many clients pauses for everyone');
    await new Promise((r) => setTimeout(r, 2100));
    assert.equal((await login('127.0.0.4', 'right-password')).status, 200, 'but only for the window');
    // Unknown logins are counted the same way: the answers say nothing of which logins exist.
    for (let i = 0; i < 3; i++) assert.equal((await postFrom('127.0.0.5', `${gw.url}/api/auth/login`, { email: 'nobody@example.com', password: 'x' })).status, 401);
    assert.equal((await postFrom('127.0.0.5', `${gw.url}/api/auth/login`, { email: 'nobody@example.com', password: 'x' })).status, 429);
  } finally {
    await gw.cleanup();
    await sim.stop();
  }
});
