/**
 * What the operator console stands on, over real HTTP: the web session (HttpOnly, SameSite=Strict
 * cookie, CSRF token and origin check on every change, admins only for the console), the admin
 * message search and story, the route lookup, the status history, and the static file server's
 * refusal to leave its folder.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { test } from 'node:test';
import { accountIdOf, adminToken, call, fund, PASSWORD, registerAndLogin } from '../support/api.js';
import { startGateway, startSimulator, waitFor, type Gateway } from '../support/harness.js';

/** fetch will not send an Origin header of our choosing: node:http does. */
function rawPost(gw: Gateway, path: string, headers: Record<string, string>, body: unknown): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(`${gw.url}${path}`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode!));
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

async function webLogin(gw: Gateway, email: string, app: 'console' | 'dashboard') {
  const res = await fetch(`${gw.url}/web/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password: PASSWORD, app }) });
  const cookie = res.headers.getSetCookie().find((c) => c.startsWith('relais_session=')) ?? null;
  return { status: res.status, body: (await res.json()) as any, setCookie: cookie, cookie: cookie?.split(';')[0] ?? '' };
}

test('web session: an admin gets an HttpOnly SameSite=Strict cookie; changes need the CSRF token and this origin; others are refused the console', async () => {
  const sim = await startSimulator({ systemId: 'airtel', password: 'pw' });
  const gw = await startGateway([{ name: 'airtel', binds: [{ port: sim.port }] }]);
  try {
    await adminToken(gw);
    const adminEmail = `admin1-${process.pid}@relais.test`;
    const userToken = await registerAndLogin(gw, 'console-user@example.com');
    const userId = await accountIdOf(gw, userToken);

    const admin = await webLogin(gw, adminEmail, 'console');
    assert.equal(admin.status, 200, JSON.stringify(admin.body));
    assert.match(admin.setCookie!, /HttpOnly/i);
    assert.match(admin.setCookie!, /SameSite=Strict/i);
    assert.match(admin.setCookie!, /path=\//i);
    const csrf = admin.body.data.csrf_token as string;
    assert.equal(admin.body.data.account.role, 'admin');

    const session = await call(gw, 'GET', '/web/session', { headers: { cookie: admin.cookie } });
    assert.equal(session.status, 200);
    assert.equal(session.json.data.csrf_token, csrf);
    const binds = await call(gw, 'GET', '/api/admin/binds', { headers: { cookie: admin.cookie } });
    assert.equal(binds.status, 200, 'a GET works with the cookie alone');

    const topUp = (headers: Record<string, string>) => call(gw, 'POST', `/api/admin/accounts/${userId}/credits`, { headers: { cookie: admin.cookie, ...headers }, body: { amount: 500 } });
    assert.equal((await topUp({})).status, 403, 'no CSRF token');
    assert.equal((await topUp({ 'x-csrf-token': 'forged' })).status, 403, 'a wrong CSRF token');
    assert.equal(await rawPost(gw, `/api/admin/accounts/${userId}/credits`, { cookie: admin.cookie, 'x-csrf-token': csrf, origin: 'https://evil.example' }, { amount: 500 }), 403, 'another origin');
    const ok = await topUp({ 'x-csrf-token': csrf, origin: gw.url });
    assert.equal(ok.status, 200, ok.text);
    assert.equal(ok.json.data.balance, 500);

    const user = await webLogin(gw, 'console-user@example.com', 'console');
    assert.equal(user.status, 403, 'a non-admin cannot log in to the console');
    assert.equal(user.setCookie, null, 'and gets no cookie');
    assert.match(user.body.message, /administrators/);
    const dashboard = await webLogin(gw, 'console-user@example.com', 'dashboard');
    assert.equal(dashboard.status, 200);
    assert.equal((await call(gw, 'GET', '/api/admin/binds', { headers: { cookie: dashboard.cookie } })).status, 403, "an integrator's cookie opens no admin route");
    assert.equal((await call(gw, 'GET', '/api/balance', { headers: { cookie: dashboard.cookie } })).status, 200, 'but its own API');
    const wrong = await fetch(`${gw.url}/web/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: adminEmail, password: 'nope', app: 'console' }) });
    assert.equal(wrong.status, 401);

    const out = await call(gw, 'DELETE', '/web/session', { headers: { cookie: admin.cookie, 'x-csrf-token': csrf } });
    assert.equal(out.status, 204);
    assert.equal((await call(gw, 'GET', '/api/admin/binds', { headers: { cookie: admin.cookie } })).status, 401, 'the token is revoked at logout');

    for (const path of ['/console/../package.json', '/console/%2e%2e/package.json', '/web/%2e%2e/%2e%2e/package.json', '/console/.secret.js', '/web/..%2fconsole%2findex.html']) {
      const res = await fetch(`${gw.url}${path}`);
      assert.equal(res.status, 404, path);
    }
  } finally {
    await gw.cleanup();
    await sim.stop();
  }
});

