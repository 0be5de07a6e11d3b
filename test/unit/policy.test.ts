/**
 * The service boundary on a real SQLite file, without HTTP: every service operation refuses an
 * actor without its permission (the services are the authority, whatever a route declares), and
 * a change that rolls back leaves neither its audit row nor its webhook event.
 */
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { after, before, test } from 'node:test';
import { createLogger } from '../../src/log.js';
import { Router } from '../../src/routing/router.js';
import { ServiceError } from '../../src/services/errors.js';
import type { Services } from '../../src/services/index.js';
import { accountActor, ownerPermissions, PERMISSIONS, type Actor, type Permission } from '../../src/services/policy.js';
import { createServices } from '../../src/services/wiring.js';
import type { Changes } from '../../src/services/changes.js';
import { migrate, openStore, type Store } from '../../src/store/db.js';
import type { Account } from '../../src/store/accounts.js';
import { Outbox } from '../../src/webhooks/outbox.js';
import { tempDir, testConfig } from '../support/harness.js';

let store: Store;
let services: Services;
let changes: Changes;
let account: Account;
let cleanup: () => void;

before(async () => {
  const tmp = tempDir();
  cleanup = tmp.cleanup;
  const config = testConfig(`${tmp.dir}/relais.db`, [{ name: 'airtel', binds: [{ port: 1 }] }], { webhooks: { allow_private_networks: true } });
  store = openStore(config.database.path);
  await migrate(store);
  await store.repos.blacklist.load();
  const outbox = new Outbox();
  await outbox.load(store.repos);
  ({ services, changes } = await createServices({ config, store, outbox, router: new Router(config.routes), wake: () => undefined, binds: () => [], log: createLogger('silent') }));
  account = await services.accounts.create({ name: 'Tenant', email: 'tenant@example.com', password: 'password123' });
});

after(async () => {
  await store.close();
  cleanup();
});

const actorWith = (permissions: Iterable<Permission>): Actor => ({ ...accountActor(account, { kind: 'api_key', id: 1 }), permissions: new Set(permissions) });

/** Role-like permission sets: what sub-account roles and the operator will be built from. */
const SETS: Record<string, ReadonlySet<Permission>> = {
  operator: ownerPermissions({ role: 'admin' }),
  owner: ownerPermissions({ role: 'user' }),
  manager: new Set<Permission>(['send_sms', 'view_history', 'manage_contacts', 'manage_groups', 'create_campaigns', 'view_analytics', 'manage_templates', 'export_data']),
  sender: new Set<Permission>(['send_sms', 'view_history']),
  viewer: new Set<Permission>(['view_history', 'view_analytics']),
  nothing: new Set<Permission>(),
};

type Op = [name: string, permission: Permission, call: (s: Services, a: Actor) => unknown];

const OPS: Op[] = [
  ['sending.send', 'send_sms', (s, a) => s.sending.send(a, { recipients: ['+24162000001'], message: 'hi' })],
  ['sending.analyze', 'send_sms', (s, a) => s.sending.analyze(a, ['+24162000001'])],
  ['history.page', 'view_history', (s, a) => s.history.page(a, {}, { page: 1, size: 10 })],
  ['history.get', 'view_history', (s, a) => s.history.get(a, 1)],
  ['history.export', 'export_data', (s, a) => s.history.export(a, {}).next()],
  ['contacts.page', 'manage_contacts', (s, a) => s.contacts.page(a, {}, { page: 1, size: 10 })],
  ['contacts.create', 'manage_contacts', (s, a) => s.contacts.create(a, { name: 'A', phone: `+2416210${Math.floor(Math.random() * 9e4 + 1e4)}` })],
  ['contacts.remove', 'manage_contacts', (s, a) => s.contacts.remove(a, 999_999)],
  ['imports.importCsv', 'manage_contacts', (s, a) => s.imports.importCsv(a, Readable.from([Buffer.from('name,phone\n')]))],
  ['contacts.groups', 'manage_groups', (s, a) => s.contacts.groups(a)],
  ['contacts.createGroup', 'manage_groups', (s, a) => s.contacts.createGroup(a, { name: `g${Math.random()}` })],
  ['templates.list', 'manage_templates', (s, a) => s.templates.list(a, {})],
  ['templates.create', 'manage_templates', (s, a) => s.templates.create(a, { name: 't', content: 'c', category: 'other', is_public: false })],
  ['webhooks.list', 'manage_webhooks', (s, a) => s.webhooks.list(a)],
  ['webhooks.create', 'manage_webhooks', (s, a) => s.webhooks.create(a, { name: 'h', url: 'http://127.0.0.1:9/x', events: ['message.sent'], retry_limit: 0, timeout: 1, is_active: false })],
  ['accounts.webhookSecret', 'manage_webhooks', (s, a) => s.accounts.webhookSecret(a)],
  ['credentials.listApiKeys', 'manage_api_keys', (s, a) => s.credentials.listApiKeys(a)],
  ['credentials.createApiKey', 'manage_api_keys', (s, a) => s.credentials.createApiKey(a, 'k')],
  ['senderIds.list', 'manage_sender_ids', (s, a) => s.senderIds.list(a)],
  ['senderIds.request', 'manage_sender_ids', (s, a) => s.senderIds.request(a, `S${Math.floor(Math.random() * 1e6)}`)],
  ['blacklist.page', 'manage_blacklist', (s, a) => s.blacklist.page(a, 'account', { page: 1, size: 10 })],
  ['blacklist.add', 'manage_blacklist', (s, a) => s.blacklist.add(a, 'account', `+2416220${Math.floor(Math.random() * 9e4 + 1e4)}`, null)],
  ['audit.page', 'view_audit', (s, a) => s.audit.page(a, {}, { page: 1, size: 10 })],
  ['billing.balance', 'view_balance', (s, a) => s.billing.balance(a)],
  ['billing.purchase', 'manage_billing', (s, a) => s.billing.purchase(a, 999_999, {})],
  ['billing.stats', 'view_analytics', (s, a) => s.billing.stats(a, {})],
  ['subAccounts.list', 'manage_sub_accounts', (s, a) => s.subAccounts.list(a)],
  ['campaigns.list', 'create_campaigns', (s, a) => s.campaigns.create(a, { name: 'c', message: 'hi' })],
  ['billing.createPackage', 'operator.credits', (s, a) => s.billing.createPackage(a, { name: 'p', sms_count: 1, bonus_sms: 0, price: 1, currency: 'XAF', validity_days: null, is_active: true })],
  ['doctor.check', 'operator.credits', (s, a) => s.doctor.check(a)],
  ['accounts.list', 'operator.accounts', (s, a) => s.accounts.list(a, { page: 1, size: 10 })],
  ['accounts.setStatus', 'operator.accounts', (s, a) => s.accounts.setStatus(a, 999_999, 'active')],
  ['credits.adjust', 'operator.credits', (s, a) => s.credits.adjust(a, 999_999, 10)],
  ['senderIds.listByStatus', 'operator.sender_ids', (s, a) => s.senderIds.listByStatus(a)],
  ['senderIds.decide', 'operator.sender_ids', (s, a) => s.senderIds.decide(a, 999_999, 'approved')],
  ['blacklist.add global', 'operator.blacklist', (s, a) => s.blacklist.add(a, 'global', `+2416230${Math.floor(Math.random() * 9e4 + 1e4)}`, null)],
  ['gateway.binds', 'operator.gateway', (s, a) => s.gateway.binds(a)],
  ['gateway.routes', 'operator.gateway', (s, a) => s.gateway.routes(a)],
  ['gateway.lookup', 'operator.gateway', (s, a) => s.gateway.lookup(a, '+24162000000')],
  ['history.search', 'operator.messages', (s, a) => s.history.search(a, {}, { page: 1, size: 10 })],
  ['history.story', 'operator.messages', (s, a) => s.history.story(a, 999_999)],
];

