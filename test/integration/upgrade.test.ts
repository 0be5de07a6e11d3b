/**
 * Upgrades: a database left at every earlier schema version (after 001, after 002, ... after 009),
 * filled with the data that version could hold, upgraded by today's `migrate()`: every row is
 * still there with its data, the new columns hold their defaults, the schema is the one a fresh
 * install gets, and a real daemon then carries on with it (the queue is claimable and delivered,
 * an interrupted submit is re-queued, a receipt matches a message sent before the upgrade, a
 * pending webhook is delivered, a campaign half expanded finishes, the money still adds up).
 * And an upgrade that fails part way leaves the database exactly as it was.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import SQLite from 'better-sqlite3';
import { Migrator, sql, type Kysely, type Migration } from 'kysely';
import { migrations } from '../../migrations/index.js';
import { cliActor } from '../../src/services/policy.js';
import { migrate, openStore, type Store } from '../../src/store/db.js';
import { startGateway, startSimulator, tempDir, waitFor } from '../support/harness.js';
import type { SmscSimulator } from '../../src/smpp/simulator/simulator.js';

const NAMES = Object.keys(migrations);
const T = Date.UTC(2025, 0, 1);
const LATER = Date.UTC(2100, 0, 1);

type Value = string | number | null;
type Row = Record<string, Value>;

/** The SendWave answer 0.1 stored for an idempotent send, and what migration 006 makes of it. */
const SENDWAVE_ANSWER = { message: 'SMS sent', data: { total: 2, sent: 2, failed: 0, sms_count: 2, total_cost: 40, by_operator: { airtel: 2 }, message_ids: [1, 2], sender_id: 'ACME', scheduled_at: null, balance: 9820 } };
const NEUTRAL_ANSWER = {
  total: 2, accepted: 2, failed: 0, sms_count: 2, encoding: 'gsm7', total_cost: 40, by_operator: { airtel: 2 }, message_ids: [1, 2], created_at: 0,
  failures: [], warnings: [], sender_id: 'ACME', scheduled_at: null, balance: 9820,
};

/**
 * What a gateway at schema version k (k migrations applied) could hold, in insertion order.
 * Rows name columns of today's schema; those the version does not have yet are left out. A new
 * migration: give its new tables a `since` entry here and its new columns a value in the rows.
 */
