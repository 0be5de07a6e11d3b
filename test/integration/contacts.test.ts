/**
 * SendWave contacts, contact groups, CSV import, templates, personalization on send, blacklist,
 * their webhook events and audit entries (../shared/seeds/001), over real HTTP against a real
 * daemon and real SMSC simulators (airtel +24162, moov +24177).
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { accountIdOf, adminToken, call, fund, registerAndLogin } from '../support/api.js';
import { startGateway, startSimulator, waitFor, type Gateway } from '../support/harness.js';
import type { SmscSimulator } from '../../src/smpp/simulator/simulator.js';

interface Ctx { gw: Gateway; airtel: SmscSimulator; moov: SmscSimulator }

/** Generous per-account limits: these tests make many calls with one token. */
const LIMITS = { rate_limits: { send_per_minute: 1000, default_per_minute: 10_000, auth_per_minute: 1000 } };

/** Two operators, airtel (+24162) and moov (+24177), each on its own simulator; everything stopped after. */
async function withGateway(extra: Record<string, unknown>, fn: (c: Ctx) => Promise<void>, logTo?: NodeJS.WritableStream): Promise<void> {
  const airtel = await startSimulator({ systemId: 'airtel', password: 'pw' });
  const moov = await startSimulator({ systemId: 'moov', password: 'pw' });
  let gw: Gateway | undefined;
  try {
    gw = await startGateway([{ name: 'airtel', binds: [{ port: airtel.port }] }, { name: 'moov', binds: [{ port: moov.port }] }], { ...LIMITS, ...extra }, undefined, logTo);
    await fn({ gw, airtel, moov });
  } finally {
    await gw?.cleanup();
    await Promise.all([airtel.stop(), moov.stop()]);
  }
}

/** A registered, logged-in, optionally funded account. */
async function user(gw: Gateway, email: string, credits = 0): Promise<{ token: string; id: number }> {
  const token = await registerAndLogin(gw, email);
  const id = await accountIdOf(gw, token);
  if (credits) await fund(gw, id, credits);
  return { token, id };
}

/** POST /api/contacts/import with `content` as the multipart field "file" (global FormData + Blob). */
async function importCsv(gw: Gateway, token: string, content: string | Uint8Array, field = 'file'): Promise<{ status: number; json: any; text: string }> {
  const form = new FormData();
  form.append(field, new Blob([content], { type: 'text/csv' }), 'contacts.csv');
  const res = await fetch(`${gw.url}/api/contacts/import`, { method: 'POST', headers: { authorization: `Bearer ${token}`, accept: 'application/json' }, body: form });
  const text = await res.text();
  let json: any = null;
  try {
    json = JSON.parse(text);
  } catch {
    json = null;
  }
  return { status: res.status, json, text };
}

const createContact = async (gw: Gateway, token: string, body: Record<string, unknown>) => {
  const r = await call(gw, 'POST', '/api/contacts', { token, body });
  assert.equal(r.status, 201, `create contact: ${r.text}`);
  return r.json.data;
};

/** Every contact of the caller, by phone (for checking import results). */
async function contactsByPhone(gw: Gateway, token: string): Promise<Map<string, any>> {
  const r = await call(gw, 'GET', '/api/contacts?per_page=500', { token });
  assert.equal(r.status, 200);
  return new Map((r.json.data as any[]).map((c) => [c.phone, c]));
}

const ids = (r: { json: { data: { id: number }[] } }) => r.json.data.map((x) => x.id);
const BOM = '\uFEFF';

interface Hit { headers: IncomingHttpHeaders; body: any }

