/** Retry policy: capped exponential backoff with ±20 % jitter, so retries of a burst spread out. */
import type { DispatcherConfig } from '../config/schema.js';

export function retryDelay(attempts: number, cfg: Pick<DispatcherConfig, 'retry_initial' | 'retry_max'>, random = Math.random): number {
  const base = Math.min(cfg.retry_max, cfg.retry_initial * 2 ** Math.max(0, attempts - 1));
  return Math.round(base * 1000 * (0.8 + 0.4 * random()));
}
