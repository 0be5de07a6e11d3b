/**
 * Several dialects on one listener: paths matched exactly (the trailing slash picks the
 * dialect), unknown paths and methods answered in the owning dialect's shape, and an idempotent
 * send stored once as a neutral result that each dialect renders in its own shape.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { messageUuid, parseMessageUuid } from '../../src/services/message-uuid.js';
import { accountIdOf, call, fund, PASSWORD, registerAndLogin } from '../support/api.js';
import { startGateway, startSimulator, type Gateway } from '../support/harness.js';

async function withGateway(fn: (gw: Gateway) => Promise<void>): Promise<void> {
  const sim = await startSimulator({ systemId: 'airtel', password: 'pw' });
  const gw = await startGateway([{ name: 'airtel', binds: [{ port: sim.port }] }]);
  try {
    await fn(gw);
  } finally {
    await gw.cleanup();
    await sim.stop();
  }
}

test('/api/auth/login (SendWave) and /api/auth/login/ (Mifumo) reach different handlers, each with its documented answer', async () => {
  await withGateway(async (gw) => {
    await registerAndLogin(gw, 'both@example.com', 'Amina Diallo');
    const credentials = { email: 'both@example.com', password: PASSWORD };
    const sendwave = await call(gw, 'POST', '/api/auth/login', { body: credentials });
    assert.equal(sendwave.status, 200);
    assert.equal(sendwave.json.message, 'Connexion réussie');
    assert.equal(typeof sendwave.json.data.token, 'string');
    assert.equal(sendwave.json.tokens, undefined);

    const mifumo = await call(gw, 'POST', '/api/auth/login/', { body: credentials });
    assert.equal(mifumo.status, 200);
    assert.equal(mifumo.json.message, 'Login successful');
    assert.deepEqual(Object.keys(mifumo.json.tokens).sort(), ['access', 'refresh']);
    assert.deepEqual([mifumo.json.user.email, mifumo.json.user.first_name, mifumo.json.user.last_name, mifumo.json.user.full_name], ['both@example.com', 'Amina', 'Diallo', 'Amina Diallo']);
    assert.equal(mifumo.json.data, undefined);

    // Both kinds of access token are accepted by either dialect; a refresh token never is.
    assert.equal((await call(gw, 'GET', '/api/auth/me', { token: mifumo.json.tokens.access })).status, 200);
    const refreshAsAccess = await call(gw, 'GET', '/api/auth/me', { token: mifumo.json.tokens.refresh });
    assert.deepEqual([refreshAsAccess.status, refreshAsAccess.json], [401, { message: 'Unauthenticated.' }]);
    const refreshed = await call(gw, 'POST', '/api/auth/token/refresh/', { body: { refresh: mifumo.json.tokens.refresh } });
    assert.equal(refreshed.status, 200);
    assert.equal((await call(gw, 'GET', '/api/auth/me', { token: refreshed.json.access })).status, 200);
    const accessAsRefresh = await call(gw, 'POST', '/api/auth/token/refresh/', { body: { refresh: refreshed.json.access } });
    assert.equal(accessAsRefresh.status, 401);
    assert.deepEqual([accessAsRefresh.json.success, accessAsRefresh.json.error_code], [false, 'INVALID_TOKEN']);

    // Wrong password: each dialect's own error shape.
    const wrong = { email: 'both@example.com', password: 'nope-nope' };
    assert.deepEqual((await call(gw, 'POST', '/api/auth/login', { body: wrong })).json, { message: 'The provided credentials are incorrect.' });
    const wrongMifumo = await call(gw, 'POST', '/api/auth/login/', { body: wrong });
    assert.deepEqual([wrongMifumo.status, wrongMifumo.json.success, wrongMifumo.json.data, wrongMifumo.json.error_code], [401, false, null, 'INVALID_CREDENTIALS']);

    // Logout through Mifumo revokes the token at once, for every dialect.
    assert.equal((await call(gw, 'POST', '/api/auth/logout/', { token: refreshed.json.access })).json.message, 'Logout successful');
    assert.equal((await call(gw, 'GET', '/api/auth/me', { token: refreshed.json.access })).status, 401);
  });
});

test('unknown paths and methods answer 404 and 405 in the shape of the dialect that owns the path', async () => {
  await withGateway(async (gw) => {
    const cases: [string, string, number, unknown][] = [
      ['GET', '/api/nothing-here', 404, { message: 'Not Found.' }],
      ['GET', '/api/auth/login', 405, { message: 'The GET method is not supported for this route.' }],
      ['GET', '/campaigns/api/nothing-here/', 404, { detail: 'Not found.' }],
      ['GET', '/nothing-here', 404, { message: 'Not found.' }],
    ];
    for (const [method, path, status, body] of cases) {
      const r = await call(gw, method, path);
      assert.deepEqual([r.status, r.json], [status, body], `${method} ${path}`);
    }
    for (const [method, path, status, code] of [['GET', '/api/nothing-here/', 404, 'NOT_FOUND'], ['GET', '/api/auth/login/', 405, 'METHOD_NOT_ALLOWED']] as const) {
      const r = await call(gw, method, path);
      assert.equal(r.status, status, `${method} ${path}`);
      assert.deepEqual([r.json.success, r.json.data, r.json.error_code], [false, null, code], `${method} ${path}`);
    }
    // A bad body in each dialect's shape too.
    const badJson = await call(gw, 'POST', '/api/auth/login/', { rawBody: '{"email":' });
    assert.deepEqual([badJson.status, badJson.json.error_code], [400, 'INVALID_JSON']);
    const missing = await call(gw, 'POST', '/api/auth/login/', { body: {} });
    assert.deepEqual([missing.status, missing.json.error_code, missing.json.details], [400, 'VALIDATION_ERROR', { email: ['This field is required.'], password: ['This field is required.'] }]);
  });
});

test('an idempotent send replayed through a second dialect is rendered by that dialect, and sends nothing again', async () => {
  await withGateway(async (gw) => {
    const token = await registerAndLogin(gw, 'idem@example.com');
    const id = await accountIdOf(gw, token);
    await fund(gw, id, 1000);
    const body = { recipients: ['+24162000001', '+24162000002'], message: 'One answer, two dialects' };
    const headers = { 'idempotency-key': 'order-42' };
    const first = await call(gw, 'POST', '/api/messages/send', { token, body, headers });
    assert.equal(first.status, 200);
    assert.equal(first.json.message, 'Envoi terminé');
    assert.equal(first.json.data.sent, 2);

    const replay = await call(gw, 'POST', '/api/integration/v1/sms/send/', { token, body, headers });
    assert.equal(replay.status, 200);
    assert.deepEqual([replay.json.success, replay.json.error_code, replay.json.details], [true, null, null]);
    assert.equal(replay.json.data.sent, 2);
    assert.equal(replay.json.data.cost, first.json.data.total_cost);
    const uuids = replay.json.data.messages.map((m: { message_id: string }) => m.message_id);
    const rows = await gw.store.db.selectFrom('messages').select(['id', 'created_at']).where('account_id', '=', id).orderBy('id').execute();
    assert.deepEqual(rows.map((r) => r.id), first.json.data.message_ids, 'no message was queued twice');
    assert.deepEqual(rows.map((r) => messageUuid(r.id, r.created_at)), uuids);
    assert.deepEqual(uuids.map((u: string) => parseMessageUuid(u)?.id), first.json.data.message_ids);
    assert.equal(await gw.credits.balanceOf(id), 1000 - first.json.data.total_cost, 'debited once');

    // And back: the SendWave rendering of the same stored result.
    const again = await call(gw, 'POST', '/api/messages/send', { token, body, headers });
    assert.deepEqual(again.json, first.json);
    // The key with another request is refused in each dialect's shape.
    const other = { ...body, message: 'Something else' };
    assert.equal((await call(gw, 'POST', '/api/messages/send', { token, body: other, headers })).json.errors.idempotency_key.length, 1);
    const otherMifumo = await call(gw, 'POST', '/api/integration/v1/sms/send/', { token, body: other, headers });
    assert.deepEqual([otherMifumo.status, otherMifumo.json.error_code, Object.keys(otherMifumo.json.details)], [400, 'VALIDATION_ERROR', ['idempotency_key']]);
  });
});

test('the OpenAPI document lists every dialect, tagged, with the permission each operation needs', async () => {
  await withGateway(async (gw) => {
    const doc = (await call(gw, 'GET', '/api/openapi.json')).json;
    assert.equal(doc.paths['/api/auth/login'].post.tags[0], 'sendwave');
    assert.equal(doc.paths['/api/auth/login/'].post.tags[0], 'mifumo');
    assert.equal(doc.paths['/campaigns/api/send-sms/'].post.tags[0], 'flow');
    assert.equal(doc.paths['/api/integration/v1/contacts/{id}/update/'].put.tags[0], 'mifumo');
    const tags = new Set(Object.values(doc.paths).flatMap((ops: any) => Object.values(ops).map((op: any) => op.tags[0])));
    assert.deepEqual([...tags].sort(), ['flow', 'mifumo', 'sendwave', 'web']); // the admin API speaks SendWave; web: the pages' sessions
    assert.equal(doc.paths['/api/messages/send'].post['x-permission'], 'send_sms');
    assert.equal(doc.paths['/api/admin/accounts'].get['x-permission'], 'operator.accounts');
  });
});

test("a path id not in the dialect's id form (1.0, 0x10, 1e0, %201, +1, 01) answers 404, never the resource it would parse to", async () => {
  await withGateway(async (gw) => {
    const token = await registerAndLogin(gw, 'ids@example.com');
    const contact = await call(gw, 'POST', '/api/contacts', { token, body: { name: 'Id One', phone: '+24162000001' } });
    const id = contact.json.data.id as number;
    const segment = await call(gw, 'POST', '/api/integration/v1/contacts/segments/create/', { token, body: { name: 'All' } });
    const segmentId = segment.json.data.id as number;
    assert.equal((await call(gw, 'GET', `/api/contacts/${id}`, { token })).status, 200);
    for (const form of [`${id}.0`, `0x${id.toString(16)}`, `${id}e0`, `%20${id}`, `+${id}`, `0${id}`, `${id}%00`, '9007199254740993']) {
      const r = await call(gw, 'GET', `/api/contacts/${form}`, { token });
      assert.equal(r.status, 404, `/api/contacts/${form}: ${r.text}`);
      const m = await call(gw, 'GET', `/api/integration/v1/contacts/segments/${form.replace(String(id), String(segmentId))}/`, { token });
      assert.deepEqual([m.status, m.json.error_code], [404, 'NOT_FOUND'], `segments/${form}`);
    }
  });
});

test('text that is not well-formed (a lone surrogate, bytes that are not UTF-8) is refused on its field in every dialect, and nothing is charged', async () => {
  await withGateway(async (gw) => {
    const token = await registerAndLogin(gw, 'utf8@example.com');
    const accountId = await accountIdOf(gw, token);
    await fund(gw, accountId, 1000);
    const raw = (path: string, body: Buffer) => fetch(`${gw.url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body }).then(async (r) => ({ status: r.status, json: await r.json() as any }));
    const invalidBytes = Buffer.concat([Buffer.from('{"recipients":["+24162000001"],"message":"caf'), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from('"}')]);
    const sendwave = await raw('/api/messages/send', invalidBytes);
    assert.deepEqual([sendwave.status, Object.keys(sendwave.json.errors)], [422, ['message']]);
    const surrogate = await call(gw, 'POST', '/api/messages/send', { token, rawBody: '{"recipients":["+24162000001"],"message":"a\\ud800b"}' });
    assert.deepEqual([surrogate.status, Object.keys(surrogate.json.errors)], [422, ['message']]);
    const mifumo = await raw('/api/integration/v1/sms/send/', Buffer.from('{"recipients":["+24162000001"],"message":"\\udc00"}'));
    assert.deepEqual([mifumo.status, mifumo.json.error_code, Object.keys(mifumo.json.details)], [400, 'VALIDATION_ERROR', ['message']]);
    const flow = await raw('/campaigns/api/send-sms/', Buffer.from('{"sender_id":"X","phone_numbers":["+24162000001"],"message":"\\ud83d"}'));
    assert.deepEqual([flow.status, Object.keys(flow.json)], [400, ['message']]);
    const wellFormed = await call(gw, 'POST', '/api/messages/send', { token, body: { recipients: ['+24162000001'], message: 'café 😀 ok' } });
    assert.equal(wellFormed.status, 200, wellFormed.text);
    assert.equal((await gw.credits.balanceOf(accountId)), 1000 - wellFormed.json.data.total_cost, 'only the well-formed send was charged');
  });
});

test('behind a trusted proxy, X-Forwarded-Proto and -For say the scheme of page links and who the client is; otherwise they are ignored', async () => {
  const sim = await startSimulator({ systemId: 'airtel', password: 'pw' });
  for (const trust of [false, true]) {
    const gw = await startGateway([{ name: 'airtel', binds: [{ port: sim.port }] }], { http: { host: '127.0.0.1', port: 0, trust_proxy: trust }, auth: { login_failures: { per_client: 1, per_login: 100, window: 60 } } });
    try {
      const token = await registerAndLogin(gw, 'proxy@example.com');
      for (const phone of ['+24162000001', '+24162000002']) await call(gw, 'POST', '/api/contacts', { token, body: { name: phone, phone } });
      const page = await call(gw, 'GET', '/campaigns/api/contacts/?page_size=1', { token, headers: { 'x-forwarded-proto': 'https', 'x-forwarded-for': '203.0.113.7' } });
      assert.match(page.json.next, trust ? /^https:\/\// : /^http:\/\//);
      // One failure per client: a client that forges another X-Forwarded-For is a new client only where the proxy is trusted.
      const login = (ip: string, password: string) => call(gw, 'POST', '/api/auth/login', { headers: { 'x-forwarded-for': ip }, body: { email: 'proxy@example.com', password } });
      assert.equal((await login('203.0.113.7', 'wrong')).status, 401);
      assert.equal((await login('203.0.113.8', PASSWORD)).status, trust ? 200 : 429);
    } finally {
      await gw.cleanup();
    }
  }
  await sim.stop();
});