/** A local webhook receiver answering 200. */
async function receiver(): Promise<{ url: string; hits: Hit[]; close: () => Promise<void> }> {
  const hits: Hit[] = [];
  const server: Server = createServer((req, res) => {
    let raw = '';
    req.on('data', (d) => (raw += d));
    req.on('end', () => {
      hits.push({ headers: req.headers, body: JSON.parse(raw) });
      res.statusCode = 200;
      res.end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/hook`, hits, close: () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); }) };
}

// ---------------------------------------------------------------- contacts CRUD

test('contacts CRUD: E.164 normalization, duplicate phone in any form, filters, pagination, opt-out time, delete; another account sees nothing', async () => {
  await withGateway({}, async ({ gw }) => {
    const a = await user(gw, 'a@example.com');
    const b = await user(gw, 'b@example.com');

    const created = await call(gw, 'POST', '/api/contacts', {
      token: a.token,
      body: { name: 'Alice Smith', email: 'alice@example.com', phone: '062000001', group: 'Clients', status: 'active', custom_fields: { company: 'ABC Corp', position: 'Manager' }, tags: ['vip'] },
    });
    assert.equal(created.status, 201, created.text);
    assert.equal(created.json.message, 'Contact créé');
    const alice = created.json.data;
    assert.equal(alice.phone, '+24162000001');
    assert.deepEqual(
      { name: alice.name, email: alice.email, group: alice.group, groups: alice.groups, status: alice.status, custom_fields: alice.custom_fields, tags: alice.tags, opt_out_at: alice.opt_out_at },
      { name: 'Alice Smith', email: 'alice@example.com', group: 'Clients', groups: ['Clients'], status: 'active', custom_fields: { company: 'ABC Corp', position: 'Manager' }, tags: ['vip'], opt_out_at: null },
    );
    assert.ok(Number.isInteger(alice.id));
    assert.match(alice.uuid, /^[0-9a-f-]{36}$/);
    assert.match(alice.opt_in_at, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    assert.match(alice.created_at, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);

    // The same number in other forms is the same contact.
    for (const phone of ['+24162000001', '24162000001', '+241 62 00 00 01', '00241-62-000-001', '062000001']) {
      const dup = await call(gw, 'POST', '/api/contacts', { token: a.token, body: { name: 'Again', phone } });
      assert.equal(dup.status, 422, phone);
      assert.deepEqual(Object.keys(dup.json.errors), ['phone'], phone);
      assert.equal(typeof dup.json.message, 'string');
    }
    const badPhone = await call(gw, 'POST', '/api/contacts', { token: a.token, body: { name: 'X', phone: '12345' } });
    assert.equal(badPhone.status, 422);
    assert.deepEqual(Object.keys(badPhone.json.errors), ['phone']);
    const missing = await call(gw, 'POST', '/api/contacts', { token: a.token, body: { email: 'nope' } });
    assert.equal(missing.status, 422);
    assert.deepEqual(Object.keys(missing.json.errors).sort(), ['email', 'name', 'phone']);
    const badStatus = await call(gw, 'POST', '/api/contacts', { token: a.token, body: { name: 'X', phone: '+24162000099', status: 'deleted' } });
    assert.equal(badStatus.status, 422);
    assert.deepEqual(Object.keys(badStatus.json.errors), ['status']);

    const bob = await createContact(gw, a.token, { name: 'Bob Martin', phone: '+24177000002', group: 'Partners', status: 'inactive', tags: ['vip', 'b2b'] });
    const carole = await createContact(gw, a.token, { name: 'Carole Nze', email: 'carole@corp.ga', phone: '077 00 00 03' });
    assert.equal(carole.phone, '+24177000003');
    assert.equal(bob.opt_in_at, null, 'an inactive contact has not opted in');

    const all = await call(gw, 'GET', '/api/contacts', { token: a.token });
    assert.equal(all.status, 200);
    assert.deepEqual({ ...all.json, data: ids(all) }, { current_page: 1, data: [alice.id, bob.id, carole.id], from: 1, last_page: 1, per_page: 50, to: 3, total: 3 });
    const page2 = await call(gw, 'GET', '/api/contacts?per_page=2&page=2', { token: a.token });
    assert.deepEqual({ ...page2.json, data: ids(page2) }, { current_page: 2, data: [carole.id], from: 3, last_page: 2, per_page: 2, to: 3, total: 3 });
    const page3 = await call(gw, 'GET', '/api/contacts?per_page=2&page=3', { token: a.token });
    assert.deepEqual({ ...page3.json, data: ids(page3) }, { current_page: 3, data: [], from: null, last_page: 2, per_page: 2, to: null, total: 3 });

    const filters: [string, number[]][] = [
      ['q=alice', [alice.id]],
      ['q=corp.ga', [carole.id]],
      ['q=77000002', [bob.id]],
      ['search=Martin', [bob.id]],
      ['name=Bob', [bob.id]],
      // Letters match whatever their case, and LIKE's wildcards and escape are plain characters (both backends).
      ['q=SMITH', [alice.id]],
      ['search=martin', [bob.id]],
      ['name=bOB', [bob.id]],
      ['q=%25', []],
      ['q=_', []],
      ['q=%5C', []],
      ['phone=62000001', [alice.id]],
      ['phone=%2B24177000003', [carole.id]],
      ['tag=vip', [alice.id, bob.id]],
      ['tag=b2b', [bob.id]],
      ['tag=none', []],
      ['group=Partners', [bob.id]],
      ['group=Clients', [alice.id]],
      ['status=inactive', [bob.id]],
      ['status=active', [alice.id, carole.id]],
      ['status=active&tag=vip', [alice.id]],
    ];
    for (const [qs, expected] of filters) {
      const r = await call(gw, 'GET', `/api/contacts?${qs}`, { token: a.token });
      assert.equal(r.status, 200, qs);
      assert.deepEqual(ids(r), expected, qs);
      assert.equal(r.json.total, expected.length, qs);
    }
    assert.equal((await call(gw, 'GET', '/api/contacts?status=deleted', { token: a.token })).status, 422);
    assert.equal((await call(gw, 'GET', '/api/contacts?per_page=0', { token: a.token })).status, 422);

    // Update: unsubscribing sets opt_out_at; a partial update leaves the rest alone.
    const unsub = await call(gw, 'PUT', `/api/contacts/${alice.id}`, { token: a.token, body: { status: 'unsubscribed' } });
    assert.equal(unsub.status, 200, unsub.text);
    assert.equal(unsub.json.message, 'Contact mis à jour');
    assert.equal(unsub.json.data.status, 'unsubscribed');
    assert.match(unsub.json.data.opt_out_at, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    assert.equal(unsub.json.data.email, 'alice@example.com');
    assert.deepEqual(unsub.json.data.custom_fields, { company: 'ABC Corp', position: 'Manager' });
    assert.deepEqual(unsub.json.data.groups, ['Clients']);
    const renamed = await call(gw, 'PUT', `/api/contacts/${alice.id}`, { token: a.token, body: { name: 'Alice Johnson' } });
    assert.equal(renamed.json.data.name, 'Alice Johnson');
    assert.equal(renamed.json.data.status, 'unsubscribed');
    assert.equal(renamed.json.data.opt_out_at, unsub.json.data.opt_out_at);
    const fetched = await call(gw, 'GET', `/api/contacts/${alice.id}`, { token: a.token });
    assert.equal(fetched.status, 200);
    assert.deepEqual(fetched.json.data, renamed.json.data);
    const back = await call(gw, 'PUT', `/api/contacts/${alice.id}`, { token: a.token, body: { status: 'active' } });
    assert.equal(back.json.data.opt_out_at, null);
    assert.notEqual(back.json.data.opt_in_at, null);
    // Moving Bob onto Alice's number (in national form) is a duplicate; keeping one's own number is not.
    const clash = await call(gw, 'PUT', `/api/contacts/${bob.id}`, { token: a.token, body: { phone: '062000001' } });
    assert.equal(clash.status, 422);
    assert.deepEqual(Object.keys(clash.json.errors), ['phone']);
    const same = await call(gw, 'PUT', `/api/contacts/${bob.id}`, { token: a.token, body: { phone: '077000002' } });
    assert.equal(same.status, 200);
    assert.equal(same.json.data.phone, '+24177000002');
    assert.equal((await call(gw, 'PUT', `/api/contacts/${bob.id}`, { token: a.token, body: { status: 'gone' } })).status, 422);

    // Another account: 404 on every route of A's contact, cannot put it in its own group, never lists it.
    for (const [method, body] of [['GET', undefined], ['PUT', { name: 'Hijack' }], ['DELETE', undefined]] as const) {
      const r = await call(gw, method, `/api/contacts/${alice.id}`, { token: b.token, body });
      assert.equal(r.status, 404, method);
      assert.deepEqual(Object.keys(r.json), ['message'], method);
    }
    const bGroup = await call(gw, 'POST', '/api/contact-groups', { token: b.token, body: { name: 'Clients' } });
    assert.equal(bGroup.status, 201);
    const steal = await call(gw, 'POST', `/api/contact-groups/${bGroup.json.data.id}/contacts/add`, { token: b.token, body: { contact_ids: [alice.id] } });
    assert.equal(steal.status, 404);
    const bList = await call(gw, 'GET', '/api/contacts', { token: b.token });
    assert.deepEqual({ data: bList.json.data, total: bList.json.total }, { data: [], total: 0 });
    assert.deepEqual(ids(await call(gw, 'GET', '/api/contacts?group=Clients', { token: b.token })), []);
    assert.deepEqual(ids(await call(gw, 'GET', '/api/contacts?q=alice', { token: b.token })), []);
    const bGroups = await call(gw, 'GET', '/api/contact-groups', { token: b.token });
    assert.deepEqual(bGroups.json.data.map((g: any) => [g.name, g.contacts_count]), [['Clients', 0]]);
    assert.deepEqual(ids(await call(gw, 'GET', `/api/contact-groups/${bGroup.json.data.id}/contacts`, { token: b.token })), []);
    const aGroupId = (await call(gw, 'GET', '/api/contact-groups', { token: a.token })).json.data.find((g: any) => g.name === 'Clients').id;
    assert.equal((await call(gw, 'GET', `/api/contact-groups/${aGroupId}/contacts`, { token: b.token })).status, 404);
    // Numbers are unique per account: B may have its own contact on the same number.
    const bAlice = await createContact(gw, b.token, { name: 'B Alice', phone: '+24162000001' });
    assert.notEqual(bAlice.id, alice.id);
    assert.equal((await call(gw, 'GET', `/api/contacts/${alice.id}`, { token: a.token })).json.data.name, 'Alice Johnson');

    // Delete.
    const del = await call(gw, 'DELETE', `/api/contacts/${alice.id}`, { token: a.token });
    assert.equal(del.status, 200);
    assert.deepEqual(del.json, { message: 'Contact supprimé' });
    assert.equal((await call(gw, 'GET', `/api/contacts/${alice.id}`, { token: a.token })).status, 404);
    assert.equal((await call(gw, 'DELETE', `/api/contacts/${alice.id}`, { token: a.token })).status, 404);
    assert.deepEqual(ids(await call(gw, 'GET', '/api/contacts', { token: a.token })), [bob.id, carole.id]);
    // The number is free again.
    assert.equal((await call(gw, 'POST', '/api/contacts', { token: a.token, body: { name: 'New Alice', phone: '062000001' } })).status, 201);
  });
});

// Searching with the number as the contact was entered (national form) should find it: the
// stored form is E.164, and the filter only strips non-digits from the query.
test('the phone and q filters find a contact by its national form', async () => {
  await withGateway({}, async ({ gw }) => {
    const a = await user(gw, 'a@example.com');
    const alice = await createContact(gw, a.token, { name: 'Alice', phone: '062000001' });
    assert.deepEqual(ids(await call(gw, 'GET', '/api/contacts?phone=062000001', { token: a.token })), [alice.id]);
    assert.deepEqual(ids(await call(gw, 'GET', '/api/contacts?q=062000001', { token: a.token })), [alice.id]);
  });
});

// ---------------------------------------------------------------- CSV import

/** The import scenario, written with `sep`; `quoted` is a field needing quotes in that dialect. */
function importFile(sep: ';' | ','): string {
  const q = (s: string) => `"${s.replace(/"/g, '""')}"`;
  const rows = [
    ['name', 'email', 'phone', 'group', 'status', 'company'],
    [q('Dupont, Jean'), 'jean@example.com', '062000001', 'Clients', 'active', q(`ACME "Gabon"${sep} SA`)], // 2: created
    ['Marie Curie', '', '+24177000002', 'Partners', 'inactive', ''], // 3: created
    ['Bad Phone', 'bad@example.com', '12345', 'Clients', 'active', ''], // 4: phone
    ['Bad Email', 'not-an-email', '+24162000004', '', '', ''], // 5: email
    ['Bad Status', '', '+24162000005', '', 'deleted', ''], // 6: status
    ['No Phone', 'nophone@example.com', '', '', 'active', ''], // 7: phone missing
    ['Existing Updated', 'new@example.com', '+241 62 00 00 10', 'VIP', 'active', 'New Co'], // 8: updates an existing contact
    ['Marie C.', 'marie@example.com', '0 77 00 00 02', 'Labo', 'inactive', 'Institut'], // 9: duplicate of line 3
  ];
  return BOM + rows.map((r) => r.join(sep)).join('\r\n') + '\r\n';
}

async function checkImportScenario(gw: Gateway, sep: ';' | ','): Promise<void> {
  const a = await user(gw, `import${sep === ';' ? 'semi' : 'comma'}@example.com`);
  const existing = await createContact(gw, a.token, { name: 'Existing Person', email: 'old@example.com', phone: '+24162000010', custom_fields: { company: 'Old Co', city: 'Libreville' } });
  const r = await importCsv(gw, a.token, importFile(sep));
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.message, 'Import terminé');
  assert.deepEqual(r.json.data, {
    created: 2, updated: 2, failed: 4,
    errors: [
      { row: 4, field: 'phone', message: 'The phone "12345" is not a valid number.' },
      { row: 5, field: 'email', message: 'The email "not-an-email" is not a valid email address.' },
      { row: 6, field: 'status', message: 'The status "deleted" must be active, inactive or unsubscribed.' },
      { row: 7, field: 'phone', message: 'The phone field is required.' },
    ],
  });

  const byPhone = await contactsByPhone(gw, a.token);
  assert.deepEqual([...byPhone.keys()].sort(), ['+24162000001', '+24162000010', '+24177000002']);
  const jean = byPhone.get('+24162000001');
  assert.deepEqual(
    { name: jean.name, email: jean.email, groups: jean.groups, status: jean.status, custom_fields: jean.custom_fields },
    { name: 'Dupont, Jean', email: 'jean@example.com', groups: ['Clients'], status: 'active', custom_fields: { company: `ACME "Gabon"${sep} SA` } },
  );
  const marie = byPhone.get('+24177000002');
  assert.deepEqual(
    { name: marie.name, email: marie.email, groups: marie.groups, status: marie.status, custom_fields: marie.custom_fields },
    { name: 'Marie C.', email: 'marie@example.com', groups: ['Labo', 'Partners'], status: 'inactive', custom_fields: { company: 'Institut' } },
  );
  const upd = byPhone.get('+24162000010');
  assert.equal(upd.id, existing.id);
  assert.deepEqual(
    { name: upd.name, email: upd.email, groups: upd.groups, status: upd.status, custom_fields: upd.custom_fields },
    { name: 'Existing Updated', email: 'new@example.com', groups: ['VIP'], status: 'active', custom_fields: { company: 'New Co', city: 'Libreville' } },
  );
  // The import's groups are real groups, with their sizes.
  const groups = await call(gw, 'GET', '/api/contact-groups', { token: a.token });
  assert.deepEqual(groups.json.data.map((g: any) => [g.name, g.contacts_count]).sort(), [['Clients', 1], ['Labo', 1], ['Partners', 1], ['VIP', 1]]);
  assert.deepEqual((await call(gw, 'GET', '/api/contacts?q=Jean', { token: a.token })).json.data.map((c: any) => c.phone), ['+24162000001']);
}

test('CSV import, ";" separated with BOM and CRLF: quoted comma and quote, extra column, bad rows with line numbers, duplicates update', async () => {
  await withGateway({}, async ({ gw }) => {
    await checkImportScenario(gw, ';');
  });
});

test('CSV import, "," separated with BOM and CRLF: the same file gives the same result', async () => {
  await withGateway({}, async ({ gw }) => {
    await checkImportScenario(gw, ',');
  });
});

test('CSV import refusals: no multipart, no file field, no phone column → 422 and nothing imported', async () => {
  await withGateway({}, async ({ gw }) => {
    const a = await user(gw, 'a@example.com');
    const json = await call(gw, 'POST', '/api/contacts/import', { token: a.token, body: { file: 'name,phone\nA,+24162000001' } });
    assert.equal(json.status, 422);
    assert.deepEqual(Object.keys(json.json.errors), ['file']);
    const raw = await call(gw, 'POST', '/api/contacts/import', { token: a.token, rawBody: 'name,phone\nA,+24162000001', headers: { 'content-type': 'text/csv' } });
    assert.equal(raw.status, 422);
    assert.deepEqual(Object.keys(raw.json.errors), ['file']);

    const form = new FormData();
    form.append('note', 'no file here');
    const noFile = await fetch(`${gw.url}/api/contacts/import`, { method: 'POST', headers: { authorization: `Bearer ${a.token}`, accept: 'application/json' }, body: form });
    assert.equal(noFile.status, 422);
    assert.deepEqual(Object.keys(((await noFile.json()) as any).errors), ['file']);

    const noPhone = await importCsv(gw, a.token, 'name,email,mobile\r\nJean,jean@example.com,+24162000001\r\n');
    assert.equal(noPhone.status, 422, noPhone.text);
    assert.deepEqual(Object.keys(noPhone.json.errors), ['file']);
    assert.equal((await call(gw, 'GET', '/api/contacts', { token: a.token })).json.total, 0);
    // Still usable afterwards.
    const ok = await importCsv(gw, a.token, 'Name,Phone\n Jean , +24162000001 \n', 'upload');
    assert.equal(ok.status, 200, ok.text);
    assert.deepEqual(ok.json.data, { created: 1, updated: 0, failed: 0, errors: [] });
    assert.equal((await call(gw, 'GET', '/api/contacts', { token: a.token })).json.data[0].name, 'Jean');
    const audit = await call(gw, 'GET', '/api/audit-logs?action=contact.imported', { token: a.token });
    assert.equal(audit.json.total, 1, 'refused imports are not audited');
  });
});

// A short first data row (missing trailing fields) is a bad row like any other; the whole file
// must not be refused for "no phone column" when the header has one.
test('CSV import: a first data row shorter than the header is a row error, not a missing phone column', async () => {
  await withGateway({}, async ({ gw }) => {
    const a = await user(gw, 'a@example.com');
    const r = await importCsv(gw, a.token, 'name,email,phone\r\nJean\r\nMarie,marie@example.com,+24162000002\r\n');
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json.data, { created: 1, updated: 0, failed: 1, errors: [{ row: 2, field: 'phone', message: 'The phone field is required.' }] });
  });
});

