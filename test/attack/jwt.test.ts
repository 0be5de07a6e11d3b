/**
 * Forged, stale and revoked credentials (issue 12, attack suite), against one guarded route of
 * each dialect: a tampered signature or payload, a token re-signed for another account, expired,
 * not yet valid, `alg: none`, HS512, another secret, a jti never issued, claims missing, a
 * refresh token as access (and the reverse), after logout (SendWave and Mifumo), revoked and
 * regenerated API keys: all 401 in each dialect's shape (FLOW with WWW-Authenticate). After the
 * operator suspends the account: 403 as api-sendwave.md, api-mifumo.md and api-flow.md document,
 * login included, and the same credentials work again once it is reactivated. A suspended
 * sub-account: its tokens revoked (401), its keys refused (403).
 */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { test } from 'node:test';
import jwt from 'jsonwebtoken';
import { adminToken, call, PASSWORD } from '../support/api.js';
import type { Gateway } from '../support/harness.js';
import { ATTACK_CONFIG, errorShapeProblem, login, ok, tenant, withAttackGateway, type DialectName } from './support.js';

const SECRET = 'attack-suite-secret-0123456789-abcdefghijklmnop';

/** One guarded route per dialect (Mifumo twice: the integration API and the full reference). */
const PROBES: { dialect: DialectName; path: string }[] = [
  { dialect: 'sendwave', path: '/api/auth/me' },
  { dialect: 'mifumo', path: '/api/integration/v1/sms/balance/' },
  { dialect: 'mifumo', path: '/api/tenants/current/' },
  { dialect: 'flow', path: '/campaigns/api/contacts/' },
];

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
const parts = (token: string) => token.split('.') as [string, string, string];
const claimsOf = (token: string) => jwt.decode(token) as { sub: string; jti: string; iat: number; exp: number; typ?: string };

/** Every probe answers `status` in its dialect's shape (with the dialect's code for it). */
async function expectRefused(gw: Gateway, token: string, status: 401 | 403, what: string): Promise<void> {
  for (const p of PROBES) {
    const res = await call(gw, 'GET', p.path, { token });
    const label = `${what} on ${p.path}: ${res.status} ${res.text.slice(0, 200)}`;
    assert.equal(res.status, status, label);
    assert.equal(errorShapeProblem(p.dialect, res), null, label);
    if (p.dialect === 'flow' && status === 401) assert.equal(res.headers.get('www-authenticate'), 'Bearer realm="api"', label);
    if (status === 403) {
      if (p.dialect === 'sendwave') assert.equal(res.json.message, 'This account is suspended.', label);
      if (p.dialect === 'mifumo') assert.equal(res.json.error_code, 'ACCOUNT_SUSPENDED', label);
      if (p.dialect === 'flow') assert.equal(res.json.detail, 'No active account found with the given credentials', label);
    }
  }
}

async function expectAccepted(gw: Gateway, token: string, what: string): Promise<void> {
  for (const p of PROBES) {
    const res = await call(gw, 'GET', p.path, { token });
    assert.equal(res.status, 200, `${what} on ${p.path}: ${res.text.slice(0, 200)}`);
  }
}

const config = { extra: { auth: { ...ATTACK_CONFIG.auth, jwt_secret: SECRET } } };