function fixture(k: number, hook: string): [string, Row[]][] {
  const acct = k >= 2 ? 1 : null;
  const msg = (id: number, m: Row): Row => ({
    id, account_id: acct, sender: 'ACME', recipient: `+24162${String(id).padStart(6, '0')}`, body: `message ${id}`, encoding: 'gsm7', parts: 1,
    operator: 'airtel', failover: 'moov', status: 'queued', attempts: 0, not_before: T, expires_at: LATER, acked_mask: 0, final_parts: 0, delivered_parts: 0,
    failed_state: null, bind: null, smsc_id: null, error_code: null, error: null, cost: 20, created_at: T, submitted_at: null, sent_at: null, done_at: null,
    refunded: 0, api_key_id: k >= 2 ? 1 : null, webhook_url: null, lane: 0, seq: 0, ...m,
  });
  const ledger: Row[] = [
    { id: 1, account_id: 1, amount: 10_000, balance_after: 10_000, reason: 'topup', reference: 'bank transfer 2025-001', created_at: T },
    { id: 2, account_id: 1, amount: -180, balance_after: 9_820, reason: 'send', reference: 'send:1-8', created_at: T },
    { id: 3, account_id: 1, amount: 20, balance_after: 9_840, reason: 'refund', reference: 'message:4', created_at: T },
    ...(k >= 7 ? [{ id: 4, account_id: 1, amount: -60, balance_after: 9_780, reason: 'reservation', reference: 'campaign:1:run:1', created_at: T }] : []),
    ...(k >= 8 ? [{ id: 5, account_id: 1, amount: 5_000, balance_after: 14_780, reason: 'package', reference: 'order:1', created_at: T }] : []),
  ];
  const balance = ledger.reduce((s, r) => s + (r.amount as number), 0);
  const all: [number, string, Row[]][] = [
    [2, 'accounts', [
      { id: 1, name: 'Acme', email: 'ops@acme.test', password_hash: 'scrypt$16384$8$1$c2FsdA$aGFzaA', role: 'user', status: 'active', balance, default_sender_id: 'ACME', created_at: T, updated_at: T,
        webhook_secret: 'whsec_acme', timezone: 'Africa/Libreville', username: 'acme', phone_number: '+24162999999', profile: '{"company":"Acme SARL"}' },
      { id: 2, name: 'Operator', email: 'admin@relais.test', password_hash: 'scrypt$16384$8$1$c2FsdA$b3Bz', role: 'admin', status: 'active', balance: 0, default_sender_id: null, created_at: T, updated_at: T },
    ]],
    [8, 'sub_accounts', [{ id: 1, account_id: 1, name: 'Marketing', email: 'mkt@acme.test', password_hash: 'scrypt$x', role: 'sender', permissions: '["sms.send"]', status: 'active', credit_limit: 1000, credits_used: 0, created_at: T, updated_at: T }]],
    [8, 'sms_packages', [{ id: 1, name: 'Starter', sms_count: 250, bonus_sms: 10, price: 5_000, currency: 'XAF', validity_days: 30, is_active: 1, created_at: T, updated_at: T }]],
    [8, 'package_orders', [{ id: 1, uuid: '0b7c5f0e-1111-4c3b-9d41-7a8f00000001', account_id: 1, package_id: 1, status: 'confirmed', payment_method: 'mobile_money', provider: 'airtel_money', price: 5_000, currency: 'XAF', credits: 5_000, created_at: T, decided_at: T, decided_by: 'cli' }]],
    [8, 'credit_lots', [{ id: 1, account_id: 1, order_id: 1, credits: 5_000, remaining: 5_000, expires_at: LATER, created_at: T }]],
    [2, 'auth_tokens', [{ jti: 'jti-acme-1', account_id: 1, created_at: T, expires_at: LATER, revoked_at: null, kind: 'refresh' }, { jti: 'jti-acme-2', account_id: 1, created_at: T, expires_at: LATER, revoked_at: T }]],
    [2, 'api_keys', [{ id: 1, account_id: 1, name: 'production', prefix: 'rl_live_ab', key_hash: 'sha256:0123456789abcdef', created_at: T, last_used_at: T, revoked_at: null }]],
    [2, 'sender_ids', [{ id: 1, account_id: 1, name: 'ACME', status: 'approved', created_at: T, decided_at: T }, { id: 2, account_id: 1, name: 'PROMO', status: 'pending', created_at: T, decided_at: null }]],
    [4, 'templates', [{ id: 1, account_id: 1, name: 'otp', content: 'Your code is {code}', category: 'transactional', is_public: 0, usage_count: 3, created_at: T, updated_at: T }]],
    [4, 'contacts', [
      { id: 1, uuid: 'c0ffee00-0000-4000-8000-000000000001', account_id: 1, name: 'Ada', email: 'ada@example.test', phone: '+24162100001', status: 'active', custom_fields: '{"city":"Libreville"}', tags: '["vip"]', opt_in_at: T, opt_out_at: null, created_at: T, updated_at: T },
      { id: 2, uuid: 'c0ffee00-0000-4000-8000-000000000002', account_id: 1, name: 'Bob', email: null, phone: '+24177100002', status: 'unsubscribed', custom_fields: '{}', tags: '[]', opt_in_at: null, opt_out_at: T, created_at: T, updated_at: T },
    ]],
    [4, 'contact_groups', [{ id: 1, account_id: 1, name: 'VIP', description: 'best customers', created_at: T }]],
    [4, 'contact_group_members', [{ group_id: 1, contact_id: 1, added_at: T }]],
    [7, 'segments', [{ id: 1, account_id: 1, name: 'vips', description: null, filter: '{"tags":["vip"]}', created_at: T, updated_at: T }]],
    [7, 'campaigns', [
      { id: 1, account_id: 1, name: 'Promo', message: 'Promo -10%', template_id: null, sender_id: 'ACME', audience: '{"numbers":["+24162200001","+24162200002","+24162200003"]}', status: 'running', scheduled_at: null, schedule: null, last_error: null, created_at: T, updated_at: T },
      { id: 2, account_id: 1, name: 'A/B draft', message: 'Hello', template_id: 1, sender_id: 'ACME', audience: '{"group_ids":[1]}', status: 'draft', scheduled_at: null, schedule: null, last_error: null, created_at: T, updated_at: T },
    ]],
    [7, 'campaign_variants', [{ id: 1, campaign_id: 2, name: 'A', message: 'Hello A', percentage: 50 }, { id: 2, campaign_id: 2, name: 'B', message: 'Hello B', percentage: 50 }]],
    // Campaign 1 is half way through its expansion: recipient 1 is in the queue, 2 and 3 still staged.
    [7, 'campaign_runs', [{ id: 1, campaign_id: 1, slot: null, phase: 'expanding', sender: 'ACME', sub_account_id: null, total: 3, removed: 0, duplicates: 0, reserved: 60, expanded: 1, started_at: T, finished_at: null, claimed_by: 'old-node', lease_until: LATER }]],
    [7, 'campaign_recipients', [1, 2, 3].map((pos) => ({ run_id: 1, phone: `+2416220000${pos}`, pos, variant_id: null, body: 'Promo -10%', encoding: 'gsm7', parts: 1, operator: 'airtel', failover: 'moov', cost: 20 }))],
    [1, 'messages', [
      msg(1, {}),
      msg(2, { status: 'sent', attempts: 1, acked_mask: 1, bind: 'airtel-1', smsc_id: 'a1b2c3', submitted_at: T, sent_at: T }),
      msg(3, { status: 'delivered', attempts: 1, acked_mask: 1, final_parts: 1, delivered_parts: 1, bind: 'airtel-1', smsc_id: 'a1b2c4', submitted_at: T, sent_at: T, done_at: T }),
      msg(4, { status: 'failed', attempts: 1, bind: 'airtel-1', error_code: 69, error: 'ESME_RSUBMITFAIL', submitted_at: T, done_at: T, refunded: 1 }),
      msg(5, { status: 'submitting', attempts: 1, bind: 'airtel-1', submitted_at: T }), // in a window when the old version stopped
      msg(6, { not_before: LATER }), // scheduled for later
      msg(7, { recipient: '+24177000007', operator: 'moov', failover: 'airtel' }),
      msg(8, { body: `long ${'x'.repeat(195)}`, parts: 2, cost: 40, webhook_url: hook }),
      ...(k >= 7 ? [msg(9, { recipient: '+24162200001', body: 'Promo -10%', campaign_id: 1, lane: 1, seq: 1, api_key_id: null })] : []),
    ]],
    [1, 'message_parts', [
      { message_id: 2, part_no: 1, operator: 'airtel', smsc_id: 'a1b2c3', state: 'sent', sent_at: T, receipt_at: null, receipt_err: null, raw_smsc_id: 'A1B2C3' },
      { message_id: 3, part_no: 1, operator: 'airtel', smsc_id: 'a1b2c4', state: 'DELIVRD', sent_at: T, receipt_at: T, receipt_err: '000', raw_smsc_id: 'A1B2C4',
        receipt_text: 'id:A1B2C4 sub:001 dlvrd:001 submit date:2501010000 done date:2501010000 stat:DELIVRD err:000 text:message 3' },
    ]],
    [1, 'pending_receipts', [{ operator: 'airtel', smsc_id: 'ffff01', stat: 'DELIVRD', err: '000', received_at: T, text: 'id:FFFF01 stat:DELIVRD err:000' }]],
    [1, 'mo_messages', [{ id: 1, operator: 'airtel', bind: 'airtel-1', sender: '+24162300001', recipient: '1234', body: 'STOP', opt_out: 1, received_at: T }]],
    [1, 'blacklist', [{ id: 1, account_id: 0, phone: '+24162300001', reason: 'STOP', source: 'mo', created_at: T }]],
    [2, 'credit_transactions', ledger],
    [2, 'idempotency_keys', [{ account_id: 1, key: 'idem-1', request_hash: 'h1', status: 200, response: JSON.stringify(k < 6 ? SENDWAVE_ANSWER : NEUTRAL_ANSWER), created_at: T }]],
    [2, 'settings', [{ key: 'upgrade_fixture', value: 'kept' }]],
    [3, 'webhooks', [{ id: 1, account_id: 1, name: 'receipts', url: hook, events: '["message.delivered"]', secret: 'whsec_hook', retry_limit: 3, timeout: 5, is_active: 1, last_triggered_at: null, created_at: T, updated_at: T }]],
    [3, 'webhook_deliveries', [{ id: 1, delivery_id: 'dlv-upgrade-1', account_id: 1, webhook_id: 1, url: hook, event: 'message.delivered', body: '{"event":"message.delivered","data":{"id":3}}', status: 'pending', attempts: 1, max_attempts: 5, timeout_ms: 5000, next_attempt_at: T, created_at: T, done_at: null, message_id: 3, claimed_by: 'old-node', lease_until: LATER }]],
    [3, 'webhook_logs', [{ id: 1, delivery_id: 'dlv-upgrade-1', webhook_id: 1, account_id: 1, event: 'message.delivered', url: hook, attempt: 1, success: 0, status_code: 503, error: 'HTTP 503', duration_ms: 12, created_at: T }]],
    [3, 'audit_logs', [{ id: 1, account_id: 1, actor_type: 'user', actor_id: 1, action: 'login', model_type: 'Account', model_id: 1, old_values: null, new_values: '{"ok":true}', ip_address: '10.0.0.1', user_agent: 'curl/8', created_at: T }]],
    [9, 'verification_codes', [{ account_id: 1, code_hash: 'sha256:code', attempts: 1, expires_at: LATER }]],
    // A node of a shared database left its lease and heartbeat behind (long expired).
    [12, 'bind_leases', [{ bind: 'airtel-1', operator: 'airtel', node: 'old-node', expires_at: T, bound: 1 }]],
    [12, 'cluster_nodes', [{ node: 'old-node', started_at: T, seen_at: T, version: '0.1.0' }]],
    // What nodes share on PostgreSQL (unused on SQLite, kept as is).
    [13, 'rate_counters', [{ key: 'key:1|send', window_start: T, n: 3, expires_at: T + 120_000 }]],
    [13, 'login_failures', [{ key: 'sha256:login', started_at: T, failures: 2 }]],
    [13, 'shared_versions', [{ topic: 'blacklist', version: 1 }]],
    [13, 'blacklist_changes', [{ version: 1, account_id: 0, phone: '+24162300001', added: 1, at: T }]],
  ];
  return all.filter(([since]) => since <= k).map(([, table, rows]) => [table, rows]);
}