// The file's own separator is the one on its header line; the other character is data. A French
// Excel export is ";"-separated and does not quote a comma inside a field.
test('CSV import: the other separator inside an unquoted field stays in the field', async () => {
  await withGateway({}, async ({ gw }) => {
    const a = await user(gw, 'a@example.com');
    const semi = await importCsv(gw, a.token, 'name;phone;company\r\nJean Durand;+24162000001;Durand, Fils et Cie\r\n');
    assert.equal(semi.status, 200, semi.text);
    assert.deepEqual(semi.json.data, { created: 1, updated: 0, failed: 0, errors: [] });
    const comma = await importCsv(gw, a.token, 'name,phone,company\r\nMarie,+24162000002,Labo; Institut\r\n');
    assert.deepEqual(comma.json.data, { created: 1, updated: 0, failed: 0, errors: [] });
    const byPhone = await contactsByPhone(gw, a.token);
    assert.deepEqual(byPhone.get('+24162000001').custom_fields, { company: 'Durand, Fils et Cie' });
    assert.deepEqual(byPhone.get('+24162000002').custom_fields, { company: 'Labo; Institut' });
  });
});

// Duplicates "update in place", and custom fields are merged; but columns the file does not have
// must not wipe what the contact has: above all, re-importing a list must not resubscribe a
// contact who opted out.
test('CSV import: re-importing a phone-only list keeps an existing contact\'s status (unsubscribed), email and name', async () => {
  await withGateway({}, async ({ gw }) => {
    const a = await user(gw, 'a@example.com');
    const c = await createContact(gw, a.token, { name: 'Awa Mba', email: 'awa@example.com', phone: '+24162000040', status: 'unsubscribed' });
    const r = await importCsv(gw, a.token, 'phone,company\r\n062000040,ACME\r\n');
    assert.deepEqual(r.json.data, { created: 0, updated: 1, failed: 0, errors: [] });
    const after = (await call(gw, 'GET', `/api/contacts/${c.id}`, { token: a.token })).json.data;
    assert.deepEqual(
      { name: after.name, email: after.email, status: after.status, opt_out_at: after.opt_out_at, custom_fields: after.custom_fields },
      { name: 'Awa Mba', email: 'awa@example.com', status: 'unsubscribed', opt_out_at: c.opt_out_at, custom_fields: { company: 'ACME' } },
    );
  });
});

test('CSV import of 5 000 generated rows: every row created and listed', async () => {
  await withGateway({}, async ({ gw }) => {
    const a = await user(gw, 'a@example.com');
    const lines = ['name,email,phone,group,status,city'];
    for (let i = 0; i < 5000; i++) {
      const prefix = i % 2 ? '077' : '062';
      lines.push(`Contact ${i},c${i}@example.com,${prefix}${String(i).padStart(6, '0')},${i % 3 ? 'Bulk' : 'Bulk3'},active,City ${i % 7}`);
    }
    const r = await importCsv(gw, a.token, lines.join('\n') + '\n');
    assert.equal(r.status, 200, r.text.slice(0, 500));
    assert.deepEqual(r.json.data, { created: 5000, updated: 0, failed: 0, errors: [] });
    assert.equal((await call(gw, 'GET', '/api/contacts?per_page=1', { token: a.token })).json.total, 5000);
    assert.equal((await call(gw, 'GET', '/api/contacts?per_page=1&phone=%2B24177', { token: a.token })).json.total, 2500);
    const groups = await call(gw, 'GET', '/api/contact-groups', { token: a.token });
    assert.deepEqual(groups.json.data.map((g: any) => [g.name, g.contacts_count]).sort(), [['Bulk', 3333], ['Bulk3', 1667]]);
    const one = (await call(gw, 'GET', '/api/contacts?phone=%2B24177004999', { token: a.token })).json.data;
    assert.deepEqual(one.map((c: any) => [c.name, c.email, c.custom_fields]), [['Contact 4999', 'c4999@example.com', { city: 'City 1' }]]);
    // Importing the same file again updates every row.
    const again = await importCsv(gw, a.token, lines.join('\n') + '\n');
    assert.deepEqual(again.json.data, { created: 0, updated: 5000, failed: 0, errors: [] });
    assert.equal((await call(gw, 'GET', '/api/contacts?per_page=1', { token: a.token })).json.total, 5000);
  });
});

// ---------------------------------------------------------------- groups

