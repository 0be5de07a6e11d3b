/**
 * The nodes sharing one database, and which node holds each bind. A lease is a row with an
 * expiry: its holder renews it; once expired, any node may take it. Every write here is one
 * statement, so two nodes racing for a bind are decided by the database, not by timing.
 */
import { Repo } from './repo.js';

export interface BindClaim {
  bind: string;
  operator: string;
  /** The holder's session is bound now. */
  bound: boolean;
}

export interface BindLease {
  bind: string;
  operator: string;
  node: string;
  expires_at: number;
  bound: number;
}

export class ClusterRepo extends Repo {
  async heartbeat(node: string, version: string, startedAt: number, now: number): Promise<void> {
    await this.db.insertInto('cluster_nodes').values({ node, version, started_at: startedAt, seen_at: now })
      .onConflict((oc) => oc.column('node').doUpdateSet({ seen_at: now, version, started_at: startedAt })).execute();
  }

  /** Nodes seen since `since`, by name. */
  async liveNodes(since: number): Promise<string[]> {
    const rows = await this.db.selectFrom('cluster_nodes').select('node').where('seen_at', '>=', since).orderBy('node').execute();
    return rows.map((r) => r.node);
  }

  async forgetNode(node: string): Promise<void> {
    await this.db.deleteFrom('cluster_nodes').where('node', '=', node).execute();
  }

  /**
   * Takes or renews the lease on `claim.bind` until `until`: granted when nobody holds it, when
   * `node` already does, or when the holder's lease ran out before `now`. True when `node` holds it.
   */
  async holdBind(node: string, claim: BindClaim, now: number, until: number): Promise<boolean> {
    const row = await this.db.insertInto('bind_leases')
      .values({ bind: claim.bind, operator: claim.operator, node, expires_at: until, bound: claim.bound ? 1 : 0 })
      .onConflict((oc) => oc.column('bind')
        .doUpdateSet({ node, operator: claim.operator, expires_at: until, bound: claim.bound ? 1 : 0 })
        .where((eb) => eb.or([eb('bind_leases.node', '=', node), eb('bind_leases.expires_at', '<', now)])))
      .returning('node')
      .executeTakeFirst();
    return row?.node === node;
  }

  /** Gives the bind up (its session is closed): another node may take it at once. */
  async releaseBind(node: string, bind: string): Promise<void> {
    await this.db.deleteFrom('bind_leases').where('bind', '=', bind).where('node', '=', node).execute();
  }

  async leases(): Promise<BindLease[]> {
    return this.db.selectFrom('bind_leases').selectAll().orderBy('bind').execute();
  }
}
