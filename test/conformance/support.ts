/**
 * What every conformance suite needs: a running daemon with the documents' two operators on the
 * shipped SMSC simulator, and a default route (so their French and Tanzanian numbers go too),
 * accounts set up through the services the way an operator would (the CLI's rights), the
 * replay of a documented example, and a check of an answer against the documented one.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Account } from '../../src/services/accounts.js';
import { cliActor, systemActor } from '../../src/services/policy.js';
import type { SmscSimulator } from '../../src/smpp/simulator/simulator.js';
import { call, type CallResult } from '../support/api.js';
import { startGateway, startSimulator, waitFor, type Gateway } from '../support/harness.js';
import type { Endpoint, Example } from './seeds.js';

const run = promisify(execFile);

export interface Conformance {
  gw: Gateway;
  sim: SmscSimulator;
  stop(): Promise<void>;
}

export async function startConformance(extra: Record<string, unknown> = {}): Promise<Conformance> {
  const sim = await startSimulator();
  // Airtel (+24162…) and Moov (+24177…) as the SendWave document counts them; anything else through Airtel.
  const gw = await startGateway([{ name: 'airtel', binds: [{ port: sim.port }] }, { name: 'moov', binds: [{ port: sim.port }] }], { default_route: 'airtel', ...extra });
  // FLOW's send-sms waits for submit_sm_resp: a bound link makes its answer say "sent".
  await waitFor(() => gw.binds.every((b) => b.state === 'bound'), 10_000, 'binds bound');
  return { gw, sim, stop: async () => { await gw.cleanup(); await sim.stop(); } };
}

/** An integrator account as the operator creates it, funded, with approved sender IDs. */
export async function integrator(gw: Gateway, o: { email: string; password: string; username?: string; senders?: string[]; credits?: number }): Promise<Account> {
  const account = await gw.accounts.create({ name: 'Conformance Integrator', email: o.email, password: o.password, username: o.username });
  if (o.credits) await gw.credits.credit({ accountId: account.id, amount: o.credits, reason: 'topup', reference: 'conformance' });
  for (const name of o.senders ?? []) {
    const row = await gw.services.senderIds.request(systemActor(account, 'conformance'), name);
    await gw.services.senderIds.decide(cliActor(), row.id, 'approved');
  }
  return (await gw.accounts.get(account.id))!;
}

/**
 * Replays a documented example (path placeholders filled, query and body as written) and checks
 * the documented status when the document gives one.
 */
export async function replay(gw: Pick<Gateway, 'url'>, ex: Example, o: { token?: string; ids?: Record<string, string | number>; body?: unknown; expect?: number } = {}): Promise<CallResult> {
  const path = ex.path.replace(/\{id\}/g, String(o.ids?.id ?? '{id}')) + (ex.query ? `?${ex.query}` : '');
  const r = await call(gw, ex.method, path, { token: o.token, body: o.body ?? ex.body });
  const documented = ex.responses[0]?.status ?? null;
  const expected = o.expect ?? documented;
  if (expected !== null) assert.equal(r.status, expected, `${ex.method} ${path} (line ${ex.line}): ${r.text.slice(0, 400)}`);
  else assert.ok(r.status >= 200 && r.status < 300, `${ex.method} ${path} (line ${ex.line}): ${r.status} ${r.text.slice(0, 400)}`);
  return r;
}

/** Maps whose keys are the integrator's own data, wherever they appear. */
const FREE = /(^|\.)(custom_fields|attributes|sample_data|new_values|old_values|by_operator)$/;

const typeOf = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);

/**
 * An answer has the documented shape: every documented field, at the same nesting, with the
 * same JSON type (a documented null says nothing of the type). Arrays: the answer's first item
 * against the documented first item. Extra fields are allowed: clients ignore what they do not
 * read. `nullable` lists paths (`messages[].delivered_at`) that may be null at answer time;
 * `free` (and the usual maps of integrator data) are checked for their type only.
 */
export function assertShape(actual: unknown, documented: unknown, o: { nullable?: string[]; free?: string[]; at?: string } = {}): void {
  const at = o.at ?? '$';
  const here = at.replace(/^\$\.?/, '');
  if (documented === null) return;
  if (actual === null && o.nullable?.includes(here)) return;
  assert.equal(typeOf(actual), typeOf(documented), `${at}: documented ${typeOf(documented)}, answered ${JSON.stringify(actual)?.slice(0, 200)}`);
  if (o.free?.includes(here) || FREE.test(here)) return; // the integrator's own keys: only the type is documented
  if (Array.isArray(documented) && Array.isArray(actual)) {
    if (documented.length && actual.length) assertShape(actual[0], documented[0], { ...o, at: `${at}[]` });
    return;
  }
  if (typeOf(documented) === 'object') {
    for (const [k, v] of Object.entries(documented as Record<string, unknown>)) {
      assert.ok(k in (actual as Record<string, unknown>), `${at}.${k}: documented, missing from ${JSON.stringify(actual).slice(0, 300)}`);
      assertShape((actual as Record<string, unknown>)[k], v, { ...o, at: `${at}.${k}` });
    }
  }
}

/** Which documented endpoints a suite replayed: at the end, every one must have been. */
export class Coverage {
  private readonly seen = new Set<string>();

  constructor(private readonly documented: readonly Endpoint[]) {
    assert.ok(documented.length > 0, 'the document names no endpoint: the parser is wrong');
  }

  hit(method: string, path: string): void {
    this.seen.add(`${method} ${path}`);
  }

  assertComplete(): void {
    const missing = this.documented.filter((e) => !this.seen.has(`${e.method} ${e.path}`)).map((e) => `${e.method} ${e.path} (line ${e.line})`);
    assert.deepEqual(missing, [], 'documented endpoints never replayed');
  }
}

/** Runs a document's code sample as a file of its language, in a scratch directory; stdout back. */
export async function runSample(lang: 'python' | 'node' | 'node-esm' | 'bash', code: string, env: Record<string, string> = {}): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'relais-sample-'));
  try {
    const file = join(dir, { python: 'sample.py', node: 'sample.js', 'node-esm': 'sample.mjs', bash: 'sample.sh' }[lang]);
    writeFileSync(file, code);
    const cmd = { python: 'python3', node: process.execPath, 'node-esm': process.execPath, bash: 'bash' }[lang];
    const { stdout } = await run(cmd, [file], { cwd: dir, timeout: 30_000, env: { ...process.env, ...env, NODE_PATH: join(import.meta.dirname, '../../node_modules') } });
    return stdout;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A sample with only its base URL changed: every `https://host` / `http://host:port` replaced by the daemon's. */
export const rebase = (code: string, url: string): string => code.replace(/https?:\/\/(?:votredomaine\.com|mifumosms\.servehttp\.com|127\.0\.0\.1:8001|mifumosms\.mifumolabs\.com)/g, url);
