/**
 * What /readyz answers: whether this gateway can take traffic now, and why not. Not ready (503)
 * when the database is closed or cannot write (a full disk: every accept would fail), or when no
 * bind at all is bound. Degraded (200) when some operator has no bound bind and nothing to fail
 * over to: its numbers wait in the queue. Each operator's state is in the body.
 */
import type { RouteConfig } from '../config/schema.js';
import type { WriteHealthView } from '../store/health.js';

export interface BindState {
  operator: string;
  state: string;
}

export type OperatorState = 'up' | 'down' | 'failing over';

export interface Readiness {
  status: 'ready' | 'degraded' | 'not ready';
  database: { open: boolean } & WriteHealthView;
  bound_binds: number;
  operators: { name: string; binds: number; bound: number; failover: string[]; state: OperatorState }[];
}

export function readiness(db: { open: boolean; health: WriteHealthView }, operators: readonly string[], routes: readonly RouteConfig[], binds: readonly BindState[]): Readiness {
  const bound = (op: string) => binds.filter((b) => b.operator === op && b.state === 'bound').length;
  const failoverOf = (op: string) => [...new Set(routes.filter((r) => r.operator === op && r.failover).map((r) => r.failover!))];
  const rows = operators.map((name) => {
    const failover = failoverOf(name);
    const up = bound(name) > 0;
    const covered = !up && failover.length > 0 && failover.every((f) => bound(f) > 0);
    return { name, binds: binds.filter((b) => b.operator === name).length, bound: bound(name), failover, state: (up ? 'up' : covered ? 'failing over' : 'down') as OperatorState };
  });
  const boundBinds = binds.filter((b) => b.state === 'bound').length;
  const dbOk = db.open && db.health.writable;
  const status = !dbOk || boundBinds === 0 ? 'not ready' : rows.some((r) => r.state === 'down') ? 'degraded' : 'ready';
  return { status, database: { open: db.open, ...db.health }, bound_binds: boundBinds, operators: rows };
}
