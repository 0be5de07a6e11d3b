/** This process's name among the nodes sharing a database: in leases, claims and status. */
import { hostname } from 'node:os';
import type { Config } from '../config/schema.js';

/** `cluster.node_id` (env RELAIS_NODE_ID), else the host name and process id: unique per process on a host. */
export function nodeIdOf(config: Pick<Config, 'cluster'>): string {
  return config.cluster.node_id ?? `${hostname()}-${process.pid}`;
}

/** How long a lease lasts without renewal, in ms. */
export const leaseMsOf = (config: Pick<Config, 'cluster'>): number => config.cluster.lease * 1000;
