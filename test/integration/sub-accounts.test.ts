/**
 * Sub-accounts, credit limits, packages, expiry and the ledger check, over real HTTP against a
 * real daemon and the SMSC simulator.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { accountIdOf, adminToken, call, fund, PASSWORD, registerAndLogin } from '../support/api.js';
import { numbers, startGateway, startSimulator, tempDir, testDatabase, waitFor, type Gateway } from '../support/harness.js';

interface Ctx { gw: Gateway; owner: string; ownerId: number; dir: string }

async function withAccount(fn: (c: Ctx) => Promise<void>, credits = 100_000): Promise<void> {
  const tmp = tempDir();
  const sim = await startSimulator({ systemId: 'airtel', password: 'pw', receiptDelayMs: 5 });
  let gw: Gateway | undefined;
  try {
    gw = await startGateway([{ name: 'airtel', binds: [{ port: sim.port, tps: 2000, window: 50 }] }],
      { rate_limits: { send_per_minute: 10_000, default_per_minute: 10_000, auth_per_minute: 1000 }, webhooks: { allow_private_networks: true } }, join(tmp.dir, 'relais.db'));
    const owner = await registerAndLogin(gw, 'owner@example.com', 'Owner');
    const ownerId = await accountIdOf(gw, owner);
    if (credits) await fund(gw, ownerId, credits);
    await fn({ gw, owner, ownerId, dir: tmp.dir });
  } finally {
    await gw?.cleanup();
    await sim.stop();
    tmp.cleanup();
  }
}

async function subAccount(c: Ctx, role: string, extra: Record<string, unknown> = {}): Promise<{ id: number; token: string; email: string }> {
  const email = `${role}-${Math.random().toString(36).slice(2, 8)}@example.com`;
  const r = await call(c.gw, 'POST', '/api/sub-accounts', { token: c.owner, body: { name: `${role} user`, email, password: PASSWORD, role, ...extra } });
  assert.equal(r.status, 201, r.text);
  const login = await call(c.gw, 'POST', '/api/auth/login', { body: { email, password: PASSWORD } });
  assert.equal(login.status, 200, login.text);
  return { id: r.json.data.id, token: login.json.data.token, email };
}

/** Endpoints and the permission each needs; a 403 means refused, anything else means let through. */
const ENDPOINTS: [string, string, string, unknown?][] = [
  ['view_history', 'GET', '/api/messages/history'],
  ['send_sms', 'POST', '/api/messages/send', { recipients: ['+24162000001'], message: 'hi' }],
  ['manage_contacts', 'GET', '/api/contacts'],
  ['manage_groups', 'GET', '/api/contact-groups'],
  ['create_campaigns', 'POST', '/api/campaigns', { name: 'c', message_content: 'hi' }],
  ['view_analytics', 'GET', '/api/stats'],
  // Reading campaigns: create_campaigns or view_analytics (a viewer follows them, a sender does not).
  ['view_analytics', 'GET', '/api/campaigns'],
  ['manage_templates', 'GET', '/api/templates'],
  ['export_data', 'GET', '/api/messages/export'],
  ['manage_webhooks', 'GET', '/api/webhooks'],
  ['manage_api_keys', 'GET', '/api/api-keys'],
  ['manage_sub_accounts', 'GET', '/api/sub-accounts'],
  ['view_audit', 'GET', '/api/audit-logs'],
  ['view_balance', 'GET', '/api/balance'],
  // Ordering a package commits the account's money: the owner and admin sub-accounts only.
  ['manage_billing', 'POST', '/api/packages/999999/purchase', {}],
];

const ROLE_PERMISSIONS: Record<string, string[]> = {
  admin: ENDPOINTS.map((e) => e[0]),
  manager: ['view_history', 'send_sms', 'manage_contacts', 'manage_groups', 'create_campaigns', 'view_analytics', 'manage_templates', 'export_data', 'view_balance'],
  sender: ['view_history', 'send_sms', 'view_balance'],
  viewer: ['view_history', 'view_analytics', 'view_balance'],
};