/** Inserts the fixture with plain SQL, each row with the columns its table has at this version. */
function fill(path: string, k: number, hook: string): void {
  const db = new SQLite(path);
  try {
    db.pragma('foreign_keys = ON');
    db.transaction(() => {
      for (const [table, rows] of fixture(k, hook)) {
        const columns = new Set((db.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[]).map((c) => c.name));
        assert.ok(columns.size > 0, `table ${table} exists after ${NAMES[k - 1]}`);
        for (const row of rows) {
          const cols = Object.keys(row).filter((c) => columns.has(c));
          db.prepare(`INSERT INTO ${table} (${cols.join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`).run(...cols.map((c) => row[c]));
        }
      }
    })();
  } finally {
    db.close();
  }
}

type Dump = Record<string, Row[]>;

/** Every row of every table (kysely's bookkeeping aside), in rowid order. */
function dumpRows(path: string): Dump {
  const db = new SQLite(path, { readonly: true });
  try {
    const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'kysely_%' ORDER BY name").all() as { name: string }[]).map((r) => r.name);
    return Object.fromEntries(tables.map((t) => [t, db.prepare(`SELECT * FROM ${t} ORDER BY rowid`).all() as Row[]]));
  } finally {
    db.close();
  }
}

function dumpSchema(path: string): string[] {
  const db = new SQLite(path, { readonly: true });
  try {
    return (db.prepare("SELECT type || ' ' || name || ': ' || coalesce(sql, '') AS s FROM sqlite_master ORDER BY type, name").all() as { s: string }[]).map((r) => r.s);
  } finally {
    db.close();
  }
}