test("admin message search across accounts, one message's story with its receipt text, the route lookup and the status history", async () => {
  const airtel = await startSimulator({ systemId: 'airtel', password: 'pw' });
  const moov = await startSimulator({ systemId: 'moov', password: 'pw' });
  const gw = await startGateway([{ name: 'airtel', binds: [{ port: airtel.port }] }, { name: 'moov', binds: [{ port: moov.port }] }]);
  try {
    const admin = await adminToken(gw);
    const token = await registerAndLogin(gw, 'story@example.com');
    const accountId = await accountIdOf(gw, token);
    await fund(gw, accountId, 1000);
    const sent = await call(gw, 'POST', '/api/messages/send', { token, body: { recipients: ['+24162123456', '+24177000042'], message: 'a story' } });
    assert.equal(sent.status, 200, sent.text);
    const [id] = sent.json.data.message_ids as number[];
    await gw.waitFinal(sent.json.data.message_ids);

    const found = await call(gw, 'GET', '/api/admin/messages?phone=123456', { token: admin });
    assert.equal(found.status, 200, found.text);
    assert.equal(found.json.total, 1);
    assert.deepEqual({ ...found.json.data[0], created_at: undefined, done_at: undefined }, {
      id, account_id: accountId, account_email: 'story@example.com', recipient: '+24162123456', sender: 'Relais', status: 'delivered', operator: 'airtel', parts: 1, error: null, created_at: undefined, done_at: undefined,
    });
    const national = await call(gw, 'GET', `/api/admin/messages?phone=${encodeURIComponent('062 12 34 56')}`, { token: admin });
    assert.deepEqual(national.json.data.map((m: { id: number }) => m.id), [id], 'a national number finds its E.164 form');
    const byAccount = await call(gw, 'GET', `/api/admin/messages?account_id=${accountId}&status=delivered&from=2020-01-01`, { token: admin });
    assert.equal(byAccount.json.total, 2);
    assert.equal((await call(gw, 'GET', '/api/admin/messages?account_id=999999', { token: admin })).json.total, 0);
    assert.equal((await call(gw, 'GET', '/api/admin/messages?status=bogus', { token: admin })).status, 422);

    const story = await call(gw, 'GET', `/api/admin/messages/${id}`, { token: admin });
    assert.equal(story.status, 200, story.text);
    const d = story.json.data;
    assert.equal(d.account.email, 'story@example.com');
    assert.equal(d.bind, 'airtel-1');
    assert.equal(d.part_list.length, 1);
    assert.match(d.part_list[0].receipt_text, /stat:DELIVRD/);
    assert.ok(d.part_list[0].smsc_id);
    assert.deepEqual(d.events.map((e: { state: string }) => e.state), ['queued', 'submitting', 'sent', 'receipt DELIVRD', 'delivered']);
    assert.equal((await call(gw, 'GET', '/api/admin/messages/999999', { token: admin })).status, 404);
    assert.equal((await call(gw, 'GET', `/api/admin/messages/${id}`, { token })).status, 403, 'not for integrators');
    assert.equal((await call(gw, 'GET', '/api/admin/messages', { token })).status, 403);

    const lookup = await call(gw, 'GET', `/api/admin/routes/lookup?number=${encodeURIComponent('077 00 00 01')}`, { token: admin });
    assert.equal(lookup.status, 200, lookup.text);
    assert.deepEqual(lookup.json.data, { input: '077 00 00 01', e164: '+24177000001', ok: true, operator: 'moov', failover: null, prefix: '+24177', reason: null });
    const none = await call(gw, 'GET', '/api/admin/routes/lookup?number=%2B33612345678', { token: admin });
    assert.equal(none.json.data.ok, false);
    assert.equal(none.json.data.operator, null);

    await waitFor(async () => {
      const status = await call(gw, 'GET', '/api/admin/status', { token: admin });
      const bind = status.json.data.operators[0].binds[0];
      return bind.history.length === 15 && bind.history.at(-1).submitted >= 1 && bind.history.at(-1).receipts >= 1;
    }, 5_000, 'status history with this minute counted');
  } finally {
    await gw.cleanup();
    await airtel.stop();
    await moov.stop();
  }
});