test('role × endpoint matrix: each role is allowed exactly its permissions, answered 403 in the SendWave shape otherwise', async () => {
  await withAccount(async (c) => {
    const wrong: string[] = [];
    for (const [role, allowed] of Object.entries(ROLE_PERMISSIONS)) {
      const sub = await subAccount(c, role);
      for (const [permission, method, path, body] of ENDPOINTS) {
        const r = await call(c.gw, method, path, { token: sub.token, ...(body ? { body } : {}) });
        const got = r.status === 403 ? 'refused' : 'allowed';
        const expected = allowed.includes(permission) ? 'allowed' : 'refused';
        if (got !== expected) wrong.push(`${role} ${method} ${path}: ${r.status} ${r.text.slice(0, 80)}`);
        if (r.status === 403) assert.deepEqual(r.json, { message: "Cette action n'est pas autorisée." });
      }
    }
    assert.deepEqual(wrong, []);
    // The permissions endpoint replaces the set: a sender given manage_contacts may now list contacts, no longer send.
    const sender = await subAccount(c, 'sender');
    const bad = await call(c.gw, 'POST', `/api/sub-accounts/${sender.id}/permissions`, { token: c.owner, body: { permissions: ['manage_contacts', 'fly'] } });
    assert.equal(bad.status, 422);
    assert.match(bad.json.errors.permissions[0], /fly/);
    const ok = await call(c.gw, 'POST', `/api/sub-accounts/${sender.id}/permissions`, { token: c.owner, body: { permissions: ['manage_contacts'] } });
    assert.deepEqual(ok.json.data.permissions, ['manage_contacts']);
    assert.equal((await call(c.gw, 'GET', '/api/contacts', { token: sender.token })).status, 200);
    assert.equal((await call(c.gw, 'POST', '/api/messages/send', { token: sender.token, body: { recipients: ['+24162000001'], message: 'x' } })).status, 403);
  });
});

test("a sub-account acts inside its parent only: never another account's data, nor another sub-account's without the permission; audit names it", async () => {
  await withAccount(async (c) => {
    const manager = await subAccount(c, 'manager');
    const viewer = await subAccount(c, 'viewer');
    // The parent's contact is the sub-account's to see; another account's is not.
    const contact = await call(c.gw, 'POST', '/api/contacts', { token: c.owner, body: { name: 'Parent contact', phone: '+24162000111' } });
    const other = await registerAndLogin(c.gw, 'stranger@example.com');
    const foreign = await call(c.gw, 'POST', '/api/contacts', { token: other, body: { name: 'Foreign', phone: '+24162000222' } });
    assert.equal((await call(c.gw, 'GET', `/api/contacts/${contact.json.data.id}`, { token: manager.token })).status, 200);
    assert.equal((await call(c.gw, 'GET', `/api/contacts/${foreign.json.data.id}`, { token: manager.token })).status, 404);
    // Sub-accounts and webhooks need their own permissions.
    assert.equal((await call(c.gw, 'GET', `/api/sub-accounts/${viewer.id}`, { token: manager.token })).status, 403);
    await call(c.gw, 'POST', '/api/webhooks', { token: c.owner, body: { name: 'h', url: 'http://127.0.0.1:9/x', events: ['message.sent'] } });
    assert.equal((await call(c.gw, 'GET', '/api/webhooks', { token: manager.token })).status, 403);
    // Another account's owner cannot see this account's sub-accounts.
    assert.equal((await call(c.gw, 'GET', `/api/sub-accounts/${manager.id}`, { token: other })).status, 404);
    // What the manager does is audited as the sub-account.
    const created = await call(c.gw, 'POST', '/api/contacts', { token: manager.token, body: { name: 'By manager', phone: '+24162000333' } });
    assert.equal(created.status, 201);
    const log = (await call(c.gw, 'GET', '/api/audit-logs?action=contact.created', { token: c.owner })).json.data[0];
    assert.deepEqual([log.actor_type, log.sub_account_id, log.user_id], ['sub_account', manager.id, c.ownerId]);
    // /auth/me tells the sub-account who it is.
    const me = (await call(c.gw, 'GET', '/api/auth/me', { token: manager.token })).json.data;
    assert.deepEqual([me.id, me.sub_account.id, me.sub_account.role], [c.ownerId, manager.id, 'manager']);
  });
});