/** Each column's declared default, as the value SQLite stores (null when none). */
function defaults(path: string, table: string): Map<string, Value> {
  const db = new SQLite(path, { readonly: true });
  try {
    const cols = db.prepare(`PRAGMA table_info(${table})`).all() as { name: string; dflt_value: string | null }[];
    return new Map(cols.map((c) => [c.name, c.dflt_value === null ? null : c.dflt_value.startsWith("'") ? c.dflt_value.slice(1, -1).replaceAll("''", "'") : Number(c.dflt_value)]));
  } finally {
    db.close();
  }
}

async function migrateTo(path: string, name: string, extra: Record<string, Migration> = {}): Promise<void> {
  const store = openStore(path);
  try {
    const { error } = await new Migrator({ db: store.db, provider: { getMigrations: async () => ({ ...migrations, ...extra }) } }).migrateTo(name);
    if (error) throw error;
  } finally {
    await store.close();
  }
}

const applied = (path: string): string[] => {
  const db = new SQLite(path, { readonly: true });
  try {
    return (db.prepare('SELECT name FROM kysely_migration ORDER BY name').all() as { name: string }[]).map((r) => r.name);
  } finally {
    db.close();
  }
};

let airtel: SmscSimulator;
let moov: SmscSimulator;
let hookServer: Server;
let hook: string;
/** Claims made by these checks: one node, a lease far away. */
const LEASE = { node: 'upgrade-test', until: Number.MAX_SAFE_INTEGER };

