/**
 * A latency probe: light requests (GET /api/balance with the API key) one at a time on their own
 * connection, while something heavy runs in the daemon. What they wait is what any other client
 * of the daemon (an integrator's send, a dashboard) would wait behind the heavy work.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { call } from './http.js';
import { closePool, isInterrupted, openPool } from './setup.js';
import { percentile } from './stats.js';

export interface ProbeFigures {
  requests: number;
  /** Answers other than 200, and requests that failed (their wait still counts in the latencies). */
  errors: number;
  /** Sending the request → its whole answer read. */
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

export interface Probe {
  /** Ends the loop after the request in flight, and gives the figures. */
  stop(): Promise<ProbeFigures>;
}

/** Starts the loop at once: a request, its whole answer, `pauseMs`, the next request. */
export function startProbe(base: string, apiKey: string, pauseMs = 10): Probe {
  // Its own connection: it never waits behind the benchmark's other calls, only behind the daemon.
  const pool = openPool(base, { connections: 1, pipelining: 1 });
  const latencies: number[] = [];
  let errors = 0;
  let running = true;
  const loop = (async () => {
    // After an error or Ctrl-C the scenario's pools are destroyed: the loop ends with them.
    while (running && !pool.destroyed && !isInterrupted()) {
      const s = performance.now();
      const ok = await call(pool, 'GET', '/api/balance', apiKey).then((r) => r.status === 200, () => false);
      latencies.push(performance.now() - s);
      if (!ok) errors += 1;
      await sleep(pauseMs);
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      if (!pool.destroyed) await closePool(pool);
      latencies.sort((a, b) => a - b);
      return { requests: latencies.length, errors, p50Ms: percentile(latencies, 50), p99Ms: percentile(latencies, 99), maxMs: latencies[latencies.length - 1] ?? NaN };
    },
  };
}
