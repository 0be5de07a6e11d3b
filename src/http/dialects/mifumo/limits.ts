/** Mifumo's documented rate limits (seeds 002–004), per operation, from `rate_limits.mifumo`. */
import type { RateLimits } from '../../../config/schema.js';
import type { RateRule } from '../../core/route.js';

export type MifumoRates = Record<'sms' | 'status' | 'reports' | 'balance' | 'contacts' | 'api' | 'anonymous', RateRule>;

export function mifumoRates(l: RateLimits['mifumo']): MifumoRates {
  // Getters: a reload updates `l` in place, and each request reads the limit then.
  const rule = (group: string, per: RateRule['per'], limit: () => number): RateRule => ({ group, per, get limit() { return limit(); } });
  return {
    sms: rule('mifumo-sms', 'minute', () => l.sms_per_minute),
    status: rule('mifumo-status', 'minute', () => l.status_per_minute),
    reports: rule('mifumo-reports', 'minute', () => l.reports_per_minute),
    balance: rule('mifumo-balance', 'minute', () => l.balance_per_minute),
    contacts: rule('mifumo-contacts', 'hour', () => l.contacts_per_hour),
    api: rule('mifumo-api', 'hour', () => l.api_per_hour),
    anonymous: rule('mifumo-anonymous', 'hour', () => l.unauthenticated_per_hour),
  };
}
