/** The reload planner: which binds are added, removed, replaced or retuned, and which keys need a restart. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { planReload } from '../../src/config/reload-plan.js';
import { testConfig, type OperatorInput } from '../support/harness.js';

const base: OperatorInput[] = [
  { name: 'airtel', binds: [{ port: 2775 }, { port: 2776 }] },
  { name: 'moov', binds: [{ port: 2777 }] },
];
const config = (ops: OperatorInput[], extra: Record<string, unknown> = {}) => testConfig('/tmp/x.db', ops, extra);

test('the same file plans nothing', () => {
  const plan = planReload(config(base), config(base));
  assert.deepEqual(plan.applied, []);
  assert.deepEqual(plan.restartNeeded, []);
});

test('TPS, window and timeouts retune in place; host, credentials and mode replace the session', () => {
  const next: OperatorInput[] = [
    { name: 'airtel', binds: [{ port: 2775, tps: 50, window: 3, response_timeout: 4 }, { port: 2776, password: 'new' }] },
    { name: 'moov', binds: [{ port: 2777, mode: 'tx' }] },
  ];
  const plan = planReload(config(base), config(next));
  assert.deepEqual(plan.binds.retuned.map((c) => [c.bind.name, c.keys]), [['airtel-1', ['tps', 'window', 'response_timeout']]]);
  assert.deepEqual(plan.binds.replaced.map((c) => [c.bind.name, c.keys]), [['airtel-2', ['password']], ['moov-1', ['mode']]]);
  assert.deepEqual(plan.binds.added, []);
  assert.deepEqual(plan.binds.removed, []);
  assert.ok(!JSON.stringify(plan.applied).includes('new'), 'keys only, never values');
});

test('an operator whose receipt id format changes has its binds replaced (they decode with it)', () => {
  const plan = planReload(config(base), config([base[0]!, { ...base[1]!, receipt_id_format: 'decimal' }]));
  assert.deepEqual(plan.binds.replaced.map((c) => c.bind.name), ['moov-1']);
});

test('operators and binds added and removed; keys read at start are reported, not applied', () => {
  const next: OperatorInput[] = [{ name: 'airtel', binds: [{ port: 2775 }] }, { name: 'libertis', binds: [{ port: 2778 }] }];
  const plan = planReload(config(base), config(next, { http: { host: '0.0.0.0', port: 8081 }, webhooks: { concurrency: 8 } }));
  assert.deepEqual(plan.operators, { added: ['libertis'], removed: ['moov'] });
  assert.deepEqual(plan.binds.added.map((c) => c.bind.name), ['libertis-1']);
  assert.deepEqual(plan.binds.removed.map((b) => b.name).sort(), ['airtel-2', 'moov-1']);
  assert.deepEqual(plan.restartNeeded.sort(), ['http.host', 'http.port', 'webhooks.concurrency']);
  assert.ok(plan.applied.includes('routes'));
});