test('forged and stale tokens answer 401 in every dialect\'s shape', async () => {
  await withAttackGateway(async (gw) => {
    const a = await tenant(gw, 'jwt-a@example.com', 'Jwt A');
    const b = await tenant(gw, 'jwt-b@example.com', 'Jwt B');
    await expectAccepted(gw, a.token, 'a fresh token');
    const [header, payload, signature] = parts(a.token);
    const claims = claimsOf(a.token);
    const now = Math.floor(Date.now() / 1000);
    const flipped = signature.slice(0, 10) + (signature[10] === 'A' ? 'B' : 'A') + signature.slice(11);
    const hs256 = (p: object, secret = SECRET, h: object = { alg: 'HS256', typ: 'JWT' }) => {
      const head = `${b64(h)}.${b64(p)}`;
      return `${head}.${createHmac('sha256', secret).update(head).digest('base64url')}`;
    };
    const forged: Record<string, string> = {
      'a tampered signature': `${header}.${payload}.${flipped}`,
      'no signature': `${header}.${payload}.`,
      'a payload naming B, with A\'s signature': `${header}.${b64({ ...claims, sub: String(b.id) })}.${signature}`,
      'A\'s jti re-signed for B': hs256({ ...claims, sub: String(b.id) }),
      expired: hs256({ ...claims, iat: now - 7200, exp: now - 60 }),
      'not valid yet': hs256({ ...claims, nbf: now + 3600 }),
      'alg none': `${b64({ alg: 'none', typ: 'JWT' })}.${payload}.`,
      'alg None': `${b64({ alg: 'None', typ: 'JWT' })}.${payload}.`,
      'alg HS512 with the right secret': jwt.sign(claims, SECRET, { algorithm: 'HS512' }),
      'another secret': hs256(claims, 'another-secret-another-secret-another'),
      'the secret padded': hs256(claims, `${SECRET} `),
      'a jti never issued': hs256({ ...claims, jti: '3f1e0c9a-0000-4000-8000-000000000000' }),
      'no jti': hs256({ sub: claims.sub, iat: claims.iat, exp: claims.exp }),
      'no sub': hs256({ jti: claims.jti, iat: claims.iat, exp: claims.exp }),
      'sub as a number': hs256({ ...claims, sub: Number(claims.sub) }),
      // Signed with the attacker's key, which the header points to: the server uses only its own secret.
      'kid and jku naming the attacker\'s key': hs256(claims, '', { alg: 'HS256', typ: 'JWT', kid: '../../../../dev/null', jku: 'http://127.0.0.1:1/keys.json' }),
      'a JWT in JSON serialization': JSON.stringify({ protected: header, payload, signature }),
      'the token twice': `${a.token}${a.token}`,
    };
    for (const [what, token] of Object.entries(forged)) await expectRefused(gw, token, 401, what);
    // None of it did anything to the real token.
    await expectAccepted(gw, a.token, 'the real token after the forgeries');
  }, config);
});

test('refresh tokens are not access tokens (nor the reverse); logout ends a token at once in every dialect', async () => {
  await withAttackGateway(async (gw) => {
    const a = await tenant(gw, 'jwt-r@example.com', 'Jwt R');
    const mifumo = (await ok(gw, 'POST', '/api/auth/login/', { body: { email: a.email, password: PASSWORD } })).tokens;
    const flow = await ok(gw, 'POST', '/campaigns/api/token/', { body: { username: a.email, password: PASSWORD } });
    for (const [what, pair] of [['Mifumo', mifumo], ['FLOW', flow]] as const) {
      assert.equal(claimsOf(pair.refresh).typ, 'refresh');
      await expectRefused(gw, pair.refresh, 401, `a ${what} refresh token as access`);
      await expectAccepted(gw, pair.access, `a ${what} access token`);
      for (const path of ['/api/auth/token/refresh/', '/campaigns/api/token/refresh/']) {
        const res = await call(gw, 'POST', path, { body: { refresh: pair.access } });
        assert.equal(res.status, 401, `a ${what} access token at ${path}: ${res.text}`);
        assert.equal(errorShapeProblem(path.startsWith('/campaigns') ? 'flow' : 'mifumo', res), null);
      }
    }
    // Logout (SendWave, then Mifumo) ends that token everywhere, and only that one.
    const other = await login(gw, a.email);
    assert.equal((await call(gw, 'POST', '/api/auth/logout', { token: a.token })).status, 200);
    await expectRefused(gw, a.token, 401, 'a token after SendWave logout');
    assert.equal((await call(gw, 'POST', '/api/auth/logout/', { token: mifumo.access })).status, 200);
    await expectRefused(gw, mifumo.access, 401, 'a token after Mifumo logout');
    await expectAccepted(gw, other, 'another token of the account');
    await expectAccepted(gw, flow.access, 'the FLOW token of the account');
    // A revoked key, and the old secret of a regenerated one.
    const revoked = await ok(gw, 'POST', '/api/api-keys', { token: other, body: { name: 'to revoke' } });
    await expectAccepted(gw, revoked.data.key, 'a new key');
    await ok(gw, 'DELETE', `/api/api-keys/${revoked.data.id}`, { token: other });
    await expectRefused(gw, revoked.data.key, 401, 'a revoked key');
    const old = a.key;
    const regenerated = await ok(gw, 'POST', `/api/auth/keys/${a.keyId}/regenerate/`, { token: other });
    await expectRefused(gw, old, 401, 'the old secret of a regenerated key');
    await expectAccepted(gw, regenerated.data.api_key, 'the regenerated key');
  }, config);
});