test('suspension refuses an existing token and an API key on the next request; activation lets the key back in', async () => {
  await withAccount(async (c) => {
    const admin = await subAccount(c, 'admin');
    const key = (await call(c.gw, 'POST', '/api/api-keys', { token: admin.token, body: { name: 'sub key' } })).json.data.key as string;
    assert.equal((await call(c.gw, 'GET', '/api/balance', { token: key })).status, 200);
    assert.equal((await call(c.gw, 'GET', '/api/balance', { token: admin.token })).status, 200);
    const suspended = await call(c.gw, 'POST', `/api/sub-accounts/${admin.id}/suspend`, { token: c.owner });
    assert.equal(suspended.json.data.status, 'suspended');
    assert.equal((await call(c.gw, 'GET', '/api/balance', { token: admin.token })).status, 401, 'its token was revoked');
    assert.equal((await call(c.gw, 'GET', '/api/balance', { token: key })).status, 403, 'its key is refused');
    assert.equal((await call(c.gw, 'POST', '/api/auth/login', { body: { email: admin.email, password: PASSWORD } })).status, 403, 'no new login');
    await call(c.gw, 'POST', `/api/sub-accounts/${admin.id}/activate`, { token: c.owner });
    assert.equal((await call(c.gw, 'GET', '/api/balance', { token: key })).status, 200);
    assert.equal((await call(c.gw, 'GET', '/api/balance', { token: admin.token })).status, 401, 'a revoked token stays revoked');
  });
});

test("20 concurrent sends racing for a sub-account's limit of 5 SMS, then for the parent's last credits, never overdraw either", async () => {
  await withAccount(async (c) => {
    const sender = await subAccount(c, 'sender', { sms_credit_limit: 5 * 20 });
    const race = (token: string, offset: number) => Promise.all(Array.from({ length: 20 }, (_, i) =>
      call(c.gw, 'POST', '/api/messages/send', { token, body: { recipients: [`+24162${String(offset + i).padStart(6, '0')}`], message: 'race' } })));
    const before = await c.gw.credits.balanceOf(c.ownerId);
    const limited = await race(sender.token, 0);
    assert.deepEqual([limited.filter((r) => r.status === 200).length, limited.filter((r) => r.status === 402).length], [5, 15]);
    assert.match(limited.find((r) => r.status === 402)!.json.message, /Limite de crédit du sous-compte/);
    const me = (await call(c.gw, 'GET', '/api/balance', { token: sender.token })).json.data;
    assert.deepEqual(me.sub_account, { credit_limit: 100, credits_used: 100, credits_available: 0 });
    assert.equal(await c.gw.credits.balanceOf(c.ownerId), before - 100);
    // The parent's last credits: 60 left, 20 one-SMS sends of 20 each.
    await call(c.gw, 'POST', `/api/sub-accounts/${sender.id}/credits`, { token: c.owner, body: { amount: 100_000 } });
    const admin = await adminToken(c.gw);
    await call(c.gw, 'POST', `/api/admin/accounts/${c.ownerId}/credits`, { token: admin, body: { amount: -(await c.gw.credits.balanceOf(c.ownerId) - 60) } });
    const parent = await race(sender.token, 100);
    assert.deepEqual([parent.filter((r) => r.status === 200).length, parent.filter((r) => r.status === 402).length], [3, 17]);
    assert.equal(await c.gw.credits.balanceOf(c.ownerId), 0);
  });
});