test('contact groups: create (duplicate name 422), add/remove members, list members, contacts_count, group on create', async () => {
  await withGateway({}, async ({ gw }) => {
    const a = await user(gw, 'a@example.com');
    const g = await call(gw, 'POST', '/api/contact-groups', { token: a.token, body: { name: 'VIP Clients', description: 'High-value customers' } });
    assert.equal(g.status, 201, g.text);
    assert.equal(g.json.message, 'Groupe créé');
    const gid = g.json.data.id;
    assert.deepEqual({ ...g.json.data, created_at: null }, { id: gid, name: 'VIP Clients', description: 'High-value customers', contacts_count: 0, created_at: null });
    for (const name of ['VIP Clients', '  VIP Clients ']) {
      const dup = await call(gw, 'POST', '/api/contact-groups', { token: a.token, body: { name } });
      assert.equal(dup.status, 422, name);
      assert.deepEqual(Object.keys(dup.json.errors), ['name']);
    }
    assert.equal((await call(gw, 'POST', '/api/contact-groups', { token: a.token, body: {} })).status, 422);

    // `group` on create: joins the existing group, or creates it.
    const c1 = await createContact(gw, a.token, { name: 'One', phone: '+24162000001', group: 'VIP Clients' });
    const c2 = await createContact(gw, a.token, { name: 'Two', phone: '+24162000002' });
    const c3 = await createContact(gw, a.token, { name: 'Three', phone: '+24177000003', group: 'Nouveaux' });
    assert.deepEqual([c1.group, c2.group, c3.group], ['VIP Clients', null, 'Nouveaux']);
    let groups = await call(gw, 'GET', '/api/contact-groups', { token: a.token });
    assert.deepEqual(groups.json.data.map((x: any) => [x.id === gid, x.name, x.contacts_count]), [[true, 'VIP Clients', 1], [false, 'Nouveaux', 1]]);

    const add = await call(gw, 'POST', `/api/contact-groups/${gid}/contacts/add`, { token: a.token, body: { contact_ids: [c2.id, c3.id, c2.id] } });
    assert.equal(add.status, 200, add.text);
    assert.deepEqual(add.json, { message: 'Contacts ajoutés au groupe', data: { group_id: gid, changed: 2 } });
    const again = await call(gw, 'POST', `/api/contact-groups/${gid}/contacts/add`, { token: a.token, body: { contact_ids: [c1.id, c2.id] } });
    assert.equal(again.json.data.changed, 0);
    const members = await call(gw, 'GET', `/api/contact-groups/${gid}/contacts`, { token: a.token });
    assert.equal(members.status, 200);
    assert.deepEqual(ids(members), [c1.id, c2.id, c3.id]);
    assert.equal(members.json.total, 3);
    const membersPage = await call(gw, 'GET', `/api/contact-groups/${gid}/contacts?per_page=2&page=2`, { token: a.token });
    assert.deepEqual({ data: ids(membersPage), total: membersPage.json.total, last_page: membersPage.json.last_page }, { data: [c3.id], total: 3, last_page: 2 });
    assert.deepEqual((await call(gw, 'GET', `/api/contacts/${c3.id}`, { token: a.token })).json.data.groups, ['Nouveaux', 'VIP Clients']);
    groups = await call(gw, 'GET', '/api/contact-groups', { token: a.token });
    assert.deepEqual(groups.json.data.map((x: any) => [x.name, x.contacts_count]), [['VIP Clients', 3], ['Nouveaux', 1]]);

    const rm = await call(gw, 'POST', `/api/contact-groups/${gid}/contacts/remove`, { token: a.token, body: { contact_ids: [c2.id] } });
    assert.deepEqual(rm.json, { message: 'Contacts retirés du groupe', data: { group_id: gid, changed: 1 } });
    assert.deepEqual(ids(await call(gw, 'GET', `/api/contact-groups/${gid}/contacts`, { token: a.token })), [c1.id, c3.id]);
    assert.deepEqual(ids(await call(gw, 'GET', '/api/contacts?group=VIP%20Clients', { token: a.token })), [c1.id, c3.id]);
    assert.deepEqual((await call(gw, 'GET', `/api/contacts/${c2.id}`, { token: a.token })).json.data.groups, []);

    // A missing contact id refuses the whole change; missing group 404; empty list 422.
    const unknown = await call(gw, 'POST', `/api/contact-groups/${gid}/contacts/add`, { token: a.token, body: { contact_ids: [c2.id, 999_999] } });
    assert.equal(unknown.status, 404);
    assert.deepEqual(ids(await call(gw, 'GET', `/api/contact-groups/${gid}/contacts`, { token: a.token })), [c1.id, c3.id]);
    assert.equal((await call(gw, 'POST', '/api/contact-groups/999999/contacts/add', { token: a.token, body: { contact_ids: [c1.id] } })).status, 404);
    assert.equal((await call(gw, 'GET', '/api/contact-groups/999999/contacts', { token: a.token })).status, 404);
    assert.equal((await call(gw, 'POST', `/api/contact-groups/${gid}/contacts/add`, { token: a.token, body: { contact_ids: [] } })).status, 422);

    // Deleting a contact leaves its groups; deleting a group leaves its contacts.
    assert.equal((await call(gw, 'DELETE', `/api/contacts/${c1.id}`, { token: a.token })).status, 200);
    groups = await call(gw, 'GET', '/api/contact-groups', { token: a.token });
    assert.deepEqual(groups.json.data.map((x: any) => [x.name, x.contacts_count]), [['VIP Clients', 1], ['Nouveaux', 1]]);
    const b = await user(gw, 'b@example.com');
    assert.equal((await call(gw, 'DELETE', `/api/contact-groups/${gid}`, { token: b.token })).status, 404);
    const gdel = await call(gw, 'DELETE', `/api/contact-groups/${gid}`, { token: a.token });
    assert.equal(gdel.status, 200);
    assert.deepEqual(gdel.json, { message: 'Groupe supprimé' });
    assert.deepEqual((await call(gw, 'GET', '/api/contact-groups', { token: a.token })).json.data.map((x: any) => x.name), ['Nouveaux']);
    assert.deepEqual(ids(await call(gw, 'GET', '/api/contacts', { token: a.token })), [c2.id, c3.id]);
    assert.deepEqual((await call(gw, 'GET', `/api/contacts/${c3.id}`, { token: a.token })).json.data.groups, ['Nouveaux']);
    assert.equal((await call(gw, 'DELETE', `/api/contact-groups/${gid}`, { token: a.token })).status, 404);
  });
});

// ---------------------------------------------------------------- templates

const SEED_TEMPLATE = { name: 'Welcome Message', content: 'Bonjour {nom}, bienvenue chez nous! Votre email: {email}', category: 'notifications', is_public: false };

test('templates: create with category, filters, the seed\'s 7 categories, preview with sample_data, use count, update, delete; another account 404', async () => {
  await withGateway({}, async ({ gw }) => {
    const a = await user(gw, 'a@example.com');
    const b = await user(gw, 'b@example.com');
    const created = await call(gw, 'POST', '/api/templates', { token: a.token, body: SEED_TEMPLATE });
    assert.equal(created.status, 201, created.text);
    assert.equal(created.json.message, 'Modèle créé');
    const t = created.json.data;
    assert.deepEqual({ ...t, created_at: null, updated_at: null }, { id: t.id, ...SEED_TEMPLATE, usage_count: 0, created_at: null, updated_at: null });
    const promo = (await call(gw, 'POST', '/api/templates', { token: a.token, body: { name: 'Promo', content: '-50% ce week-end!', category: 'marketing', is_public: true } })).json.data;
    const other = await call(gw, 'POST', '/api/templates', { token: a.token, body: { name: 'Rappel', content: 'RDV demain {prenom}' } });
    assert.equal(other.status, 201);
    assert.deepEqual([other.json.data.category, other.json.data.is_public], ['other', false]);
    const bad = await call(gw, 'POST', '/api/templates', { token: a.token, body: { name: 'X', content: 'x', category: 'spam' } });
    assert.equal(bad.status, 422);
    assert.deepEqual(Object.keys(bad.json.errors), ['category']);
    assert.deepEqual(Object.keys((await call(gw, 'POST', '/api/templates', { token: a.token, body: { name: 'X' } })).json.errors), ['content']);

    const list = async (qs: string) => {
      const r = await call(gw, 'GET', `/api/templates${qs}`, { token: a.token });
      assert.equal(r.status, 200, qs);
      return ids(r);
    };
    assert.deepEqual(await list(''), [t.id, promo.id, other.json.data.id]);
    assert.deepEqual(await list('?category=marketing'), [promo.id]);
    assert.deepEqual(await list('?is_public=true'), [promo.id]);
    assert.deepEqual(await list('?is_public=false'), [t.id, other.json.data.id]);
    assert.deepEqual(await list('?category=notifications&is_public=false'), [t.id]);
    assert.deepEqual(await list('?category=marketing&is_public=false'), []);
    assert.equal((await call(gw, 'GET', '/api/templates?category=spam', { token: a.token })).status, 422);

    const cats = await call(gw, 'GET', '/api/templates/categories', { token: a.token });
    assert.equal(cats.status, 200);
    assert.deepEqual(cats.json.data, ['marketing', 'notifications', 'alerts', 'reminders', 'confirmations', 'promotions', 'other']);

    const preview = await call(gw, 'POST', `/api/templates/${t.id}/preview`, { token: a.token, body: { sample_data: { '{nom}': 'Jean Dupont', '{email}': 'jean@example.com' } } });
    assert.equal(preview.status, 200, preview.text);
    assert.equal(preview.json.data.preview, 'Bonjour Jean Dupont, bienvenue chez nous! Votre email: jean@example.com');
    assert.equal(preview.json.data.original, SEED_TEMPLATE.content);
    assert.deepEqual(preview.json.data.variables, ['{nom}', '{email}']);
    assert.deepEqual(preview.json.data.missing_variables, []);
    assert.equal(preview.json.data.sms_count, 1);
    const partial = await call(gw, 'POST', `/api/templates/${t.id}/preview`, { token: a.token, body: { sample_data: { nom: 'Jean' } } });
    assert.equal(partial.json.data.preview, 'Bonjour Jean, bienvenue chez nous! Votre email: {email}');
    assert.deepEqual(partial.json.data.missing_variables, ['{email}']);
    const empty = await call(gw, 'POST', `/api/templates/${t.id}/preview`, { token: a.token, body: {} });
    assert.deepEqual(empty.json.data.missing_variables, ['{nom}', '{email}']);
    assert.equal(empty.json.data.preview, SEED_TEMPLATE.content);
    // A long filled preview counts its parts.
    const long = (await call(gw, 'POST', `/api/templates/${t.id}/preview`, { token: a.token, body: { sample_data: { '{nom}': 'N'.repeat(150), '{email}': 'jean@example.com' } } })).json.data;
    assert.equal(long.sms_count, 2);

    for (let i = 0; i < 2; i++) {
      const used = await call(gw, 'POST', `/api/templates/${t.id}/use`, { token: a.token });
      assert.equal(used.status, 200);
      assert.equal(used.json.data.usage_count, i + 1);
    }
    assert.equal((await call(gw, 'GET', `/api/templates/${t.id}`, { token: a.token })).json.data.usage_count, 2);

    const upd = await call(gw, 'PUT', `/api/templates/${t.id}`, { token: a.token, body: { content: 'Salut {prenom}!', category: 'reminders' } });
    assert.equal(upd.status, 200, upd.text);
    assert.equal(upd.json.message, 'Modèle mis à jour');
    assert.deepEqual([upd.json.data.name, upd.json.data.content, upd.json.data.category, upd.json.data.usage_count], ['Welcome Message', 'Salut {prenom}!', 'reminders', 2]);
    assert.equal((await call(gw, 'PUT', `/api/templates/${t.id}`, { token: a.token, body: { category: 'spam' } })).status, 422);
    assert.deepEqual(await list('?category=reminders'), [t.id]);

    // Another account: 404 everywhere, empty list.
    for (const [method, path, body] of [
      ['GET', `/api/templates/${t.id}`], ['PUT', `/api/templates/${t.id}`, { name: 'x' }], ['DELETE', `/api/templates/${t.id}`],
      ['POST', `/api/templates/${t.id}/preview`, { sample_data: {} }], ['POST', `/api/templates/${t.id}/use`],
    ] as [string, string, unknown?][]) {
      const r = await call(gw, method, path, { token: b.token, body });
      assert.equal(r.status, 404, `${method} ${path}`);
    }
    assert.deepEqual((await call(gw, 'GET', '/api/templates', { token: b.token })).json.data, []);
    assert.equal((await call(gw, 'GET', `/api/templates/${t.id}`, { token: a.token })).json.data.usage_count, 2);

    const del = await call(gw, 'DELETE', `/api/templates/${t.id}`, { token: a.token });
    assert.equal(del.status, 200);
    assert.deepEqual(del.json, { message: 'Modèle supprimé' });
    assert.equal((await call(gw, 'GET', `/api/templates/${t.id}`, { token: a.token })).status, 404);
    assert.equal((await call(gw, 'POST', `/api/templates/${t.id}/use`, { token: a.token })).status, 404);
    assert.deepEqual(await list(''), [promo.id, other.json.data.id]);
  });
});

