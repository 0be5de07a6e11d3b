/** The operator's view of the gateway itself: binds, the routing table, and a live reload of the config file. */
import { ConfigError } from '../config/load.js';
import type { ReloadReport } from '../ops/reload.js';
import type { GatewayStatus } from '../ops/status.js';
import type { Router } from '../routing/router.js';
import type { Changes } from './changes.js';
import type { MessageService } from './messages.js';
import { invalid, issue, type FieldIssues } from './errors.js';
import { authorize, type Actor } from './policy.js';

export interface GatewayView {
  /** Bind states and counters, as the daemon describes them. */
  binds(): unknown[];
  /** Per operator and bind: states, rates, windows, the last minute's counts. */
  status(): Promise<GatewayStatus>;
  /** Re-read the config file and apply it (throws ConfigError, with nothing changed, when it is bad). */
  reload(): Promise<ReloadReport>;
}

export class GatewayService {
  constructor(private readonly view: GatewayView, private readonly router: Router, private readonly changes: Changes, private readonly messages: Pick<MessageService, 'classify'>) {}

  /** Which operator gets this number, and by which prefix (the console's lookup box). */
  async lookup(actor: Actor, number: string) {
    authorize(actor, 'operator.gateway');
    const planned = await this.messages.classify(number, null);
    const route = planned.e164 ? this.router.route(planned.e164) : null;
    return {
      input: number, e164: planned.e164, ok: planned.ok, operator: planned.operator ?? route?.operator ?? null, failover: route?.failover ?? null,
      prefix: route?.prefix ?? null, reason: planned.ok ? null : planned.reason,
    };
  }

  status(actor: Actor): Promise<GatewayStatus> {
    authorize(actor, 'operator.gateway');
    return this.view.status();
  }

  /** A bad file answers 422 naming every key at fault; the running config stays in force. */
  async reload(actor: Actor): Promise<ReloadReport> {
    authorize(actor, 'operator.gateway');
    const report = await this.view.reload().catch((err: unknown) => {
      if (err instanceof ConfigError) throw invalid(configIssues(err));
      throw err;
    });
    if (report.changed) {
      await this.changes.run(actor, (c) => c.audit({ action: 'gateway.config_reloaded', model: 'Gateway', modelId: null, new: { applied: report.applied, restart_needed: report.restart_needed, binds: report.binds } }));
    }
    return report;
  }

  binds(actor: Actor): unknown[] {
    authorize(actor, 'operator.gateway');
    return this.view.binds();
  }

  routes(actor: Actor) {
    authorize(actor, 'operator.gateway');
    return { routes: this.router.list(), default_route: this.router.defaultRoute ?? null };
  }
}

/** Each problem of a bad config under its key ("operators[0].binds[1].tps: ..."). */
export function configIssues(err: ConfigError): FieldIssues {
  const fields: FieldIssues = {};
  for (const problem of err.problems) {
    const at = problem.indexOf(': ');
    const key = at > 0 ? problem.slice(0, at) : '(root)';
    (fields[key] ??= []).push(issue('config', { problem: at > 0 ? problem.slice(at + 2) : problem }));
  }
  return fields;
}