const hookHits: { delivery: string; body: string }[] = [];
let freshSchema: string[];
const fresh = tempDir('relais-upgrade-');

before(async () => {
  airtel = await startSimulator({ systemId: 'airtel', password: 'pw' });
  moov = await startSimulator({ systemId: 'moov', password: 'pw' });
  hookServer = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      hookHits.push({ delivery: String(req.headers['x-webhook-delivery']), body });
      res.end('ok');
    });
  });
  await new Promise<void>((r) => hookServer.listen(0, '127.0.0.1', () => r()));
  hook = `http://127.0.0.1:${(hookServer.address() as AddressInfo).port}/hook`;
  const path = join(fresh.dir, 'fresh.db');
  const store = openStore(path);
  await migrate(store);
  await store.close();
  freshSchema = dumpSchema(path);
});

after(async () => {
  await airtel.stop();
  await moov.stop();
  hookServer.closeAllConnections();
  await new Promise<void>((r) => hookServer.close(() => r()));
  fresh.cleanup();
});

for (let k = 1; k < NAMES.length; k++) {
  const from = NAMES[k - 1]!;
  test(`upgrade from ${from}: every row kept, the new columns at their defaults, and a daemon carries on with them`, async () => {
    const tmp = tempDir('relais-upgrade-');
    const path = join(tmp.dir, 'relais.db');
    try {
      await migrateTo(path, from);
      assert.deepEqual(applied(path), NAMES.slice(0, k));
      fill(path, k, hook);
      const old = dumpRows(path);

      const store = openStore(path);
      let store2: Store | null = store;
      try {
        assert.deepEqual(await migrate(store), NAMES.slice(k), 'every later migration applied');
        assert.deepEqual(applied(path), NAMES);
        assert.deepEqual(dumpSchema(path), freshSchema, 'the schema of a fresh install');

        // Every row, column by column: what the old version wrote, else the new column's default.
        const now = dumpRows(path);
        for (const [table, rows] of Object.entries(old)) {
          assert.ok(rows.length > 0 || table === 'storage_probe', `fixture has rows in ${table} (${from})`);
          assert.equal(now[table]!.length, rows.length, `${table}: as many rows as before`);
          const dflt = defaults(path, table);
          rows.forEach((before, i) => {
            const row = now[table]![i]!;
            for (const [col, value] of Object.entries(row)) {
              if (table === 'idempotency_keys' && col === 'response' && k < 6) continue; // converted by 006: checked below
              const expected = col in before ? before[col] : dflt.get(col);
              assert.deepEqual(value, expected, `${table} row ${i + 1} column ${col} (upgraded from ${from})`);
            }
          });
        }
        if (k >= 2) {
          const stored = now.idempotency_keys![0]!.response as string;
          assert.deepEqual(JSON.parse(stored), NEUTRAL_ANSWER, 'the stored SendWave answer became the neutral send result');
        }

        // The queue, through today's repositories.
        assert.deepEqual(await store.repos.queue.recoverInterrupted('all'), ['airtel'], 'the message caught mid-submit goes back to the queue');
        const hit = await store.transaction((tx) => tx.queue.applyReceipt({ operator: 'airtel', smscId: 'a1b2c3', state: 'delivered', stat: 'DELIVRD', err: null, text: null, at: Date.now() }));
        assert.equal(hit?.id, 2, 'a receipt matches the part sent before the upgrade');
        assert.equal(hit?.status, 'delivered');
        const claimed = await store.transaction((tx) => tx.queue.claim('airtel', [], Date.now(), 100, LEASE));
        assert.deepEqual(claimed.map((m) => m.id), [1, 5, 8, ...(k >= 7 ? [9] : [])], 'the due messages are claimable (one-off sends, then campaigns), the scheduled one is not');
        assert.deepEqual((await store.transaction((tx) => tx.queue.claim('moov', [], Date.now(), 100, LEASE))).map((m) => m.id), [7]);
        await store.close();
        store2 = null;
      } finally {
        await store2?.close();
      }

      // A daemon on the upgraded file: the claimed messages (re-queued at its start) are sent and delivered.
      const gw = await startGateway([{ name: 'airtel', binds: [{ port: airtel.port }] }, { name: 'moov', binds: [{ port: moov.port }] }], { webhooks: { allow_private_networks: true, retry_initial: 0.1, retry_max: 0.5 } }, path);
      try {
        const expectDelivered = [1, 2, 3, 5, 7, 8, ...(k >= 7 ? [9] : [])];
        await waitFor(async () => (await gw.rows(expectDelivered)).every((r) => r.status === 'delivered'), 15_000, `messages ${expectDelivered.join(',')} delivered (from ${from})`);
        const rows = await gw.rows([4, 6]);
        assert.deepEqual(rows.map((r) => r.status), ['failed', 'queued'], 'the failed one stays failed, the scheduled one waits');
        if (k >= 3) await waitFor(() => hookHits.some((h) => h.delivery === 'dlv-upgrade-1'), 10_000, 'the pending webhook delivery delivered');
        if (k >= 7) {
          await waitFor(async () => (await gw.store.db.selectFrom('campaigns').select('status').where('id', '=', 1).executeTakeFirst())?.status === 'completed', 15_000, 'the half-expanded campaign completed');
          const camp = await gw.store.db.selectFrom('messages').select(['recipient', 'status']).where('campaign_id', '=', 1).orderBy('seq').execute();
          assert.deepEqual(camp, [1, 2, 3].map((p) => ({ recipient: `+2416220000${p}`, status: 'delivered' })), 'its staged recipients were expanded and delivered, once each');
        }
        if (k >= 2) {
          const report = await gw.services.doctor.check(cliActor());
          assert.deepEqual(report.problems, [], 'relais doctor: the balances still match the ledger');
          assert.equal(report.ok, true);
        }
      } finally {
        await gw.cleanup();
      }
    } finally {
      tmp.cleanup();
    }
  });
}