// ---------------------------------------------------------------- personalization

test('personalization on send: each recipient gets its own filled text; unfillable variables stay and are reported per recipient', async () => {
  await withGateway({}, async ({ gw, airtel, moov }) => {
    const a = await user(gw, 'a@example.com', 1000);
    await createContact(gw, a.token, { name: 'Jean Dupont', email: 'jean@example.com', phone: '+24162000001', custom_fields: { company: 'ACME' } });
    await createContact(gw, a.token, { name: 'Marie', phone: '077000002' });
    const text = 'Bonjour {nom} ({prenom}), {custom.company} {email} {telephone} {inconnu}';
    const r = await call(gw, 'POST', '/api/messages/send', { token: a.token, body: { recipients: ['062000001', '+24177000002', '+24162000003'], message: text } });
    assert.equal(r.status, 200, r.text);
    const d = r.json.data;
    assert.deepEqual([d.total, d.sent, d.failed, d.sms_count, d.total_cost], [3, 3, 0, 1, 60]);
    assert.deepEqual(d.warnings, [
      { recipient: '+24162000001', unfilled: ['{inconnu}'] },
      { recipient: '+24177000002', unfilled: ['{custom.company}', '{email}', '{inconnu}'] },
      { recipient: '+24162000003', unfilled: ['{nom}', '{prenom}', '{custom.company}', '{email}', '{telephone}', '{inconnu}'] },
    ]);
    const expected = new Map([
      ['24162000001', 'Bonjour Jean Dupont (Jean), ACME jean@example.com +24162000001 {inconnu}'],
      ['24177000002', 'Bonjour Marie (Marie), {custom.company} {email} +24177000002 {inconnu}'],
      ['24162000003', text],
    ]);
    await gw.waitFinal(d.message_ids);
    const received = [...airtel.received, ...moov.received].map((m) => [m.destination, m.text]).sort();
    assert.deepEqual(received, [...expected.entries()].sort());
    assert.deepEqual(moov.received.map((m) => m.destination), ['24177000002']);
    // The stored message is the filled text.
    const [m1] = d.message_ids as number[];
    const one = await call(gw, 'GET', `/api/messages/${m1}`, { token: a.token });
    assert.equal(one.json.data.message, expected.get('24162000001'));
    // A text without variables has no warnings.
    const plain = await call(gw, 'POST', '/api/messages/send', { token: a.token, body: { recipients: ['+24162000001'], message: 'Pas de variable' } });
    assert.deepEqual(plain.json.data.warnings, []);
  });
});

test('personalization: a text that needs 2 parts only once filled is sent and charged as 2 parts for that recipient', async () => {
  await withGateway({}, async ({ gw, airtel, moov }) => {
    const a = await user(gw, 'a@example.com', 1000);
    const name = 'Jean-Baptiste Mouloungui Ndong';
    assert.equal(name.length, 30);
    await createContact(gw, a.token, { name, phone: '+24162000011' });
    // 150 characters (152 GSM septets: the braces are extension characters), one part as written.
    const text = ('Bonjour {nom}, ' + 'votre commande numero 4521 est prete au retrait dans notre agence de Libreville. Merci de votre confiance et a bientot chez nous, toute l equipe vous salue. ').slice(0, 150);
    assert.equal(text.length, 150);
    const filled = text.replace('{nom}', name);
    assert.equal(filled.length, 175);
    const r = await call(gw, 'POST', '/api/messages/send', { token: a.token, body: { recipients: ['+24162000011', '+24177000012'], message: text } });
    assert.equal(r.status, 200, r.text);
    const d = r.json.data;
    assert.deepEqual([d.sent, d.failed, d.sms_count, d.total_cost, d.balance], [2, 0, 2, 60, 940]);
    assert.deepEqual(d.warnings, [{ recipient: '+24177000012', unfilled: ['{nom}'] }]);
    const [long, short] = d.message_ids as number[];
    await gw.waitFinal(d.message_ids);
    const ml = (await call(gw, 'GET', `/api/messages/${long}`, { token: a.token })).json.data;
    const ms = (await call(gw, 'GET', `/api/messages/${short}`, { token: a.token })).json.data;
    assert.deepEqual([ml.recipient, ml.sms_count, ml.cost, ml.message, ml.parts.length], ['+24162000011', 2, 40, filled, 2]);
    assert.deepEqual([ms.recipient, ms.sms_count, ms.cost, ms.message], ['+24177000012', 1, 20, text]);
    const submits = airtel.received.filter((m) => m.destination === '24162000011');
    assert.equal(submits.length, 2);
    assert.deepEqual(submits.map((m) => m.concat?.total), [2, 2]);
    assert.equal([...submits].sort((x, y) => x.concat!.sequence - y.concat!.sequence).map((m) => m.text).join(''), filled);
    assert.deepEqual(moov.received.map((m) => [m.destination, m.text]), [['24177000012', text]]);
    assert.equal(await gw.credits.balanceOf(a.id), 940);
  });
});

// ---------------------------------------------------------------- blacklist

