/** What the fault scenarios share besides the accounting check: a seeded PRNG and a gateway on two binds to one SMSC. */
import type { z } from 'zod';
import type { bindSchema } from '../../src/config/schema.js';
import type { SmscSimulator, SimulatorOptions } from '../../src/smpp/simulator/simulator.js';
import { startGateway, startSimulator, waitFor, type Gateway } from '../support/harness.js';

/** The scenarios' seed: RELAIS_FAULT_SEED, else a fixed one. Printed by each scenario that draws from it. */
export const SEED = Number(process.env.RELAIS_FAULT_SEED ?? 20261) >>> 0;

/** A seeded PRNG (mulberry32): the same seed, the same moments and bytes. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const WINDOW = 10;

/**
 * An SMSC simulator (system_id airtel) and a gateway with two transceiver binds to it (window
 * 10, `tps` each), both bound.
 */
export async function twoBinds(o: { tps: number; sim?: SimulatorOptions; bind?: Partial<z.input<typeof bindSchema>>; config?: Record<string, unknown> }): Promise<{ sim: SmscSimulator; gw: Gateway }> {
  const sim = await startSimulator({ systemId: 'airtel', password: 'pw', ...o.sim });
  const bind = { port: sim.port, tps: o.tps, window: WINDOW, reconnect: { initial: 0.1, max: 0.5, jitter: 0.1 }, ...o.bind };
  const gw = await startGateway([{ name: 'airtel', binds: [bind, bind] }], o.config);
  await waitFor(() => gw.binds.every((b) => b.state === 'bound'), 5000, 'both binds bound');
  return { sim, gw };
}

/** Sleep. */
export const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
