/**
 * Throttling answers (0x58) over real TCP: random throttling costs its share of the rate and no
 * more; an SMSC that enforces a lower rate than configured is found and followed within seconds.
 * Every run ends with each message delivered, accepted exactly once by the SMSC.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SmscSimulator } from '../../src/smpp/simulator/simulator.js';
import { type Gateway, numbers, startGateway, startSimulator, waitFor } from '../support/harness.js';

const TPS = 300;

/** Binds as the daemon ships them: the default tolerance and backoff, not the harness's fast ones. */
const bind = (port: number, extra: Record<string, unknown> = {}) => ({ port, tps: TPS, window: 10, throttle_tolerance: 0.1, throttle_backoff: 1, ...extra });

interface Run {
  /** Messages accepted by the SMSC per second, from its first submit to the last acceptance. */
  rate: number;
  done: boolean;
  seconds: number;
}

/** Send `count` messages and wait until every one is final, or `deadlineMs` passed. */
async function carry(gw: Gateway, sim: SmscSimulator, count: number, deadlineMs: number): Promise<{ run: Run; ids: number[] }> {
  const ids = await gw.send(numbers(count), 'throttled?');
  let done = true;
  try {
    await gw.waitFinal(ids, deadlineMs);
  } catch {
    done = false;
  }
  const accepted = sim.received.filter((r) => r.status === 0);
  const t0 = sim.received[0]?.at ?? Date.now();
  const t1 = done ? accepted[accepted.length - 1]!.at : Date.now();
  const seconds = Math.max(0.001, (t1 - t0) / 1000);
  return { run: { rate: accepted.length / seconds, done, seconds }, ids };
}

/** Nothing lost, nothing sent twice: every message delivered, each destination accepted once. */
async function assertExactlyOnce(gw: Gateway, sim: SmscSimulator, ids: number[]): Promise<void> {
  const rows = await gw.rows(ids);
  const notDelivered = rows.filter((r) => r.status !== 'delivered');
  assert.equal(notDelivered.length, 0, JSON.stringify(notDelivered.slice(0, 3)));
  const accepted = sim.received.filter((r) => r.status === 0).map((r) => r.destination);
  assert.equal(accepted.length, ids.length, 'accepted submits');
  assert.equal(new Set(accepted).size, ids.length, 'distinct destinations accepted');
}

for (const [share, floor] of [[0.15, 0.6], [0.3, 0.45]] as const) {
  test(`${share * 100} % of submits throttled at random: the bind carries about ${(1 - share) * 100} % of its ${TPS} TPS`, async (t) => {
    const sim = await startSimulator({ systemId: 'airtel', password: 'pw', faults: { throttleShare: share } });
    const gw = await startGateway([{ name: 'airtel', binds: [bind(sim.port)] }]);
    try {
      const count = 2000;
      const { run, ids } = await carry(gw, sim, count, (count / (floor * TPS)) * 1000 + 3000);
      const ideal = (1 - share) * TPS;
      t.diagnostic(`carried ${run.rate.toFixed(1)} msg/s (ideal ${ideal}) over ${run.seconds.toFixed(1)} s; ${sim.stats.throttled} throttled answers`);
      assert.ok(run.done && run.rate >= floor * TPS, `carried ${run.rate.toFixed(1)} msg/s (ideal ${ideal}, floor ${floor * TPS}) over ${run.seconds.toFixed(1)} s, all done: ${run.done}`);
      await assertExactlyOnce(gw, sim, ids);
      assert.ok(sim.stats.throttled > count * share * 0.5, `${sim.stats.throttled} throttled answers`);
    } finally {
      await gw.cleanup();
      await sim.stop();
    }
  });
}

test(`an SMSC capped at 100 TPS, a bind configured for ${TPS}: the bind finds the cap within seconds and follows it`, async (t) => {
  const cap = 100;
  const sim = await startSimulator({ systemId: 'airtel', password: 'pw', faults: { maxTps: cap } });
  const gw = await startGateway([{ name: 'airtel', binds: [bind(sim.port)] }]);
  try {
    const count = 700;
    const { run, ids } = await carry(gw, sim, count, 20_000);
    assert.ok(run.done, `not all final after 20 s: carried ${run.rate.toFixed(1)} msg/s`);
    await assertExactlyOnce(gw, sim, ids);
    // After convergence (3 s after the first submit): the rate the SMSC sees, and its throttled share.
    const t0 = sim.received[0]!.at;
    const after = sim.received.filter((r) => r.at >= t0 + 3000);
    const span = (after[after.length - 1]!.at - after[0]!.at) / 1000;
    const sentRate = after.length / span;
    const throttledShare = after.filter((r) => r.status === 0x58).length / after.length;
    const acceptedRate = after.filter((r) => r.status === 0).length / span;
    const early = sim.received.filter((r) => r.at < t0 + 3000);
    const detail = `after 3 s: ${sentRate.toFixed(1)} submit_sm/s, ${acceptedRate.toFixed(1)} accepted/s, ${(throttledShare * 100).toFixed(1)} % throttled over ${after.length} submits; first 3 s: ${early.length} submits, ${early.filter((r) => r.status === 0x58).length} throttled`;
    t.diagnostic(detail);
    assert.ok(after.length >= 200, detail);
    assert.ok(sentRate <= cap * 1.12, detail);
    assert.ok(acceptedRate >= cap * 0.8, detail);
    assert.ok(throttledShare < 0.1, detail);
  } finally {
    await gw.cleanup();
    await sim.stop();
  }
});

test('5 % of submits throttled at random: 1 000 messages in about a second', async (t) => {
  const sim = await startSimulator({ systemId: 'airtel', password: 'pw', receipts: false, faults: { throttleShare: 0.05 } });
  const gw = await startGateway([{ name: 'airtel', binds: [bind(sim.port, { tps: 2000, window: 50 })] }]);
  try {
    const ids = await gw.send(numbers(1000), 'five percent');
    const t0 = Date.now();
    await waitFor(async () => (await gw.rows(ids)).every((r) => r.status === 'sent'), 10_000, 'all sent').catch(() => undefined);
    const seconds = (Date.now() - t0) / 1000;
    const rows = await gw.rows(ids);
    t.diagnostic(`${seconds.toFixed(2)} s for 1 000 messages, ${sim.stats.throttled} throttled answers`);
    assert.ok(rows.every((r) => r.status === 'sent'), `${rows.filter((r) => r.status !== 'sent').length} not sent after ${seconds} s`);
    assert.ok(seconds < 2.5, `${seconds.toFixed(2)} s for 1 000 messages`);
  } finally {
    await gw.cleanup();
    await sim.stop();
  }
});