/** Refused with permission_denied, or let through (any other outcome, errors included). */
async function outcome(op: Op, actor: Actor): Promise<'allowed' | 'refused'> {
  try {
    await op[2](services, actor);
  } catch (err) {
    if (err instanceof ServiceError && err.code === 'permission_denied') return 'refused';
    if (!(err instanceof ServiceError)) throw err;
  }
  return 'allowed';
}

test('permission matrix: every role-like set × every service operation is allowed exactly when the set holds the permission', async () => {
  const rows: string[] = [];
  for (const [setName, set] of Object.entries(SETS)) {
    for (const op of OPS) {
      const expected = set.has(op[1]) ? 'allowed' : 'refused';
      const got = await outcome(op, actorWith(set));
      if (got !== expected) rows.push(`${setName} × ${op[0]} (${op[1]}): expected ${expected}, got ${got}`);
    }
  }
  assert.deepEqual(rows, []);
});

test('every permission in the list is checked by some operation', () => {
  const checked = new Set(OPS.map((o) => o[1]));
  const unchecked = PERMISSIONS.filter((p) => !checked.has(p));
  assert.deepEqual(unchecked, []);
});

test('a change that rolls back leaves no audit row and no webhook event; the same change committed leaves both', async () => {
  const actor = actorWith(SETS.owner!);
  await services.webhooks.create(actor, { name: 'all', url: 'http://127.0.0.1:9/hook', events: ['contact.created'], retry_limit: 0, timeout: 1, is_active: true });
  const count = async () => ({
    audit: (await store.db.selectFrom('audit_logs').select('id').where('action', '=', 'test.change').execute()).length,
    events: (await store.db.selectFrom('webhook_deliveries').select('id').where('event', '=', 'contact.created').where('account_id', '=', account.id).execute()).length,
  });
  const change = (fail: boolean) => changes.run(actor, async (c) => {
    await c.audit({ action: 'test.change', model: 'Contact', modelId: 1, new: { name: 'x' } });
    assert.equal(await c.emit('contact.created', { id: 1 }), 1, 'the webhook subscribes to the event');
    if (fail) throw new Error('boom after the audit row and the event');
  });
  await assert.rejects(change(true), /boom/);
  assert.deepEqual(await count(), { audit: 0, events: 0 });
  await change(false);
  assert.deepEqual(await count(), { audit: 1, events: 1 });
});

test('a service refused half-way commits nothing: a duplicate contact leaves one contact, one audit row, one event', async () => {
  const actor = actorWith(SETS.owner!);
  const before = await store.db.selectFrom('audit_logs').select('id').where('action', '=', 'contact.created').execute();
  await services.contacts.create(actor, { name: 'Once', phone: '+24162555555' });
  await assert.rejects(services.contacts.create(actor, { name: 'Twice', phone: '0 62 55 55 55' }), (e: unknown) => e instanceof ServiceError && e.kind === 'validation');
  const rows = await store.db.selectFrom('contacts').select('name').where('phone', '=', '+24162555555').execute();
  assert.deepEqual(rows, [{ name: 'Once' }]);
  const afterRows = await store.db.selectFrom('audit_logs').select('id').where('action', '=', 'contact.created').execute();
  assert.equal(afterRows.length - before.length, 1);
});
