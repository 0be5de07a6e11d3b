/**
 * The status at a glance (`relais status`, GET /api/admin/status, the console): per operator and
 * bind what an operator checks first — state and since when, TPS configured and achieved over the
 * last minute, window in use, queue depth, the last minute's submits, receipts and errors, the
 * last error.
 */
import type { Bind } from '../smpp/bind.js';
import type { WriteHealthView } from '../store/health.js';

export interface StatusSources {
  version: string;
  startedAt: number;
  operators: readonly string[];
  binds: readonly Bind[];
  /** Messages queued or in a window, per operator. */
  depth(): Promise<Record<string, number>>;
  health(): WriteHealthView;
}

export async function gatewayStatus(s: StatusSources, now = Date.now()) {
  const depth = await s.depth();
  const health = s.health();
  return {
    version: s.version,
    started_at: iso(s.startedAt),
    uptime_s: Math.round((now - s.startedAt) / 1000),
    database: { writable: health.writable, reason: health.reason },
    queue_depth: Object.values(depth).reduce((a, b) => a + b, 0),
    operators: s.operators.map((name) => ({
      name,
      queue_depth: depth[name] ?? 0,
      binds: s.binds.filter((b) => b.operator === name).map(bindStatus),
    })),
  };
}

export type GatewayStatus = Awaited<ReturnType<typeof gatewayStatus>>;

export function bindStatus(b: Bind) {
  const minute = b.lastMinute.totals();
  return {
    name: b.name,
    mode: b.cfg.mode,
    smsc: `${b.cfg.host}:${b.cfg.port}`,
    state: b.state,
    since: iso(b.stateSince),
    tps: { configured: b.cfg.tps, current: Math.round(b.rate), achieved_1m: Math.round((minute.submitted / 60) * 10) / 10 },
    window: { size: b.cfg.window, used: b.windowUsed },
    queued: b.load,
    last_minute: {
      submitted: minute.submitted, accepted: minute.accepted, receipts: minute.receipts, mo: minute.mo,
      errors: minute.failed + minute.timeouts + minute.throttled + minute.refusals,
      throttled: minute.throttled, failed: minute.failed, timeouts: minute.timeouts, reconnects: minute.reconnects, refusals: minute.refusals,
    },
    last_error: b.lastError,
    /** Per minute, the last 15, oldest first (the console's chart). */
    history: b.perMinute.series().map((m) => ({
      at: iso(m.at), submitted: m.submitted, accepted: m.accepted, receipts: m.receipts, errors: m.failed + m.timeouts + m.throttled + m.refusals,
    })),
  };
}

const iso = (ms: number): string => new Date(ms).toISOString();