test('packages: an order waits for the operator; confirmed, its credits arrive through the ledger; rejected, nothing; unused credits expire through the ledger', async () => {
  await withAccount(async (c) => {
    const admin = await adminToken(c.gw);
    const pkg = await call(c.gw, 'POST', '/api/admin/packages', { token: admin, body: { name: 'Starter', sms_count: 100, bonus_sms: 10, price: 5000, currency: 'XAF', validity_days: 30 } });
    assert.equal(pkg.status, 201, pkg.text);
    const hidden = await call(c.gw, 'POST', '/api/admin/packages', { token: admin, body: { name: 'Old', sms_count: 1, price: 1, currency: 'XAF', is_active: false } });
    assert.deepEqual((await call(c.gw, 'GET', '/api/packages', { token: c.owner })).json.data.map((p: { name: string }) => p.name), ['Starter']);
    assert.equal((await call(c.gw, 'POST', `/api/packages/${hidden.json.data.id}/purchase`, { token: c.owner, body: {} })).status, 404);
    const before = await c.gw.credits.balanceOf(c.ownerId);
    const order = await call(c.gw, 'POST', `/api/packages/${pkg.json.data.id}/purchase`, { token: c.owner, body: { payment_method: 'mobile_money', provider: 'airtel_money' } });
    assert.equal(order.status, 201, order.text);
    assert.deepEqual([order.json.data.status, order.json.data.credits], ['pending', 110 * 20]);
    assert.equal(await c.gw.credits.balanceOf(c.ownerId), before, 'nothing before the operator confirms');
    const pending = (await call(c.gw, 'GET', '/api/admin/orders?status=pending', { token: admin })).json.data;
    assert.deepEqual(pending.map((o: { id: number }) => o.id), [order.json.data.id]);
    const confirmed = await call(c.gw, 'POST', `/api/admin/orders/${order.json.data.id}/confirm`, { token: admin });
    assert.equal(confirmed.json.data.status, 'confirmed');
    assert.equal(await c.gw.credits.balanceOf(c.ownerId), before + 2200);
    assert.equal((await call(c.gw, 'POST', `/api/admin/orders/${order.json.data.id}/reject`, { token: admin })).status, 409, 'decided once');
    const second = await call(c.gw, 'POST', `/api/packages/${pkg.json.data.id}/purchase`, { token: c.owner, body: {} });
    await call(c.gw, 'POST', `/api/admin/orders/${second.json.data.id}/reject`, { token: admin });
    assert.equal(await c.gw.credits.balanceOf(c.ownerId), before + 2200, 'a rejected order adds nothing');
    const rows = (await c.gw.credits.transactions(c.ownerId)).map((t) => [t.reason, t.amount, t.reference]);
    assert.deepEqual(rows[0], ['package', 2200, `order:${order.json.data.id}`]);
    // Ten SMS spent (package credits first), then 30 days pass: the other 2 000 of the package expire.
    await call(c.gw, 'POST', '/api/messages/send', { token: c.owner, body: { recipients: numbers(10), message: 'spend' } });
    await c.gw.services.billing.expireLots(Date.now() + 31 * 86_400_000);
    assert.equal(await c.gw.credits.balanceOf(c.ownerId), before + 2200 - 200 - 2000);
    const last = (await c.gw.credits.transactions(c.ownerId))[0]!;
    assert.deepEqual([last.reason, last.amount], ['expiry', -2000]);
    await c.gw.services.billing.expireLots(Date.now() + 62 * 86_400_000);
    assert.equal((await c.gw.credits.transactions(c.ownerId))[0]!.reason, 'expiry', 'an expired lot expires once');
    assert.equal(await c.gw.credits.balanceOf(c.ownerId), before + 2200 - 200 - 2000);
  });
});

