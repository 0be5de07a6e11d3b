/**
 * An SMSC that answers every submit 0x58 (ESME_RTHROTTLED) for 10 s mid-run, then normally:
 * the binds back off instead of hammering it, no message uses up an attempt or fails, the links
 * are kept, and the rate climbs back once the answers are clean.
 * How fast it climbs back is a known defect of the throttle governor (the `todo` below).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ThrottleGovernor } from '../../src/smpp/throttle.js';
import { numbers, waitFor } from '../support/harness.js';
import { accountingHolds } from './accounting.js';
import { pause, twoBinds } from './support.js';

const TPS = 200;
const THROTTLED_FOR_MS = 10_000;

test('the SMSC answers only 0x58 for 10 s, then normally: backed off, nothing failed or charged an attempt, the rate comes back', async () => {
  // throttle_backoff as configured by default (1 s), not the harness's quick one.
  const { sim, gw } = await twoBinds({ tps: TPS, bind: { throttle_backoff: 1 } });
  try {
    const ids = await gw.send(numbers(3000), 'throttled for 10 s');
    await waitFor(() => sim.received.length >= 400, 10_000, 'traffic flowing');
    sim.setFaults({ throttleShare: 1 });
    const before = sim.stats.submits;
    await pause(THROTTLED_FOR_MS);
    const during = sim.stats.submits - before;
    sim.setFaults({});
    const cleared = Date.now();
    const accepted = sim.stats.accepted;
    // Submits per second of the fault. The governor judges the answers over one second (the
    // SMSC's window), so the first second goes at full rate; after it the binds hold a low rate.
    const perSecond = new Array<number>(THROTTLED_FOR_MS / 1000).fill(0);
    for (const r of sim.received) {
      const s = Math.floor((r.at - (cleared - THROTTLED_FOR_MS)) / 1000);
      if (s >= 0 && s < perSecond.length) perSecond[s]!++;
    }
    const rate = 2 * TPS;
    assert.ok(perSecond[0]! <= 1.2 * rate, `first second: ${perSecond[0]} submits`);
    const later = perSecond.slice(2);
    assert.ok(later.every((n) => n <= 0.05 * rate), `after the first two seconds, at most 5 % of the rate: ${JSON.stringify(perSecond)}`);
    assert.ok(during <= 0.2 * rate * (THROTTLED_FOR_MS / 1000), `${during} submits while everything was throttled: ${JSON.stringify(perSecond)}`);
    assert.ok(sim.stats.throttled > 0);

    const rows = await gw.waitFinal(ids, 60_000);
    const drained = Date.now() - cleared;
    assert.ok(rows.every((r) => r.status === 'delivered'), JSON.stringify(rows.filter((r) => r.status !== 'delivered').slice(0, 3)));
    assert.ok(rows.every((r) => r.attempts === 1), `throttling uses up no attempt: ${JSON.stringify(rows.filter((r) => r.attempts !== 1).slice(0, 3))}`);
    const rest = sim.stats.accepted - accepted;
    // At full rate the rest would take rest / 400 s. The climb back is slow (the todo below): ~20 s more here.
    assert.ok(drained < rest / (2 * TPS) * 1000 + 40_000, `${rest} messages took ${drained} ms after the SMSC recovered`);
    assert.equal(sim.stats.sessions, 2, 'the links were kept');
    await accountingHolds(gw, { smscs: [sim], accepted: ids, ready: true });
    console.log(`# throttle: ${during} submits in the 10 s of 0x58, per second ${JSON.stringify(perSecond)} (${sim.stats.throttled} throttled in all), the other ${rest} delivered ${drained} ms after it ended (${Math.round(rest / (drained / 1000))} msg/s)`);
  } finally {
    await gw.cleanup();
    await sim.stop();
  }
});

/** Seconds from the end of a 10 s overload (every answer 0x58) to the governor's rate back at 95 % of `tps`, on a simulated clock. */
function recovery(tps: number): number {
  const clock = { t: 0 };
  const gov = new ThrottleGovernor(tps, 0.1, 1000, () => clock.t);
  let carry = 0;
  let pausedUntil = 0;
  for (let ms = 0; ms < 300_000; ms += 10) {
    clock.t += 10;
    const throttling = ms >= 2000 && ms < 12_000;
    if (ms >= 12_000 && gov.rate >= 0.95 * tps) return (ms - 12_000) / 1000;
    if (clock.t < pausedUntil) continue;
    for (carry += (gov.rate * 10) / 1000; carry >= 1; carry -= 1) {
      const d = gov.record(throttling, clock.t);
      if (d?.pauseMs) pausedUntil = clock.t + d.pauseMs;
    }
  }
  return Infinity;
}

test('after a 10 s overload the rate is back within 10 s of the SMSC recovering, whatever the bind\'s TPS', {
  todo: 'throttle governor: an interval that saw a throttle ends only after MIN_SAMPLE (50) answers, which at the 2 % floor of a 50 TPS bind (1/s) takes 50 s; '
    + 'so after a 10 s overload a bind stays at its floor long after the SMSC recovered, then climbs x1.5 per interval: 56 s to 95 % at 50 TPS, 20 s at 200 TPS (the scenario above), 12 s at 1 000 TPS',
}, () => {
  const seconds = [50, 200, 1000].map((tps) => [tps, recovery(tps)]);
  console.log(`# throttle: back to 95 % after a 10 s overload (tps, s): ${JSON.stringify(seconds)}`);
  for (const [tps, s] of seconds) assert.ok(s! <= 10, `${tps} TPS: ${s} s`);
});