test('blacklist: add (national form normalized), duplicate 422, list, check, a send skips it, delete; another account unaffected', async () => {
  await withGateway({}, async ({ gw, airtel }) => {
    const a = await user(gw, 'a@example.com', 1000);
    const b = await user(gw, 'b@example.com', 1000);
    const added = await call(gw, 'POST', '/api/blacklist', { token: a.token, body: { phone_number: '062000020', reason: 'Requested opt-out' } });
    assert.equal(added.status, 201, added.text);
    assert.equal(added.json.message, 'Numéro ajouté à la liste noire');
    const entry = added.json.data;
    assert.deepEqual({ ...entry, created_at: null }, { id: entry.id, phone_number: '+24162000020', reason: 'Requested opt-out', source: 'api', created_at: null });
    for (const phone_number of ['+24162000020', '241 62 00 00 20']) {
      const dup = await call(gw, 'POST', '/api/blacklist', { token: a.token, body: { phone_number } });
      assert.equal(dup.status, 422, phone_number);
      assert.deepEqual(Object.keys(dup.json.errors), ['phone_number']);
    }
    const invalid = await call(gw, 'POST', '/api/blacklist', { token: a.token, body: { phone_number: 'abc' } });
    assert.equal(invalid.status, 422);
    assert.deepEqual(Object.keys(invalid.json.errors), ['phone_number']);

    const list = await call(gw, 'GET', '/api/blacklist', { token: a.token });
    assert.equal(list.status, 200);
    assert.deepEqual({ data: list.json.data, total: list.json.total, current_page: list.json.current_page }, { data: [entry], total: 1, current_page: 1 });
    const check = await call(gw, 'POST', '/api/blacklist/check', { token: a.token, body: { phone_number: '+24162000020' } });
    assert.equal(check.status, 200);
    assert.deepEqual(check.json, { phone_number: '+24162000020', is_blacklisted: true, scope: 'account' });
    assert.deepEqual((await call(gw, 'POST', '/api/blacklist/check', { token: a.token, body: { phone_number: '062000021' } })).json, { phone_number: '+24162000021', is_blacklisted: false, scope: null });

    const sent = await call(gw, 'POST', '/api/messages/send', { token: a.token, body: { recipients: ['062000020', '+24162000021'], message: 'promo' } });
    assert.equal(sent.status, 200, sent.text);
    assert.deepEqual([sent.json.data.total, sent.json.data.sent, sent.json.data.failed, sent.json.data.total_cost], [2, 1, 1, 20]);
    assert.deepEqual(sent.json.data.failures.map((f: any) => [f.recipient, f.error]), [['062000020', 'blacklisted']]);
    await gw.waitFinal(sent.json.data.message_ids);
    // B's own list is separate: B can check and send to the number.
    assert.deepEqual((await call(gw, 'POST', '/api/blacklist/check', { token: b.token, body: { phone_number: '+24162000020' } })).json.is_blacklisted, false);
    assert.deepEqual((await call(gw, 'GET', '/api/blacklist', { token: b.token })).json.data, []);
    const bSent = await call(gw, 'POST', '/api/messages/send', { token: b.token, body: { recipients: ['+24162000020'], message: 'from B' } });
    assert.equal(bSent.json.data.sent, 1);
    await gw.waitFinal(bSent.json.data.message_ids);
    assert.deepEqual(airtel.received.map((m) => [m.destination, m.text]), [['24162000021', 'promo'], ['24162000020', 'from B']]);
    assert.equal((await call(gw, 'DELETE', `/api/blacklist/${entry.id}`, { token: b.token })).status, 404);

    const del = await call(gw, 'DELETE', `/api/blacklist/${entry.id}`, { token: a.token });
    assert.equal(del.status, 200);
    assert.deepEqual(del.json, { message: 'Numéro retiré de la liste noire' });
    assert.deepEqual((await call(gw, 'POST', '/api/blacklist/check', { token: a.token, body: { phone_number: '+24162000020' } })).json, { phone_number: '+24162000020', is_blacklisted: false, scope: null });
    assert.equal((await call(gw, 'DELETE', `/api/blacklist/${entry.id}`, { token: a.token })).status, 404);
    const after = await call(gw, 'POST', '/api/messages/send', { token: a.token, body: { recipients: ['+24162000020'], message: 'welcome back' } });
    assert.equal(after.json.data.sent, 1);
  });
});

test('global blacklist: admin only (403 for a user), blocks every account, listed apart from accounts\' own lists', async () => {
  await withGateway({}, async ({ gw, airtel, moov }) => {
    const a = await user(gw, 'a@example.com', 1000);
    const b = await user(gw, 'b@example.com', 1000);
    const admin = await adminToken(gw);
    for (const [method, path, body] of [['GET', '/api/admin/blacklist'], ['POST', '/api/admin/blacklist', { phone_number: '+24177000030' }], ['DELETE', '/api/admin/blacklist/1']] as [string, string, unknown?][]) {
      const r = await call(gw, method, path, { token: a.token, body });
      assert.equal(r.status, 403, `${method} ${path}`);
    }
    assert.equal((await call(gw, 'GET', '/api/admin/blacklist', { token: admin })).json.total, 0);

    const g = await call(gw, 'POST', '/api/admin/blacklist', { token: admin, body: { phone_number: '077000030', reason: 'fraud' } });
    assert.equal(g.status, 201, g.text);
    assert.deepEqual([g.json.data.phone_number, g.json.data.reason, g.json.data.source], ['+24177000030', 'fraud', 'admin']);
    assert.equal((await call(gw, 'POST', '/api/admin/blacklist', { token: admin, body: { phone_number: '+24177000030' } })).status, 422);
    const gList = await call(gw, 'GET', '/api/admin/blacklist', { token: admin });
    assert.deepEqual(gList.json.data.map((x: any) => x.phone_number), ['+24177000030']);

    for (const u of [a, b]) {
      assert.deepEqual((await call(gw, 'POST', '/api/blacklist/check', { token: u.token, body: { phone_number: '+24177000030' } })).json, { phone_number: '+24177000030', is_blacklisted: true, scope: 'global' });
      assert.deepEqual((await call(gw, 'GET', '/api/blacklist', { token: u.token })).json.data, [], 'the global list is not the account\'s own');
      const r = await call(gw, 'POST', '/api/messages/send', { token: u.token, body: { recipients: ['+24177000030', '+24162000031'], message: 'hi' } });
      assert.deepEqual([r.json.data.sent, r.json.data.failed], [1, 1]);
      assert.deepEqual(r.json.data.failures.map((f: any) => f.error), ['blacklisted']);
      await gw.waitFinal(r.json.data.message_ids);
    }
    assert.equal(moov.received.length, 0, 'the globally blacklisted number never reaches the SMSC');
    assert.deepEqual(airtel.received.map((m) => m.destination), ['24162000031', '24162000031']);
    // An account cannot remove a global entry through its own list.
    assert.equal((await call(gw, 'DELETE', `/api/blacklist/${g.json.data.id}`, { token: a.token })).status, 404);

    assert.equal((await call(gw, 'DELETE', `/api/admin/blacklist/${g.json.data.id}`, { token: admin })).status, 200);
    assert.equal((await call(gw, 'POST', '/api/blacklist/check', { token: a.token, body: { phone_number: '+24177000030' } })).json.is_blacklisted, false);
  });
});

test('an MO "STOP" from the SMSC lands in the global blacklist with source mo, and blocks sends to that number', async () => {
  await withGateway({}, async ({ gw, airtel }) => {
    const a = await user(gw, 'a@example.com', 1000);
    const admin = await adminToken(gw);
    await waitFor(() => gw.binds.every((x) => x.state === 'bound'), 10_000, 'binds bound');
    await airtel.injectMo({ from: '24162000005', to: '1234', text: 'STOP' });
    let listed: any[] = [];
    await waitFor(async () => {
      listed = (await call(gw, 'GET', '/api/admin/blacklist', { token: admin })).json.data;
      return listed.length > 0;
    }, 10_000, 'the MO opt-out listed');
    assert.deepEqual(listed.map((x) => [x.phone_number, x.source]), [['+24162000005', 'mo']]);
    assert.match(listed[0].reason, /STOP/);
    assert.deepEqual((await call(gw, 'POST', '/api/blacklist/check', { token: a.token, body: { phone_number: '062000005' } })).json, { phone_number: '+24162000005', is_blacklisted: true, scope: 'global' });
    const r = await call(gw, 'POST', '/api/messages/send', { token: a.token, body: { recipients: ['+24162000005'], message: 'promo' } });
    assert.deepEqual([r.json.data.sent, r.json.data.failed, r.json.data.failures[0].error], [0, 1, 'blacklisted']);
  });
});

// ---------------------------------------------------------------- webhooks and audit

test('webhook events: contact.created, contact.updated, contact.deleted and blacklist.added are delivered in order with their data', async () => {
  await withGateway({ webhooks: { allow_private_networks: true, retry_initial: 0.1 } }, async ({ gw }) => {
    const hook = await receiver();
    try {
      const a = await user(gw, 'a@example.com');
      const wh = await call(gw, 'POST', '/api/webhooks', { token: a.token, body: { name: 'crm', url: hook.url, events: ['contact.created', 'contact.updated', 'contact.deleted', 'blacklist.added'] } });
      assert.equal(wh.status, 201, wh.text);
      // Each step waits for its event, so the order seen is the order of the changes.
      const step = async (n: number, what: string, action: () => Promise<unknown>) => {
        await action();
        await waitFor(() => hook.hits.length >= n, 10_000, what);
      };
      let contact: any;
      await step(1, 'contact.created', async () => { contact = await createContact(gw, a.token, { name: 'Alice Smith', email: 'alice@example.com', phone: '062000001' }); });
      await step(2, 'contact.updated', () => call(gw, 'PUT', `/api/contacts/${contact.id}`, { token: a.token, body: { name: 'Alice Johnson', status: 'inactive' } }));
      await step(3, 'contact.deleted', () => call(gw, 'DELETE', `/api/contacts/${contact.id}`, { token: a.token }));
      await step(4, 'blacklist.added', () => call(gw, 'POST', '/api/blacklist', { token: a.token, body: { phone_number: '062000001', reason: 'Requested opt-out' } }));
      await new Promise((r) => setTimeout(r, 300));
      assert.deepEqual(hook.hits.map((h) => h.body.event), ['contact.created', 'contact.updated', 'contact.deleted', 'blacklist.added']);
      assert.deepEqual(hook.hits.map((h) => h.headers['x-webhook-event']), ['contact.created', 'contact.updated', 'contact.deleted', 'blacklist.added']);
      const [created, updated, deleted, blacklisted] = hook.hits.map((h) => h.body.data);
      assert.deepEqual(created, { id: contact.id, uuid: contact.uuid, name: 'Alice Smith', email: 'alice@example.com', phone: '+24162000001', status: 'active' });
      assert.deepEqual(updated, { id: contact.id, uuid: contact.uuid, name: 'Alice Johnson', email: 'alice@example.com', phone: '+24162000001', status: 'inactive' });
      assert.deepEqual(deleted, { id: contact.id, uuid: contact.uuid, name: 'Alice Johnson', phone: '+24162000001' });
      assert.deepEqual(blacklisted, { phone_number: '+24162000001', reason: 'Requested opt-out', scope: 'account' });
      for (const h of hook.hits) assert.match(h.body.timestamp, /^\d{4}-\d{2}-\d{2}T/);
      // A refused change sends nothing.
      await call(gw, 'POST', '/api/blacklist', { token: a.token, body: { phone_number: '+24162000001' } });
      await call(gw, 'POST', '/api/contacts', { token: a.token, body: { name: 'Bad', phone: '12345' } });
      await new Promise((r) => setTimeout(r, 400));
      assert.equal(hook.hits.length, 4);
    } finally {
      await hook.close();
    }
  });
});