/** A migration that changes the schema and the data, then fails. */
const broken: Migration = {
  async up(db: Kysely<any>) {
    await db.schema.createTable('half_done').addColumn('id', 'integer', (c) => c.primaryKey()).execute();
    await db.schema.alterTable('messages').addColumn('half_done_col', 'text').execute();
    await db.schema.createIndex('messages_half_done').on('messages').column('recipient').execute();
    await db.updateTable('messages').set({ status: 'failed' }).execute();
    await db.deleteFrom('accounts').execute();
    throw new Error('migration bug');
  },
};

test('an upgrade that fails part way is rolled back whole: schema, data and migration list as they were', async () => {
  const tmp = tempDir('relais-upgrade-');
  const path = join(tmp.dir, 'relais.db');
  try {
    const k = 7;
    await migrateTo(path, NAMES[k - 1]!);
    fill(path, k, hook);
    const [schema, rows] = [dumpSchema(path), dumpRows(path)];
    const store = openStore(path);
    try {
      // Today's migrations after 007, then a broken one: nothing of 008..999 may stay.
      await assert.rejects(migrate(store, { ...migrations, '999_broken': broken }), /^MigrationFailed: migration 999_broken failed: migration bug \(nothing of this upgrade was applied: the database is as it was\)$/);
      assert.deepEqual(dumpSchema(path), schema, 'the schema is untouched (not even 008..010)');
      assert.deepEqual(dumpRows(path), rows, 'the data is untouched');
      assert.deepEqual(applied(path), NAMES.slice(0, k));
      // The store is usable at once (no lock or transaction left behind), and the real upgrade then works.
      assert.deepEqual((await store.transaction((tx) => tx.queue.states([1, 8, 9]))).map((m) => m.id), [1, 8, 9]);
      assert.deepEqual(await migrate(store), NAMES.slice(k));
      assert.deepEqual((await store.transaction((tx) => tx.queue.claim('airtel', [], Date.now(), 10, LEASE))).map((m) => m.id), [1, 8, 9]);
    } finally {
      await store.close();
    }
  } finally {
    tmp.cleanup();
  }
});