test('relais doctor passes after a mixed workload and reports a tampered balance', async () => {
  await withAccount(async (c) => {
    const admin = await adminToken(c.gw);
    const sub = await subAccount(c, 'manager', { sms_credit_limit: 10_000 });
    await call(c.gw, 'POST', '/api/messages/send', { token: c.owner, body: { recipients: [...numbers(5), '+33612345678'], message: 'mixed' } });
    await call(c.gw, 'POST', '/api/messages/send', { token: sub.token, body: { recipients: numbers(3, '+24162', 50), message: 'by the sub-account' } });
    const campaign = (await call(c.gw, 'POST', '/api/campaigns', { token: sub.token, body: { name: 'c', message_content: 'camp', recipients: numbers(20, '+24162', 100) } })).json.data;
    await call(c.gw, 'POST', `/api/campaigns/${campaign.id}/send`, { token: sub.token });
    await call(c.gw, 'POST', `/api/campaigns/${campaign.id}/cancel`, { token: sub.token });
    const pkg = (await call(c.gw, 'POST', '/api/admin/packages', { token: admin, body: { name: 'P', sms_count: 10, price: 100, currency: 'XAF', validity_days: 1 } })).json.data;
    const order = (await call(c.gw, 'POST', `/api/packages/${pkg.id}/purchase`, { token: c.owner, body: {} })).json.data;
    await call(c.gw, 'POST', `/api/admin/orders/${order.id}/confirm`, { token: admin });
    await call(c.gw, 'POST', `/api/admin/accounts/${c.ownerId}/credits`, { token: admin, body: { amount: -5 } });
    await c.gw.services.billing.expireLots(Date.now() + 2 * 86_400_000);
    await waitFor(async () => (await c.gw.store.db.selectFrom('messages').select('id').where('status', 'in', ['queued', 'submitting']).execute()).length === 0, 10_000, 'queue drained');

    const config = join(c.dir, 'relais.json');
    // The gateway's own database (SQLite file or PostgreSQL schema), as an operator's config names it.
    writeFileSync(config, JSON.stringify({ database: testDatabase(join(c.dir, 'relais.db')), numbering: { country_code: '241' }, operators: [{ name: 'airtel', binds: [{ host: '127.0.0.1', port: 1, system_id: 'x', password: 'x', tps: 1 }] }], log: { level: 'silent' } }));
    // Run without blocking this process: the gateway under test lives in it and keeps serving.
    const doctor = () => new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', 'doctor', '--config', config], { timeout: 60_000 });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('error', reject);
      child.on('close', (status) => resolve({ status, stdout, stderr }));
    });
    const clean = await doctor();
    assert.equal(clean.status, 0, clean.stdout + clean.stderr);
    assert.match(clean.stdout, /^ok: \d+ accounts, \d+ ledger rows checked, 0 problem\(s\)/m);
    const api = await call(c.gw, 'GET', '/api/admin/doctor', { token: admin });
    assert.deepEqual([api.json.data.ok, api.json.data.problems], [true, []]);

    await c.gw.store.db.updateTable('accounts').set((eb) => ({ balance: eb('balance', '+', 7) })).where('id', '=', c.ownerId).execute();
    const tampered = await doctor();
    assert.equal(tampered.status, 1);
    assert.match(tampered.stdout, new RegExp(`PROBLEM balance account ${c.ownerId}: balance \\d+ but the ledger adds up to \\d+ \\(owner@example.com\\)`));
    assert.match(tampered.stdout, /NOT OK/);
  });
});

test('sub-accounts created at once with one email: one is created, the others answer 422 on email, never 500', async () => {
  await withAccount(async (c) => {
    const body = { name: 'Twin', email: 'twin@example.com', password: PASSWORD, role: 'manager' };
    const answers = await Promise.all(Array.from({ length: 4 }, () => call(c.gw, 'POST', '/api/sub-accounts', { token: c.owner, body })));
    assert.deepEqual(answers.map((r) => r.status).sort(), [201, 422, 422, 422], answers.map((r) => r.text).join('\n'));
    for (const r of answers.filter((a) => a.status === 422)) assert.deepEqual(Object.keys(r.json.errors), ['email'], r.text);
  }, 0);
});
