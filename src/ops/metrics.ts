/** Prometheus metrics. One registry per daemon instance (tests run several in one process). */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** A bind's window as the metrics read it (the daemon's live bind list: a reload changes it). */
export interface BindWindow {
  operator: string;
  bind: string;
  used: number;
}

export function createMetrics(
  collectQueueDepth: () => Promise<Record<string, number>>,
  operators: () => readonly string[],
  databaseWritable: () => boolean = () => true,
  bindWindows: () => readonly BindWindow[] = () => [],
) {
  const registry = new Registry();
  // prom-client's default names already start with process_ or nodejs_: relais_process_cpu_user_seconds_total, relais_nodejs_eventloop_lag_p99_seconds, ...
  collectDefaultMetrics({ register: registry, prefix: 'relais_' });
  const submits = new Counter({
    name: 'relais_submits_total', help: 'submit_sm PDUs answered, by operator, bind and result',
    labelNames: ['operator', 'bind', 'result'] as const, registers: [registry],
  });
  const receipts = new Counter({
    name: 'relais_receipts_total', help: 'Delivery receipts received, by receipt state',
    labelNames: ['operator', 'state'] as const, registers: [registry],
  });
  const mo = new Counter({ name: 'relais_mo_total', help: 'Inbound (MO) messages', labelNames: ['operator'] as const, registers: [registry] });
  const possibleDuplicates = new Counter({
    name: 'relais_possible_duplicates_total', help: 'Submits sent but never answered (timeout or link lost): a retry may duplicate them',
    labelNames: ['operator', 'bind', 'cause'] as const, registers: [registry],
  });
  const bindRefusals = new Counter({
    name: 'relais_bind_refusals_total', help: 'Binds refused by the SMSC (bind_*_resp with an error), by SMPP status name',
    labelNames: ['operator', 'bind', 'status'] as const, registers: [registry],
  });
  const bindUp = new Gauge({ name: 'relais_bind_up', help: '1 when the bind is bound', labelNames: ['operator', 'bind'] as const, registers: [registry] });
  const windowUsed = new Gauge({
    name: 'relais_bind_window_used', help: 'submit_sm awaiting an answer', labelNames: ['operator', 'bind'] as const, registers: [registry],
    collect() {
      this.reset();
      for (const w of bindWindows()) this.set({ operator: w.operator, bind: w.bind }, w.used);
    },
  });
  const latency = new Histogram({
    name: 'relais_submit_latency_seconds', help: 'submit_sm to submit_sm_resp',
    labelNames: ['operator'] as const, buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers: [registry],
  });
  const messages = new Counter({ name: 'relais_messages_total', help: 'Messages reaching a state', labelNames: ['state'] as const, registers: [registry] });
  const httpRequests = new Counter({
    name: 'relais_http_requests_total', help: 'HTTP requests by method, route and status',
    labelNames: ['method', 'route', 'status'] as const, registers: [registry],
  });
  new Gauge({
    name: 'relais_queue_depth', help: 'Messages queued or in a window, by operator', labelNames: ['operator'] as const, registers: [registry],
    async collect() {
      const depth = await collectQueueDepth();
      for (const op of new Set([...operators(), ...Object.keys(depth)])) this.set({ operator: op }, depth[op] ?? 0);
    },
  });
  new Gauge({
    name: 'relais_database_writable', help: '1 when the database takes writes (0: disk full or read-only; writes answer 503)', registers: [registry],
    collect() {
      this.set(databaseWritable() ? 1 : 0);
    },
  });
  return { registry, submits, receipts, mo, possibleDuplicates, bindRefusals, bindUp, windowUsed, latency, messages, httpRequests };
}

export type Metrics = ReturnType<typeof createMetrics>;
