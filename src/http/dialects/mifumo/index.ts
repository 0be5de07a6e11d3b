/**
 * Mifumo SMS (../shared/seeds/002–004): Django paths ending in `/` under /api/. The trailing
 * slash is what tells `/api/auth/login/` (here) from SendWave's `/api/auth/login`. Like every
 * dialect (core/dialect.ts), it only translates.
 */
import type { Services } from '../../../services/index.js';
import type { Api, ApiDeps } from '../../core/route.js';
import { mountAuth } from './auth.js';
import { mifumo } from './errors.js';
import { mountIntegration } from './integration.js';
import { mifumoRates } from './limits.js';
import { mountMessaging } from './messaging.js';

export { mifumo };

export function mountMifumo(deps: ApiDeps, s: Services): Api[] {
  const rates = mifumoRates(deps.limits.mifumo);
  return [mountAuth(deps, s, rates), mountIntegration(deps, s, rates), ...mountMessaging(deps, s, rates)];
}
