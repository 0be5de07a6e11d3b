/** Who this process is among the nodes sharing one database. */
import { hostname } from 'node:os';
import type { Config } from '../config/schema.js';

/** This node's name in leases and claims: `cluster.node_id`, else the host name and process id. */
export function nodeIdOf(config: Pick<Config, 'cluster'>): string {
  return config.cluster.node_id ?? `${hostname()}-${process.pid}`;
}
