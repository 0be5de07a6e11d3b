/**
 * SendWave Pro v2.1 (seed 001) replayed against a running daemon: every http example of the
 * document, in its order, with its own body and query (the CSV import with the document's CSV),
 * `{id}` filled with a fresh resource of the right kind, the documented status and answer shape
 * checked, then the documented error formats and rate-limit headers.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { call, type CallResult } from '../support/api.js';
import { SEEDS, codeBlocks, documentedEndpoints, examples, parseDocJson, readSeed, type Example } from './seeds.js';
import { Coverage, assertShape, replay, startConformance, type Conformance } from './support.js';

const doc = readSeed(SEEDS.sendwave);
const all = examples(doc, '/api');
const coverage = new Coverage(documentedEndpoints(doc, '/api'));

let c: Conformance;
let token = '';
let accountId = 0;

before(async () => {
  c = await startConformance();
});
after(async () => {
  await c.stop();
});

const api = (method: string, path: string, body?: unknown): Promise<CallResult> => call(c.gw, method, `/api${path}`, { token, body });

async function created(path: string, body: unknown): Promise<number> {
  const r = await api('POST', path, body);
  assert.ok(r.status === 201 || r.status === 200, `${path}: ${r.text}`);
  return (r.json.data?.id ?? r.json.data?.sub_account?.id ?? r.json.id) as number;
}

/** Fields a fresh fixture truthfully has no value for yet. */
const NULLABLE: Record<string, string[]> = { '/api/webhooks/{id}/stats': ['data.last_triggered_at'] };

let serial = 0;
/** A fresh resource of the kind a path's `{id}` names, so a delete never takes what a later example needs. */
async function fixture(path: string): Promise<number> {
  const n = ++serial;
  if (path.startsWith('/api/contacts/')) return created('/contacts', { name: `Fixture ${n}`, email: `fixture${n}@example.com`, phone: `+2416290${String(n).padStart(4, '0')}` });
  if (path.startsWith('/api/contact-groups/')) return created('/contact-groups', { name: `Group ${n}` });
  if (path.startsWith('/api/campaigns/')) return created('/campaigns', { name: `Campaign ${n}`, message_content: 'Hello {nom}' });
  if (path.startsWith('/api/templates/')) return created('/templates', { name: `Template ${n}`, content: 'Bonjour {nom}, votre email: {email}', category: 'other', is_public: false });
  if (path.startsWith('/api/sub-accounts/')) return created('/sub-accounts', { name: `Sub ${n}`, email: `sub${n}@relais.test`, password: 'secure123', role: 'sender' });
  if (path.startsWith('/api/webhooks/')) return created('/webhooks', { name: `Hook ${n}`, url: 'https://hooks.example.com/relais', events: ['message.sent'] });
  if (path.startsWith('/api/blacklist/')) return created('/blacklist', { phone_number: `+2417790${String(n).padStart(4, '0')}`, reason: 'fixture' });
  if (path.startsWith('/api/audit-logs/')) return (await api('GET', '/audit-logs?action=contact.created')).json.data[0].id as number;
  throw new Error(`no fixture for ${path}`);
}

/** The document's CSV, as the multipart upload its import example describes. */
async function importCsv(ex: Example): Promise<CallResult> {
  const form = new FormData();
  form.append('file', new Blob([codeBlocks(doc, 'csv')[0]!], { type: 'text/csv' }), 'contacts.csv');
  const res = await fetch(`${c.gw.url}${ex.path}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, accept: 'application/json' }, body: form });
  const text = await res.text();
  return { status: res.status, headers: res.headers, json: JSON.parse(text), text };
}

test('every http example of the document, replayed in its order, answers its documented status and shape', async () => {
  for (const ex of all) {
    coverage.hit(ex.method, ex.path);
    const auth = ex.path !== '/api/auth/register' && ex.path !== '/api/auth/login';
    if (ex.path === '/api/auth/logout') {
      // Its own token: logging out the one the rest of the replay uses would end it.
      const login = await call(c.gw, 'POST', '/api/auth/login', { body: { email: 'john@example.com', password: 'password123' } });
      await replay(c.gw, ex, { token: login.json.data.token });
      continue;
    }
    if (ex.multipart) {
      const r = await importCsv(ex);
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.data.created + r.json.data.updated, 2, r.text);
      continue;
    }
    const ids = ex.path.includes('{id}') ? { id: await fixture(ex.path) } : undefined;
    const r = await replay(c.gw, ex, { token: auth ? token : undefined, ids });
    if (ex.responses[0]) assertShape(r.json, ex.responses[0].json, { nullable: NULLABLE[ex.path] ?? [] });
    if (ex.path === '/api/auth/register') {
      token = r.json.data.token;
      accountId = r.json.data.user.id;
      await c.gw.credits.credit({ accountId, amount: 1_000_000, reason: 'topup', reference: 'conformance' });
      // The contacts the group examples name by id (1–4), created first in this fresh database.
      for (let i = 1; i <= 4; i++) await created('/contacts', { name: `Contact ${i}`, email: `contact${i}@example.com`, phone: `+2416280000${i}`, group: 'Clients' });
    }
  }
});

test('the documented error formats: 422 with errors per field, 401 Unauthenticated., rate-limit headers and 429', async () => {
  const formats = doc.slice(doc.indexOf('## Error Codes'));
  const blocks = [...formats.matchAll(/```json\s*\n([\s\S]*?)\n```/g)].map((m) => parseDocJson(m[1]!)) as Record<string, unknown>[];
  const invalid = await api('POST', '/contacts', { email: 'not-an-email' });
  assert.equal(invalid.status, 422);
  assertShape(invalid.json, blocks[1]);
  const anonymous = await call(c.gw, 'GET', '/api/contacts');
  assert.deepEqual([anonymous.status, anonymous.json], [401, blocks[2]]);
  const limited = await api('GET', '/contacts');
  assert.deepEqual([limited.headers.get('x-ratelimit-limit'), typeof limited.headers.get('x-ratelimit-remaining')], ['120', 'string']);
});

test('every endpoint the document names was replayed', () => {
  coverage.assertComplete();
});
