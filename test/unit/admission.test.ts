/** The send admission: a budget of recipients in hand, first come first served, an oversized send alone. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Admission } from '../../src/services/admission.js';

function gate() {
  let open!: () => void;
  const opened = new Promise<void>((r) => (open = r));
  return { open, opened };
}

test('sends within the budget run together; beyond it they wait their turn in order; an oversized one runs alone', async () => {
  const a = new Admission(100);
  const running = new Set<string>();
  const order: string[] = [];
  const gates = new Map<string, ReturnType<typeof gate>>();
  const job = (name: string, weight: number) => {
    const g = gate();
    gates.set(name, g);
    return a.run(weight, async () => {
      running.add(name);
      order.push(name);
      await g.opened;
      running.delete(name);
    });
  };
  const p = [job('a', 60), job('b', 40), job('c', 30), job('huge', 500), job('d', 10)];
  await new Promise((r) => setImmediate(r));
  assert.deepEqual([...running].sort(), ['a', 'b'], 'a and b fill the budget; c waits, and d waits behind it (first come, first served)');
  gates.get('a')!.open();
  await new Promise((r) => setImmediate(r));
  assert.deepEqual([...running].sort(), ['b', 'c']);
  gates.get('b')!.open();
  gates.get('c')!.open();
  await new Promise((r) => setImmediate(r));
  assert.deepEqual([...running], ['huge'], 'the oversized send runs alone');
  gates.get('huge')!.open();
  await new Promise((r) => setImmediate(r));
  gates.get('d')!.open();
  await Promise.all(p);
  assert.deepEqual(order, ['a', 'b', 'c', 'huge', 'd']);
});
