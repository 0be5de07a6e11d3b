/** Mifumo's documented rate limits (seeds 002–004), per operation, from `rate_limits.mifumo`. */
import type { RateLimits } from '../../../config/schema.js';
import type { RateRule } from '../../core/route.js';

export type MifumoRates = Record<'sms' | 'status' | 'reports' | 'balance' | 'contacts' | 'api' | 'anonymous', RateRule>;

export function mifumoRates(l: RateLimits['mifumo']): MifumoRates {
  return {
    sms: { group: 'mifumo-sms', limit: l.sms_per_minute, per: 'minute' },
    status: { group: 'mifumo-status', limit: l.status_per_minute, per: 'minute' },
    reports: { group: 'mifumo-reports', limit: l.reports_per_minute, per: 'minute' },
    balance: { group: 'mifumo-balance', limit: l.balance_per_minute, per: 'minute' },
    contacts: { group: 'mifumo-contacts', limit: l.contacts_per_hour, per: 'hour' },
    api: { group: 'mifumo-api', limit: l.api_per_hour, per: 'hour' },
    anonymous: { group: 'mifumo-anonymous', limit: l.unauthenticated_per_hour, per: 'hour' },
  };
}
