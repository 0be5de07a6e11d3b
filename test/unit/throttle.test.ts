/** The throttle governor on a simulated clock: tolerate noise, adapt to a real rate limit. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ThrottleGovernor } from '../../src/smpp/throttle.js';

function drive(gov: ThrottleGovernor, clock: { t: number }, seconds: number, rate: number, throttledShare: (rate: number) => number) {
  const pauses: number[] = [];
  let carry = 0;
  for (let ms = 0; ms < seconds * 1000; ms += 10) {
    clock.t += 10;
    carry += (Math.min(rate, gov.rate) * 10) / 1000;
    const share = throttledShare(gov.rate);
    for (; carry >= 1; carry -= 1) {
      const d = gov.record(Math.random() < share);
      if (d?.pauseMs) pauses.push(clock.t);
    }
  }
  return pauses;
}

test('5 % random throttling is tolerated: the bind keeps its full rate and never pauses', () => {
  const clock = { t: 0 };
  const gov = new ThrottleGovernor(1000, 0.1, 1000, () => clock.t);
  const pauses = drive(gov, clock, 20, 1000, () => 0.05);
  assert.equal(pauses.length, 0);
  assert.equal(gov.rate, 1000);
});

test('an SMSC that accepts only 300/s: the bind pauses, settles near 300/s, then climbs back when the limit goes', () => {
  const clock = { t: 0 };
  const gov = new ThrottleGovernor(1000, 0.1, 1000, () => clock.t);
  const limit = (rate: number) => Math.max(0, (rate - 300) / rate);
  const pauses = drive(gov, clock, 10, 1000, limit);
  assert.ok(pauses.length >= 1);
  assert.ok(gov.rate < 400 && gov.rate > 150, `rate ${gov.rate}`);
  drive(gov, clock, 10, 1000, () => 0);
  assert.equal(gov.rate, 1000);
});