test('audit log: contact, group, template and blacklist mutations are recorded with their actions and models', async () => {
  await withGateway({}, async ({ gw }) => {
    const a = await user(gw, 'a@example.com');
    const c = await createContact(gw, a.token, { name: 'Alice', email: 'alice@example.com', phone: '+24162000001' });
    await call(gw, 'PUT', `/api/contacts/${c.id}`, { token: a.token, body: { name: 'Alice J' } });
    const g = (await call(gw, 'POST', '/api/contact-groups', { token: a.token, body: { name: 'VIP' } })).json.data;
    await call(gw, 'POST', `/api/contact-groups/${g.id}/contacts/add`, { token: a.token, body: { contact_ids: [c.id] } });
    await call(gw, 'POST', `/api/contact-groups/${g.id}/contacts/remove`, { token: a.token, body: { contact_ids: [c.id] } });
    await call(gw, 'DELETE', `/api/contact-groups/${g.id}`, { token: a.token });
    await importCsv(gw, a.token, 'name,phone\nBob,+24162000002\n');
    await call(gw, 'DELETE', `/api/contacts/${c.id}`, { token: a.token });
    const t = (await call(gw, 'POST', '/api/templates', { token: a.token, body: SEED_TEMPLATE })).json.data;
    await call(gw, 'PUT', `/api/templates/${t.id}`, { token: a.token, body: { name: 'Bienvenue' } });
    await call(gw, 'DELETE', `/api/templates/${t.id}`, { token: a.token });
    const bl = (await call(gw, 'POST', '/api/blacklist', { token: a.token, body: { phone_number: '+24162000009' } })).json.data;
    await call(gw, 'DELETE', `/api/blacklist/${bl.id}`, { token: a.token });
    // Refused changes are not audited.
    await call(gw, 'POST', '/api/contacts', { token: a.token, body: { name: 'Bad', phone: '12345' } });
    await call(gw, 'DELETE', '/api/contacts/999999', { token: a.token });

    const logs = await call(gw, 'GET', '/api/audit-logs?per_page=100', { token: a.token });
    assert.equal(logs.status, 200);
    const entries = [...logs.json.data].reverse().map((e: any) => [e.action, e.model_type, e.model_id]);
    assert.deepEqual(entries, [
      ['contact.created', 'App\\Models\\Contact', c.id],
      ['contact.updated', 'App\\Models\\Contact', c.id],
      ['contact_group.created', 'App\\Models\\ContactGroup', g.id],
      ['contact_group.contacts_added', 'App\\Models\\ContactGroup', g.id],
      ['contact_group.contacts_removed', 'App\\Models\\ContactGroup', g.id],
      ['contact_group.deleted', 'App\\Models\\ContactGroup', g.id],
      ['contact.imported', 'App\\Models\\Contact', null],
      ['contact.deleted', 'App\\Models\\Contact', c.id],
      ['template.created', 'App\\Models\\Template', t.id],
      ['template.updated', 'App\\Models\\Template', t.id],
      ['template.deleted', 'App\\Models\\Template', t.id],
      ['blacklist.added', 'App\\Models\\Blacklist', bl.id],
      ['blacklist.removed', 'App\\Models\\Blacklist', bl.id],
    ]);
    const byAction = (action: string) => logs.json.data.find((e: any) => e.action === action);
    assert.equal(byAction('contact.created').new_values.phone, '+24162000001');
    assert.equal(byAction('contact.updated').old_values.name, 'Alice');
    assert.equal(byAction('contact.updated').new_values.name, 'Alice J');
    assert.deepEqual(byAction('contact.imported').new_values, { created: 1, updated: 0, failed: 0 });
    assert.deepEqual(byAction('contact_group.contacts_added').new_values, { contact_ids: [c.id] });
    assert.equal(byAction('blacklist.added').new_values.phone_number, '+24162000009');
    const filtered = await call(gw, 'GET', '/api/audit-logs?action=contact.created', { token: a.token });
    assert.deepEqual(filtered.json.data.map((e: any) => e.model_id), [c.id]);
    const byModel = await call(gw, 'GET', `/api/audit-logs?model_type=Template&model_id=${t.id}`, { token: a.token });
    assert.deepEqual(byModel.json.data.map((e: any) => e.action), ['template.deleted', 'template.updated', 'template.created']);
    const actions = (await call(gw, 'GET', '/api/audit-logs/actions', { token: a.token })).json.data as string[];
    for (const x of ['contact.created', 'contact_group.created', 'template.created', 'blacklist.added']) assert.ok(actions.includes(x), x);
    // Another account sees none of it.
    const b = await user(gw, 'b@example.com');
    assert.equal((await call(gw, 'GET', '/api/audit-logs', { token: b.token })).json.total, 0);
  });
});

test('PUT /templates/{id} changes only what it names', async () => {
  await withGateway({}, async ({ gw }) => {
    const { token } = await user(gw, 'tpl@example.com');
    const created = await call(gw, 'POST', '/api/templates', { token, body: { ...SEED_TEMPLATE, category: 'alerts', is_public: true } });
    const updated = await call(gw, 'PUT', `/api/templates/${created.json.data.id}`, { token, body: { name: 'Renamed' } });
    assert.equal(updated.status, 200);
    assert.deepEqual([updated.json.data.name, updated.json.data.category, updated.json.data.is_public, updated.json.data.content], ['Renamed', 'alerts', true, SEED_TEMPLATE.content]);
  });
});

test('CSV import: an empty file and a broken one (unclosed quote) are 422, rows before the damage kept', async () => {
  await withGateway({}, async ({ gw }) => {
    const { token } = await user(gw, 'broken@example.com');
    const empty = await importCsv(gw, token, '');
    assert.equal(empty.status, 422);
    assert.ok(empty.json.errors.file);
    const broken = await importCsv(gw, token, 'name,phone\nA,+24162000001\nB,"+24162000002\n');
    assert.equal(broken.status, 422);
    assert.match(broken.json.errors.file[0], /malformed near line 3\b/);
    assert.deepEqual([...(await contactsByPhone(gw, token)).keys()], ['+24162000001']);
  });
});

// ---------------------------------------------------------------- broken CSV files and uploads

/**
 * One account on a gateway logging at debug into a buffer; after `fn`, the log must be clean:
 * none of `markers` (the file's cells), nothing logged as an error, no 500 answered.
 */
async function withLoggedImports(email: string, markers: string[], fn: (gw: Gateway, token: string) => Promise<void>): Promise<void> {
  const to = new PassThrough();
  let log = '';
  to.on('data', (d) => (log += String(d)));
  await withGateway({ log: { level: 'debug' } }, async ({ gw }) => fn(gw, (await user(gw, email)).token), to);
  assertLogClean(log, markers);
}

/** A 422 on `file` in SendWave's shape, `{message, errors:{file:[sentence]}}`: the sentence. */
function fileError(r: { status: number; json: any; text: string }): string {
  assert.equal(r.status, 422, r.text);
  assert.deepEqual(Object.keys(r.json).sort(), ['errors', 'message'], r.text);
  assert.deepEqual(Object.keys(r.json.errors), ['file'], r.text);
  assert.equal(r.json.errors.file.length, 1, r.text);
  assert.equal(r.json.message, r.json.errors.file[0]);
  return r.json.errors.file[0] as string;
}

/** No marker of the file's content in the log, no error logged, no 500 answered; the import requests were logged. */
function assertLogClean(log: string, markers: string[]): void {
  for (const m of markers) assert.ok(!log.includes(m), `the log holds ${JSON.stringify(m)}`);
  const lines = log.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { level: number; msg: string; path?: string; status?: number });
  assert.deepEqual(lines.filter((l) => l.level >= 50).map((l) => l.msg), [], 'nothing logged as an error');
  const imports = lines.filter((l) => l.msg === 'http' && l.path === '/api/contacts/import');
  assert.ok(imports.length > 0, 'the import requests were logged');
  assert.deepEqual(imports.filter((l) => l.status! >= 500), []);
}

/** POST /api/contacts/import with a hand-written body and Content-Type (multipart the client would not send). */
async function importRaw(gw: Gateway, token: string, contentType: string, body: string): Promise<{ status: number; json: any; text: string }> {
  const res = await fetch(`${gw.url}/api/contacts/import`, { method: 'POST', headers: { authorization: `Bearer ${token}`, accept: 'application/json', 'content-type': contentType }, body });
  const text = await res.text();
  return { status: res.status, json: JSON.parse(text), text };
}