test('a suspended account\'s credentials answer 403 as documented (login too) until it is reactivated; a suspended sub-account loses its tokens and its keys are refused', async () => {
  await withAttackGateway(async (gw) => {
    const admin = await adminToken(gw);
    const a = await tenant(gw, 'jwt-s@example.com', 'Jwt S');
    const pair = (await ok(gw, 'POST', '/api/auth/login/', { body: { email: a.email, password: PASSWORD } })).tokens;
    const sub = (await ok(gw, 'POST', '/api/sub-accounts', { token: a.token, body: { name: 'Sub', email: 'jwt-sub@example.com', password: PASSWORD, role: 'admin' } })).data;
    const subToken = await login(gw, 'jwt-sub@example.com');
    const subKey = (await ok(gw, 'POST', '/api/api-keys', { token: subToken, body: { name: 'sub key' } })).data.key as string;

    await ok(gw, 'POST', `/api/admin/accounts/${a.id}/suspend`, { token: admin });
    for (const [what, token] of [['token', a.token], ['API key', a.key], ['Mifumo access token', pair.access], ['sub-account token', subToken], ['sub-account key', subKey]]) {
      await expectRefused(gw, token!, 403, `a suspended account's ${what}`);
    }
    const logins = [
      { path: '/api/auth/login', body: { email: a.email, password: PASSWORD }, dialect: 'sendwave' },
      { path: '/api/auth/login/', body: { email: a.email, password: PASSWORD }, dialect: 'mifumo' },
      { path: '/campaigns/api/token/', body: { username: a.email, password: PASSWORD }, dialect: 'flow' },
      { path: '/api/auth/token/refresh/', body: { refresh: pair.refresh }, dialect: 'mifumo' },
      { path: '/campaigns/api/token/refresh/', body: { refresh: pair.refresh }, dialect: 'flow' },
    ] as const;
    for (const l of logins) {
      const res = await call(gw, 'POST', l.path, { body: l.body });
      assert.equal(res.status, 403, `${l.path} while suspended: ${res.text}`);
      assert.equal(errorShapeProblem(l.dialect, res), null, `${l.path}: ${res.text}`);
    }
    await ok(gw, 'POST', `/api/admin/accounts/${a.id}/activate`, { token: admin });
    for (const token of [a.token, a.key, pair.access, subToken, subKey]) await expectAccepted(gw, token, 'a credential after reactivation');

    // The account suspends its sub-account: the sub-account's tokens are revoked, its keys refused while it stays suspended.
    await ok(gw, 'POST', `/api/sub-accounts/${sub.id}/suspend`, { token: a.token });
    await expectRefused(gw, subToken, 401, 'a suspended sub-account\'s token');
    await expectRefused(gw, subKey, 403, 'a suspended sub-account\'s key');
    const subLogin = await call(gw, 'POST', '/api/auth/login', { body: { email: 'jwt-sub@example.com', password: PASSWORD } });
    assert.equal(subLogin.status, 403, subLogin.text);
    await expectAccepted(gw, a.token, 'the parent account');
    await ok(gw, 'POST', `/api/sub-accounts/${sub.id}/activate`, { token: a.token });
    await expectAccepted(gw, subKey, 'the sub-account\'s key after reactivation');
    await expectRefused(gw, subToken, 401, 'the sub-account\'s revoked token after reactivation');
    // Deleted: its key names nobody.
    await ok(gw, 'DELETE', `/api/sub-accounts/${sub.id}`, { token: a.token });
    await expectRefused(gw, subKey, 401, 'a deleted sub-account\'s key');
  }, config);
});
