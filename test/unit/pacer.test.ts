/** The pacer's invariant (never more than tps in any sliding second) with a simulated clock. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Pacer } from '../../src/smpp/pacer.js';

function maxInWindow(times: number[], windowMs: number): number {
  let max = 0;
  for (let i = 0, j = 0; i < times.length; i++) {
    while (times[i]! - times[j]! >= windowMs) j++;
    max = Math.max(max, i - j + 1);
  }
  return max;
}

test('never more than tps sends in any sliding one-second window, spread through the second', async () => {
  const tps = 50;
  const pacer = new Pacer(tps);
  const times: number[] = [];
  const t0 = performance.now();
  await Promise.all(Array.from({ length: 120 }, () => pacer.acquire().then(() => times.push(performance.now() - t0))));
  assert.equal(times.length, 120);
  assert.ok(maxInWindow(times, 1000) <= tps, `max ${maxInWindow(times, 1000)} in a second`);
  // Even pacing: the first 200 ms hold about a fifth of a second's quota, not all of it.
  assert.ok(times.filter((t) => t < 200).length <= tps / 2);
});

test('pause() holds every send until it ends', async () => {
  const pacer = new Pacer(1000);
  await pacer.acquire();
  pacer.pause(150);
  assert.equal(pacer.paused, true);
  const t0 = performance.now();
  await pacer.acquire();
  assert.ok(performance.now() - t0 >= 140);
});