const BOUNDARY = 'relais-test-boundary';
/** The start of a multipart body: its one part, the file, begins with `csv` (no closing boundary). */
const filePartStart = (csv: string) => `--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="contacts.csv"\r\nContent-Type: text/csv\r\n\r\n${csv}`;

/** Phones of the caller's contacts, sorted. */
const phonesOf = async (gw: Gateway, token: string) => [...(await contactsByPhone(gw, token)).keys()].sort();

test('CSV import: a stray quote inside a cell (ab"c) is 422 naming its line; the rows before it are imported, none after; no cell in the log', async () => {
  await withLoggedImports('stray@example.com', ['Zorglub', 'ab"c', 'ab\\"c'], async (gw, token) => {
    const r = await importCsv(gw, token, 'name,phone,company\nAlice Zorglub,+24162000001,Zorglub SA\nBruno Zorglub,+24162000002,\nab"c Zorglub,+24162000003,Zorglub SARL\nDavid Zorglub,+24162000004,\n');
    assert.equal(fileError(r), 'The CSV is malformed near line 4: a quote inside a cell that does not begin with one (quote the whole cell and double the quote: "ab""c"). Rows before it were imported.');
    assert.deepEqual(await phonesOf(gw, token), ['+24162000001', '+24162000002']);
  });
});

test('CSV import: a quote in the header line is 422 at line 1, nothing imported; no cell in the log', async () => {
  await withLoggedImports('header@example.com', ['Zorglub', 'na"me', 'na\\"me'], async (gw, token) => {
    const r = await importCsv(gw, token, 'na"me,phone\nAlice Zorglub,+24162000001\n');
    assert.equal(fileError(r), 'The CSV is malformed near line 1: a quote inside a cell that does not begin with one (quote the whole cell and double the quote: "ab""c"). Rows before it were imported.');
    assert.deepEqual(await phonesOf(gw, token), []);
  });
});

/** mulberry32: the same bytes for the same seed. */
function randomBytesOf(seed: number, n: number): Uint8Array {
  let a = seed >>> 0;
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = ((t ^ (t >>> 14)) >>> 0) & 0xff;
  }
  return out;
}

test('CSV import: random bytes, alone or after a valid header, are refused with 422 on file (never a 500), nothing logged as an error', async (t) => {
  const seeds = Array.from({ length: 12 }, (_, i) => 0x5eed + i);
  t.diagnostic(`seeds ${seeds.join(',')}`);
  await withLoggedImports('random@example.com', [], async (gw, token) => {
    for (const seed of seeds) {
      const noise = randomBytesOf(seed, 4096);
      const alone = await importCsv(gw, token, noise);
      assert.match(fileError(alone), /^The CSV is malformed near line \d+: .*\. Rows before it were imported\.$|^The CSV must have a header line/, `seed ${seed}`);
      const afterHeader = await importCsv(gw, token, Buffer.concat([Buffer.from('name,phone\n'), noise]));
      if (afterHeader.status !== 200) assert.match(fileError(afterHeader), /^The CSV is malformed near line \d+: /, `seed ${seed}`);
    }
    // Still serving imports.
    assert.equal((await importCsv(gw, token, 'name,phone\nJean,+24162000001\n')).status, 200);
  });
});

test('CSV import: a truncated multipart body (no closing boundary) is 422 naming the last line read; rows before it imported, the cut row not; no cell in the log', async () => {
  await withLoggedImports('truncated@example.com', ['Zorglub'], async (gw, token) => {
    const body = filePartStart('name,phone\nAlice Zorglub,+24162000001\nBruno Zorglub,+24162000002\nCarla Zorglub,+2416200');
    const r = await importRaw(gw, token, `multipart/form-data; boundary=${BOUNDARY}`, body);
    assert.equal(fileError(r), 'The file upload was cut short after line 3: the multipart body ends before the file does. Rows up to that line were imported; send the rest again.');
    assert.deepEqual(await phonesOf(gw, token), ['+24162000001', '+24162000002']);
    // A body cut before any file part: nothing to import, the same kind of answer.
    const noPart = await importRaw(gw, token, `multipart/form-data; boundary=${BOUNDARY}`, `--${BOUNDARY}\r\nContent-Disposition: form-da`);
    assert.equal(fileError(noPart), 'The request body is not valid multipart/form-data (it ends before its closing boundary). Send the CSV as multipart/form-data in a field named "file".');
  });
});

test('CSV import: a multipart request without a boundary is 422 on file, nothing imported; nothing logged as an error', async () => {
  await withLoggedImports('noboundary@example.com', ['Zorglub'], async (gw, token) => {
    const r = await importRaw(gw, token, 'multipart/form-data', `${filePartStart('name,phone\nAlice Zorglub,+24162000001\n')}\r\n--${BOUNDARY}--\r\n`);
    assert.equal(fileError(r), 'The request body is not valid multipart/form-data (its Content-Type has no boundary). Send the CSV as multipart/form-data in a field named "file".');
    assert.deepEqual(await phonesOf(gw, token), []);
  });
});

// A client that drops the connection in the middle of its upload must not leave the import
// waiting forever: the rows that arrived are imported (as for any file cut short), the rest not.
test('CSV import: an upload whose client disconnects mid-file ends the import; rows that arrived are imported', async () => {
  await withLoggedImports('dropped@example.com', ['Zorglub'], async (gw, token) => {
    const { hostname, port } = new URL(gw.url);
    const part = filePartStart('name,phone\nAlice Zorglub,+24162000001\nBruno Zorglub,+24162000002\nCarla Zorg');
    const socket = connect(Number(port), hostname);
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    socket.write(`POST /api/contacts/import HTTP/1.1\r\nHost: ${hostname}\r\nAuthorization: Bearer ${token}\r\nContent-Type: multipart/form-data; boundary=${BOUNDARY}\r\nContent-Length: 100000\r\n\r\n${part}`);
    await new Promise((r) => setTimeout(r, 300));
    socket.destroy();
    await waitFor(async () => (await phonesOf(gw, token)).length === 2, 5000, 'the rows before the drop imported');
    assert.deepEqual(await phonesOf(gw, token), ['+24162000001', '+24162000002']);
  });
});

test('a contact marked unsubscribed is refused at send (opted_out), counted in failed, never charged or sent', async () => {
  await withGateway({}, async ({ gw, airtel }) => {
    const { token } = await user(gw, 'optout@example.com', 1000);
    await createContact(gw, token, { name: 'Gone', phone: '+24162000031', status: 'unsubscribed' });
    await createContact(gw, token, { name: 'Here', phone: '+24162000032' });
    const sent = await call(gw, 'POST', '/api/messages/send', { token, body: { recipients: ['+24162000031', '+24162000032'], message: 'promo' } });
    assert.equal(sent.status, 200);
    assert.deepEqual([sent.json.data.sent, sent.json.data.failed, sent.json.data.total_cost], [1, 1, 20]);
    assert.deepEqual(sent.json.data.failures.map((f: any) => [f.recipient, f.error]), [['+24162000031', 'opted_out']]);
    await gw.waitFinal(sent.json.data.message_ids);
    assert.deepEqual(airtel.received.map((r) => r.destination), ['24162000032']);
  });
});

test('CSV import: a file that is not UTF-8 (a Latin-1 or UTF-16 export) is 422 naming the line of the first such byte, the lines before it imported; a UTF-8 file split anywhere inside a character imports whole', async () => {
  await withLoggedImports('latin1@example.com', ['Zorglub'], async (gw, token) => {
    const latin1 = Buffer.from('name,phone\nAlice Zorglub,+24162000001\nBruno Zorglub,+24162000002\nRen\u00e9 Zorglub,+24162000003\nDavid Zorglub,+24162000004\n', 'latin1');
    const r = await importCsv(gw, token, latin1);
    assert.equal(fileError(r), 'The CSV is malformed near line 4: bytes that are not UTF-8 (save the file as "CSV UTF-8"). Rows before it were imported.');
    assert.deepEqual(await phonesOf(gw, token), ['+24162000001', '+24162000002'], 'no U+FFFD name stored, nothing after');
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('name,phone\nAlice,+24162000009\n', 'utf16le')]);
    const r16 = await importCsv(gw, token, utf16);
    assert.equal(r16.status, 422, r16.text);
    assert.match(fileError(r16), /not UTF-8/);
    // Many multi-byte names: chunk boundaries fall inside characters, and nothing is refused.
    const rows = Array.from({ length: 3000 }, (_, i) => `Zoé Zorglub Ñandú 日本 ${i},+2416201${String(i).padStart(4, '0')}`);
    const ok = await importCsv(gw, token, Buffer.from(`name,phone\n${rows.join('\n')}\n`, 'utf8'));
    assert.equal(ok.status, 200, ok.text);
    assert.equal(ok.json.data.created, 3000);
    const last = await gw.store.db.selectFrom('contacts').select('name').where('phone', '=', '+24162012999').executeTakeFirst();
    assert.equal(last?.name, 'Zoé Zorglub Ñandú 日本 2999');
    const mangled = await gw.store.db.selectFrom('contacts').select('name').where('name', 'like', '%\uFFFD%').execute();
    assert.deepEqual(mangled, [], 'no character lost at a chunk boundary');
  });
});
