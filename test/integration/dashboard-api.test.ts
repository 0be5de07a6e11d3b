/** What the integrators' dashboard reads beside the documented API: messages per day and the credit movements, each account its own. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { accountIdOf, call, fund, registerAndLogin } from '../support/api.js';
import { startGateway, startSimulator } from '../support/harness.js';

test('GET /api/stats/daily counts delivered, failed and pending per day; GET /api/credits/transactions lists the ledger; neither shows another account', async () => {
  const sim = await startSimulator({ systemId: 'airtel', password: 'pw' });
  const gw = await startGateway([{ name: 'airtel', binds: [{ port: sim.port }] }]);
  try {
    const token = await registerAndLogin(gw, 'daily@example.com');
    const other = await registerAndLogin(gw, 'daily-other@example.com');
    await fund(gw, await accountIdOf(gw, token), 1000);
    const sent = await call(gw, 'POST', '/api/messages/send', { token, body: { recipients: ['+24162000001', '+24162000002'], message: 'per day' } });
    assert.equal(sent.status, 200, sent.text);
    await gw.waitFinal(sent.json.data.message_ids);

    const daily = await call(gw, 'GET', '/api/stats/daily?days=7', { token });
    assert.equal(daily.status, 200, daily.text);
    assert.equal(daily.json.data.length, 7);
    const today = daily.json.data.at(-1);
    assert.equal(today.date, new Date().toISOString().slice(0, 10));
    assert.deepEqual({ total: today.total, delivered: today.delivered, failed: today.failed, pending: today.pending }, { total: 2, delivered: 2, failed: 0, pending: 0 });
    assert.ok(daily.json.data.slice(0, 6).every((d: { total: number }) => d.total === 0));
    assert.equal((await call(gw, 'GET', '/api/stats/daily?days=0', { token })).status, 422);
    assert.equal((await call(gw, 'GET', '/api/stats/daily', { token: other })).json.data.at(-1).total, 0, 'another account sees its own days');

    const moves = await call(gw, 'GET', '/api/credits/transactions', { token });
    assert.equal(moves.status, 200, moves.text);
    assert.equal(moves.json.total, 2);
    assert.deepEqual(moves.json.data.map((t: { amount: number; balance_after: number }) => [t.amount, t.balance_after]), [[-40, 960], [1000, 1000]]);
    assert.equal((await call(gw, 'GET', '/api/credits/transactions', { token: other })).json.total, 0);
  } finally {
    await gw.cleanup();
    await sim.stop();
  }
});

test('GET /web/config: registration, currency and each dialect\'s base URL on this host, before any login', async () => {
  const gw = await startGateway([{ name: 'airtel', binds: [{ port: 1 }] }], { auth: { registration: 'closed' } });
  try {
    const res = await call(gw, 'GET', '/web/config');
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.data.registration, 'closed');
    assert.equal(res.json.data.currency, 'XAF');
    const host = new URL(gw.url).host;
    assert.deepEqual(res.json.data.base_urls.map((b: { url: string }) => b.url), [`http://${host}/api`, `http://${host}/api/integration/v1/`, `http://${host}/api/`, `http://${host}/campaigns/api/`]);
  } finally {
    await gw.cleanup();
  }
});
