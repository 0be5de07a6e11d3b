/**
 * An SMSC whose link misbehaves while traffic flows on two binds: it cuts the link every N
 * submits, it refuses binds for a while, it hangs longer than the response timeout. Each time:
 * nothing lost, duplicates only where the gateway counted possible duplicates, bind attempts
 * that follow the faults (one per lost link, refusals on their own slow backoff), never a storm.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { numbers, waitFor } from '../support/harness.js';
import { accountingHolds } from './accounting.js';
import { pause, twoBinds } from './support.js';

test('the SMSC drops the link every 250 submits: one reconnect per drop, every message delivered, duplicates counted', async () => {
  // Answers 5 ms late: a drop catches some accepted submits before their answer (real duplicates).
  const { sim, gw } = await twoBinds({ tps: 300, sim: { respDelayMs: 5, faults: { dropAfterSubmits: 250 } } });
  try {
    const ids = await gw.send(numbers(4000), 'dropped every 250');
    const rows = await gw.waitFinal(ids, 60_000);
    assert.ok(rows.every((r) => r.status === 'delivered'), JSON.stringify(rows.filter((r) => r.status !== 'delivered').slice(0, 3)));
    const drops = sim.stats.unanswered;
    assert.ok(drops >= 10, `${drops} drops`);
    // Every session after the first two follows a drop; each connection bound once.
    assert.ok(sim.stats.sessions <= 2 + drops, `${sim.stats.sessions} sessions for ${drops} drops`);
    assert.equal(sim.stats.bindsAccepted, sim.stats.sessions);
    assert.equal(sim.stats.bindsRefused, 0);
    assert.equal(gw.binds.reduce((n, b) => n + b.counters.reconnects, 0), drops, 'one reconnect per drop');
    const report = await accountingHolds(gw, { smscs: [sim], accepted: ids, ready: true });
    console.log(`# link drops: ${drops} drops, ${sim.stats.sessions} sessions, ${report.duplicates} duplicates, ${report.possibleDuplicates} possible duplicates counted`);
  } finally {
    await gw.cleanup();
    await sim.stop();
  }
});

test('the SMSC refuses binds for 4 s mid-run: refusals back off on their own schedule (no storm), nothing is claimed meanwhile, then it all goes out', async () => {
  const reconnect = { initial: 0.1, max: 0.5, jitter: 0, refused_initial: 1, refused_max: 2 };
  const { sim, gw } = await twoBinds({ tps: 300, bind: { reconnect } });
  const refusedAt = gw.binds.map(() => [] as number[]);
  gw.binds.forEach((b, i) => b.on('refused', () => refusedAt[i]!.push(Date.now())));
  try {
    const ids = await gw.send(numbers(2000), 'refused for a while');
    await waitFor(() => sim.received.length >= 400, 10_000, 'traffic flowing');
    sim.setFaults({ refuseBinds: true });
    sim.dropAll(); // the SMSC restarts into maintenance
    const from = Date.now();
    await waitFor(() => gw.binds.every((b) => b.counters.refusals >= 1), 3000, 'both binds refused');
    await pause(500);
    const received = sim.received.length;
    const statuses = await gw.store.db.selectFrom('messages').select(['status', (eb) => eb.fn.countAll<number>().as('n')]).groupBy('status').execute();
    await pause(Math.max(0, 4000 - (Date.now() - from)));
    assert.equal(sim.received.length, received, 'nothing submitted while refused');
    assert.ok(!statuses.some((s) => s.status === 'submitting'), `nothing claimed while no bind is bound: ${JSON.stringify(statuses)}`);
    // Over 4 s: refused at ~0.1 s, ~1.1 s, ~3.1 s; at network pace (0.1–0.5 s) it would be ~10 each.
    for (const times of refusedAt) {
      assert.ok(times.length >= 2 && times.length <= 4, `${times.length} refusals in 4 s`);
      for (let i = 1; i < times.length; i++) assert.ok(times[i]! - times[i - 1]! >= 900, `refusals ${times[i]! - times[i - 1]!} ms apart`);
    }
    assert.equal(sim.stats.bindsRefused, refusedAt.flat().length);
    assert.equal((await fetch(`${gw.url}/readyz`)).status, 503, 'not ready while no bind is bound');

    sim.setFaults({});
    const cleared = Date.now();
    await waitFor(() => gw.binds.every((b) => b.state === 'bound'), 5000, 'bound at the next attempt');
    console.log(`# link refusals: ${sim.stats.bindsRefused} refused binds in 4 s, bound again ${Date.now() - cleared} ms after the SMSC accepted`);
    const rows = await gw.waitFinal(ids, 30_000);
    assert.ok(rows.every((r) => r.status === 'delivered'));
    assert.equal(sim.stats.bindsAccepted, 4, 'two binds, each bound twice');
    await accountingHolds(gw, { smscs: [sim], accepted: ids, ready: true });
  } finally {
    await gw.cleanup();
    await sim.stop();
  }
});

test('the SMSC hangs longer than the response timeout (no answer, then answers too late), then recovers: retried, duplicates counted, the link kept', async () => {
  const { sim, gw } = await twoBinds({ tps: 300, bind: { response_timeout: 1, enquire_link_interval: 1 } });
  try {
    const ids = await gw.send(numbers(2000), 'hung');
    await waitFor(() => sim.received.length >= 300, 10_000, 'traffic flowing');
    sim.setFaults({ noAnswerShare: 1 });
    await waitFor(() => gw.binds.every((b) => b.counters.timeouts >= 10), 5000, 'timeouts on both binds');
    // Then it answers, but 1.5 s late: the gateway gave up at 1 s and sent them again.
    sim.setFaults({});
    sim.setOptions({ respDelayMs: 1500 });
    await pause(2500);
    sim.setOptions({ respDelayMs: 0 });
    const rows = await gw.waitFinal(ids, 60_000);
    assert.ok(rows.every((r) => r.status === 'delivered'), JSON.stringify(rows.filter((r) => r.status !== 'delivered').slice(0, 3)));
    assert.equal(sim.stats.sessions, 2, 'the links were kept (enquire_link was answered)');
    assert.equal(sim.stats.bindsAccepted, 2);
    const report = await accountingHolds(gw, { smscs: [sim], accepted: ids, ready: true });
    assert.ok(report.duplicates > 0, 'the late answers made duplicates');
    console.log(`# link hang: ${gw.binds.reduce((n, b) => n + b.counters.timeouts, 0)} timeouts, ${report.duplicates} duplicates, ${report.possibleDuplicates} possible duplicates counted`);
  } finally {
    await gw.cleanup();
    await sim.stop();
  }
});
