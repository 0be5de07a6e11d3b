/** The operator's read-only view of the gateway itself: binds and the routing table. */
import type { Router } from '../routing/router.js';
import { authorize, type Actor } from './policy.js';

export interface GatewayView {
  /** Bind states and counters, as the daemon describes them. */
  binds(): unknown[];
}

export class GatewayService {
  constructor(private readonly view: GatewayView, private readonly router: Router) {}

  binds(actor: Actor): unknown[] {
    authorize(actor, 'operator.gateway');
    return this.view.binds();
  }

  routes(actor: Actor) {
    authorize(actor, 'operator.gateway');
    return { routes: this.router.list(), default_route: this.router.defaultRoute ?? null };
  }
}
