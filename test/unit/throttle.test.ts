/** The throttle governor on a simulated clock: random throttling is retried, a rate limit is followed. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ThrottleGovernor, type ThrottleVerdict } from '../../src/smpp/throttle.js';

/** Throttled share at a send rate: random, a cap on what passes the random filter, or both. */
const random = (share: number) => () => share;
const capped = (cap: number, noise = 0) => (rate: number) => noise + (1 - noise) * Math.max(0, 1 - cap / (rate * (1 - noise)));

interface Drive {
  /** Submits sent per second, and the share of them throttled, over the run. */
  rate: number;
  throttled: number;
  verdicts: ThrottleVerdict[];
}

/** Send as fast as the governor allows for `seconds`; every answer comes back at once. */
function drive(gov: ThrottleGovernor, clock: { t: number }, seconds: number, shareAt: (rate: number) => number): Drive {
  const verdicts: ThrottleVerdict[] = [];
  let carry = 0;
  let sent = 0;
  let throttled = 0;
  let pausedUntil = 0;
  for (let ms = 0; ms < seconds * 1000; ms += 10) {
    clock.t += 10;
    if (clock.t < pausedUntil) continue;
    carry += (gov.rate * 10) / 1000;
    const share = shareAt(gov.rate);
    for (; carry >= 1; carry -= 1) {
      const t = Math.random() < share;
      sent += 1;
      if (t) throttled += 1;
      const d = gov.record(t, clock.t);
      if (!d) continue;
      verdicts.push(d.verdict);
      if (d.pauseMs) pausedUntil = clock.t + d.pauseMs;
    }
  }
  return { rate: sent / seconds, throttled: sent ? throttled / sent : 0, verdicts };
}

const governor = (tps = 1000) => {
  const clock = { t: 0 };
  return { clock, gov: new ThrottleGovernor(tps, 0.1, 1000, () => clock.t) };
};
const count = (verdicts: ThrottleVerdict[], v: ThrottleVerdict) => verdicts.filter((x) => x === v).length;

test('5 % random throttling is tolerated: the bind keeps its full rate and never experiments', () => {
  const { clock, gov } = governor();
  const run = drive(gov, clock, 20, random(0.05));
  assert.deepEqual(run.verdicts, []);
  assert.equal(gov.rate, 1000);
});

for (const share of [0.15, 0.3]) {
  test(`${share * 100} % random throttling: one experiment finds it random, the bind keeps ~its full rate`, () => {
    const { clock, gov } = governor(300);
    const run = drive(gov, clock, 30, random(share));
    assert.ok(run.rate >= 0.9 * 300, `mean rate ${run.rate.toFixed(1)}, verdicts ${run.verdicts.join(',')}`);
    assert.ok(count(run.verdicts, 'random') >= 1, run.verdicts.join(','));
    // A rare unlucky sample may pass for a limit once; the next experiment undoes it.
    assert.ok(count(run.verdicts, 'limit') <= 1 && count(run.verdicts, 'overload') === 0, run.verdicts.join(','));
    assert.ok(count(run.verdicts, 'probe') <= 4, run.verdicts.join(','));
    assert.ok(Math.abs(gov.noise - share) < 0.08, `random level ${gov.noise}`);
  });
}

test('an SMSC that accepts only 300/s: found within 5 s, followed with few throttles, and left behind when it goes', () => {
  const { clock, gov } = governor();
  const first = drive(gov, clock, 5, capped(300));
  assert.ok(gov.limit !== null && first.verdicts.includes('probe'), first.verdicts.join(','));
  assert.ok(gov.rate <= 330 && gov.rate >= 220, `rate ${gov.rate}`);
  const steady = drive(gov, clock, 20, capped(300));
  assert.ok(steady.rate <= 325 && steady.rate >= 270, `steady rate ${steady.rate}`);
  assert.ok(steady.throttled < 0.08, `steady throttled share ${steady.throttled}`);
  drive(gov, clock, 25, random(0));
  assert.equal(gov.rate, 1000);
  assert.equal(gov.limit, null);
});

test('a limit underrated by a first burst (the SMSC\'s window was empty) is still found and followed', () => {
  const { clock, gov } = governor(300);
  // The first second lets 200 of 300 through; then 100/s.
  const run = drive(gov, clock, 12, (rate) => (clock.t <= 1000 ? 1 / 3 : capped(100)(rate)));
  assert.ok(gov.limit !== null && gov.limit < 130, `limit ${gov.limit}, verdicts ${run.verdicts.join(',')}`);
  assert.ok(gov.rate <= 120, `rate ${gov.rate}`);
  assert.equal(count(run.verdicts, 'random'), 0, run.verdicts.join(','));
});

test('a limit behind random throttling: both are found, the limit followed, the random share only retried', () => {
  const { clock, gov } = governor();
  drive(gov, clock, 6, capped(300, 0.15));
  const steady = drive(gov, clock, 20, capped(300, 0.15));
  // What passes the random filter stays near the limit (rate × 0.85 ≈ 300), and far from a collapse.
  assert.ok(steady.rate * 0.85 <= 330 && steady.rate * 0.85 >= 180, `steady rate ${steady.rate}`);
  assert.ok(steady.throttled < 0.15 + 0.12, `steady throttled share ${steady.throttled}`);
  assert.ok(Math.abs(gov.noise - 0.15) < 0.12, `random level ${gov.noise}`);
});

test('an SMSC throttling everything whatever the rate: the bind drops to its floor and pauses', () => {
  const { clock, gov } = governor();
  const run = drive(gov, clock, 10, random(1));
  assert.ok(run.verdicts.includes('overload'), run.verdicts.join(','));
  assert.equal(count(run.verdicts, 'random'), 0);
  assert.ok(gov.rate <= 1000 * 0.05, `rate ${gov.rate}`);
  drive(gov, clock, 30, random(0));
  assert.equal(gov.rate, 1000);
});
