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
  /** This node, and where each bind runs (several nodes on PostgreSQL: a bind may be held by another). */
  cluster: { node: string; backend: 'sqlite' | 'postgres'; view(binds: readonly Bind[]): { bind: string; state: string; node: string | null }[] };
}

export async function gatewayStatus(s: StatusSources, now = Date.now()) {
  const depth = await s.depth();
  const health = s.health();
  const where = new Map(s.cluster.view(s.binds).map((v) => [v.bind, v]));
  return {
    version: s.version,
    node: s.cluster.node,
    started_at: iso(s.startedAt),
    uptime_s: Math.round((now - s.startedAt) / 1000),
    database: { backend: s.cluster.backend, writable: health.writable, reason: health.reason },
    queue_depth: Object.values(depth).reduce((a, b) => a + b, 0),
    operators: s.operators.map((name) => ({
      name,
      queue_depth: depth[name] ?? 0,
      binds: s.binds.filter((b) => b.operator === name).map((b) => bindStatus(b, where.get(b.name))),
    })),
  };
}

export type GatewayStatus = Awaited<ReturnType<typeof gatewayStatus>>;

/** One bind; `where`: the cluster's view of it (held here, or by another node: its state there). */
export function bindStatus(b: Bind, where?: { state: string; node: string | null }) {
  const minute = b.lastMinute.totals();
  return {
    name: b.name,
    mode: b.cfg.mode,
    smsc: `${b.cfg.host}:${b.cfg.port}`,
    state: where?.state ?? b.state,
    /** The node running this bind (null: none holds it now). */
    node: where?.node ?? null,
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
