/**
 * Logs scanned (issue 12, attack suite): a daemon logging at debug level into a captured pino
 * destination, taken through every credential flow of every dialect — SendWave register, login,
 * failed logins, tokens, API keys (created, used, regenerated), webhooks with their own secret,
 * the per-send signing secret (read, rotated) and a per-send webhook_url carrying a token in its
 * query, webhook deliveries actually signed; Mifumo register, login, refresh, failed login, keys
 * created and regenerated (with their signing secrets), a webhook with a secret, logout; FLOW
 * token pairs, refresh, a failed login; a sub-account with its password. Then: none of those
 * passwords, tokens (nor their signatures), refresh tokens, keys, key secrets or webhook secrets
 * appears anywhere in the log text, nor in the audit log the API serves. The operator's
 * first-start admin password is printed once, by design (README), in that one line only.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { call } from '../support/api.js';
import { waitFor } from '../support/harness.js';
import { ok, withAttackGateway } from './support.js';

test('no password, token, refresh token, API key or webhook secret reaches the logs or the audit log, at debug level, in any dialect', async () => {
  const received: { url: string; headers: IncomingHttpHeaders }[] = [];
  const sink = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      received.push({ url: req.url ?? '', headers: req.headers });
      res.end('ok');
    });
  });
  await new Promise<void>((r) => sink.listen(0, '127.0.0.1', r));
  const hook = `http://127.0.0.1:${(sink.address() as AddressInfo).port}`;
  const out = new PassThrough();
  let logs = '';
  out.on('data', (d: Buffer) => (logs += d.toString()));
  const secrets: Record<string, string> = {};
  const keep = (what: string, value: unknown) => {
    assert.equal(typeof value, 'string', `${what}: ${String(value)}`);
    secrets[what] = value as string;
    return value as string;
  };
  try {
    await withAttackGateway(async (gw) => {
      // ---- SendWave ----
      const password = keep('SendWave password', 'Sw-Passw0rd-4c1d9e');
      const reg = await ok(gw, 'POST', '/api/auth/register', { body: { name: 'Leak', email: 'leak@example.com', password, password_confirmation: password } });
      keep('SendWave register token', reg.data.token);
      const token = keep('SendWave login token', (await ok(gw, 'POST', '/api/auth/login', { body: { email: 'leak@example.com', password } })).data.token);
      keep('SendWave wrong password', 'Wr0ng-Sw-Guess-77aa');
      assert.equal((await call(gw, 'POST', '/api/auth/login', { body: { email: 'leak@example.com', password: secrets['SendWave wrong password'] } })).status, 401);
      await ok(gw, 'GET', '/api/auth/me', { token });
      const key = await ok(gw, 'POST', '/api/api-keys', { token, body: { name: 'k' } });
      keep('SendWave API key', key.data.key);
      await ok(gw, 'GET', '/api/balance', { token: key.data.key });
      keep('SendWave regenerated key', (await ok(gw, 'POST', `/api/api-keys/${key.data.id}/regenerate`, { token })).data.key);
      await ok(gw, 'GET', '/api/auth/me', { token: secrets['SendWave regenerated key'] });
      assert.equal((await call(gw, 'GET', '/api/auth/me', { token: secrets['SendWave API key'] })).status, 401, 'an old key refused');
      const webhookSecret = keep('SendWave webhook secret', 'whsec-Sw-9f8e7d6c5b4a3210');
      const webhook = await ok(gw, 'POST', '/api/webhooks', { token, body: { name: 'mine', url: `${hook}/sendwave`, events: ['message.delivered'], secret: webhookSecret } });
      await ok(gw, 'PUT', `/api/webhooks/${webhook.data.id}`, { token, body: { secret: keep('SendWave webhook secret, changed', 'whsec-Sw-changed-0a1b2c3d4e') } });
      await ok(gw, 'POST', `/api/webhooks/${webhook.data.id}/test`, { token });
      keep('per-send signing secret', (await ok(gw, 'GET', '/api/webhooks/signing-secret', { token })).data.secret);
      keep('per-send signing secret, rotated', (await ok(gw, 'POST', '/api/webhooks/signing-secret/rotate', { token })).data.secret);
      await gw.credits.credit({ accountId: reg.data.user.id, amount: 1000, reason: 'topup', reference: 'logs' });
      const callbackToken = keep('token in a per-send webhook_url', 'cbtok-5e6f7a8b9c0d1e2f');
      const sent = await ok(gw, 'POST', '/api/messages/send', { token, body: { recipients: ['+24162000001'], message: 'hi', webhook_url: `${hook}/per-send?token=${callbackToken}` } });
      await gw.waitFinal(sent.data.message_ids);
      const sub = keep('sub-account password', 'Sub-Passw0rd-6a7b8c');
      await ok(gw, 'POST', '/api/sub-accounts', { token, body: { name: 'Sub', email: 'leak.sub@example.com', password: sub, role: 'admin' } });
      keep('sub-account token', (await ok(gw, 'POST', '/api/auth/login', { body: { email: 'leak.sub@example.com', password: sub } })).data.token);

      // ---- Mifumo ----
      const mPassword = keep('Mifumo password', 'Mf-Passw0rd-1b2c3d');
      const mReg = await ok(gw, 'POST', '/api/auth/register/', { body: { email: 'leak.m@example.com', first_name: 'Leak', last_name: 'M', password: mPassword, password_confirm: mPassword } });
      keep('Mifumo register access', mReg.tokens.access);
      keep('Mifumo register refresh', mReg.tokens.refresh);
      const mLogin = await ok(gw, 'POST', '/api/auth/login/', { body: { email: 'leak.m@example.com', password: mPassword } });
      const mAccess = keep('Mifumo access', mLogin.tokens.access);
      keep('Mifumo refresh', mLogin.tokens.refresh);
      keep('Mifumo refreshed access', (await ok(gw, 'POST', '/api/auth/token/refresh/', { body: { refresh: mLogin.tokens.refresh } })).access);
      keep('Mifumo wrong password', 'Wr0ng-Mf-Guess-88bb');
      assert.equal((await call(gw, 'POST', '/api/auth/login/', { body: { email: 'leak.m@example.com', password: secrets['Mifumo wrong password'] } })).status, 401);
      const mKey = await ok(gw, 'POST', '/api/auth/keys/create/', { token: mAccess, body: { name: 'integration' } });
      keep('Mifumo API key', mKey.data.api_key);
      keep('Mifumo key secret', mKey.data.secret_key);
      await ok(gw, 'GET', '/api/integration/v1/sms/balance/', { token: mKey.data.api_key });
      const mRegen = await ok(gw, 'POST', `/api/auth/keys/${mKey.data.id}/regenerate/`, { token: mAccess });
      keep('Mifumo regenerated key', mRegen.data.api_key);
      keep('Mifumo regenerated key secret', mRegen.data.secret_key);
      await ok(gw, 'GET', '/api/integration/v1/sms/balance/', { token: mRegen.data.api_key });
      await ok(gw, 'POST', '/api/auth/webhooks/create/', { token: mAccess, body: { url: `${hook}/mifumo`, secret: keep('Mifumo webhook secret', 'whsec-Mf-2b3c4d5e6f7a8b9c') } });
      await ok(gw, 'POST', '/api/auth/logout/', { token: mAccess });

      // ---- FLOW ----
      const pair = await ok(gw, 'POST', '/campaigns/api/token/', { body: { username: 'leak@example.com', password } });
      keep('FLOW access', pair.access);
      keep('FLOW refresh', pair.refresh);
      keep('FLOW refreshed access', (await ok(gw, 'POST', '/campaigns/api/token/refresh/', { body: { refresh: pair.refresh } })).access);
      await ok(gw, 'GET', '/campaigns/api/contacts/', { token: pair.access });
      keep('FLOW wrong password', 'Wr0ng-Flow-Guess-99cc');
      assert.equal((await call(gw, 'POST', '/campaigns/api/token/', { body: { username: 'leak@example.com', password: secrets['FLOW wrong password'] } })).status, 401);

      // The secrets were used: webhook deliveries arrived, signed.
      await waitFor(() => received.some((r) => r.url.startsWith('/per-send')) && received.some((r) => r.url === '/sendwave'), 10_000, 'webhook deliveries');
      assert.ok(received.every((r) => typeof r.headers['x-webhook-signature'] === 'string'));
      const audit = await call(gw, 'GET', '/api/audit-logs?per_page=500', { token });
      assert.equal(audit.status, 200);
      const mAudit = await call(gw, 'GET', '/api/notifications/?page_size=100', { token: mRegen.data.api_key });
      assert.equal(mAudit.status, 200);
      await new Promise((r) => setTimeout(r, 100));

      assert.ok(logs.includes('"path":"/campaigns/api/token/"') && logs.includes('"level":20'), 'requests are logged, at debug level');
      for (const [what, value] of Object.entries(secrets)) {
        // JWTs: the whole token and its signature alone; keys: the part after their public prefix.
        const pieces = [value, ...(value.split('.').length === 3 ? [value.split('.')[2]!] : []), ...(value.startsWith('rk_') ? [value.slice(10)] : [])];
        for (const piece of pieces) {
          assert.ok(!logs.includes(piece), `${what} is in the logs: …${logs.slice(Math.max(0, logs.indexOf(piece) - 200), logs.indexOf(piece) + 20)}`);
          assert.ok(!audit.text.includes(piece) && !mAudit.text.includes(piece), `${what} is in the audit log`);
        }
      }
      // The first-start admin password: printed once, in its documented line, nowhere else.
      const line = logs.split('\n').find((l) => l.includes('admin account created: email'));
      const bootstrap = /password (\S+)/.exec(line ?? '')?.[1];
      assert.ok(bootstrap, 'the first-start line');
      assert.equal(logs.split(bootstrap).length - 1, 1, 'the first-start admin password appears once');
    }, { extra: { log: { level: 'debug' }, webhooks: { allow_private_networks: true, retry_initial: 1 } }, logTo: out });
  } finally {
    sink.close();
  }
});