test('a failed migration on an up-to-date database changes nothing, and is retried whole at the next start', async () => {
  const tmp = tempDir('relais-upgrade-');
  const path = join(tmp.dir, 'relais.db');
  try {
    await migrateTo(path, NAMES.at(-1)!);
    fill(path, NAMES.length, hook);
    const [schema, rows] = [dumpSchema(path), dumpRows(path)];
    const store = openStore(path);
    try {
      await assert.rejects(migrate(store, { ...migrations, '999_broken': broken }), /migration 999_broken failed/);
      assert.deepEqual(dumpSchema(path), schema);
      assert.deepEqual(dumpRows(path), rows);
      assert.deepEqual(applied(path), NAMES);
      // The fixed migration goes through the next time.
      const fixed: Migration = { up: (db: Kysely<any>) => db.schema.createTable('half_done').addColumn('id', 'integer', (c) => c.primaryKey()).execute() };
      assert.deepEqual(await migrate(store, { ...migrations, '999_broken': fixed }), ['999_broken']);
    } finally {
      await store.close();
    }
  } finally {
    tmp.cleanup();
  }
});

test("control: the same failure without the transaction (Kysely's SQLite default) leaves half a schema behind", async () => {
  const tmp = tempDir('relais-upgrade-');
  const path = join(tmp.dir, 'relais.db');
  try {
    await migrateTo(path, NAMES.at(-1)!);
    const schema = dumpSchema(path);
    const store = openStore(path);
    try {
      const migrator = new Migrator({ db: store.db, disableTransactions: true, provider: { getMigrations: async () => ({ ...migrations, '999_broken': broken }) } });
      const { error } = await migrator.migrateToLatest();
      assert.match(String(error), /migration bug/);
      assert.notDeepEqual(dumpSchema(path), schema, 'the half-done table, column and index stayed: what the transaction prevents');
      assert.equal((await sql<{ n: number }>`select count(*) as n from sqlite_master where name in ('half_done', 'messages_half_done')`.execute(store.db)).rows[0]!.n, 2);
    } finally {
      await store.close();
    }
  } finally {
    tmp.cleanup();
  }
});

test('a database this build cannot migrate (written by a newer build) stops relais migrate and serve with exit 65, which systemd does not restart-loop', async () => {
  const tmp = tempDir();
  try {
    const dbPath = join(tmp.dir, 'relais.db');
    const store = openStore(dbPath);
    await migrate(store);
    await sql`insert into kysely_migration (name, timestamp) values ('999_from_a_newer_build', '2027-01-01T00:00:00.000Z')`.execute(store.db);
    await store.close();
    const configPath = join(tmp.dir, 'relais.yaml');
    writeFileSync(configPath, `database: { path: ${dbPath} }\nnumbering: { country_code: "241" }\nhttp: { host: 127.0.0.1, port: 0 }\nlog: { level: silent }\noperators: [{ name: airtel, binds: [{ host: 127.0.0.1, port: 1, system_id: a, password: p, tps: 1 }] }]\n`);
    for (const command of ['migrate', 'serve']) {
      const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', command, '--config', configPath], { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
      const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
      assert.equal(code, 65, `${command}: ${stderr}`);
      assert.match(stderr, /nothing of this upgrade was applied/);
    }
  } finally {
    tmp.cleanup();
  }
});
