import type { Migration } from 'kysely';
import * as m001 from './001_core.js';
import * as m002 from './002_accounts.js';
import * as m003 from './003_webhooks_audit.js';
import * as m004 from './004_contacts.js';
import * as m005 from './005_blacklist_phone.js';
import * as m006 from './006_service_boundary.js';
import * as m007 from './007_campaigns.js';
import * as m008 from './008_sub_accounts_billing.js';
import * as m009 from './009_dialect_logins.js';
import * as m010 from './010_storage_probe.js';
import * as m011 from './011_message_story.js';
import * as m012 from './012_cluster.js';
import * as m013 from './013_shared_state.js';
import * as m014 from './014_cluster_work.js';

/**
 * Every migration, in order. Listed statically so the same list works from sources and from dist/.
 * The pending ones run in one transaction (src/store/sqlite/driver.ts): no `PRAGMA foreign_keys`
 * (a no-op there; `PRAGMA defer_foreign_keys = ON` for a table rebuild) and no VACUUM in a
 * migration. A new one: add the data its version can hold to test/integration/upgrade.test.ts.
 */
export const migrations: Record<string, Migration> = {
  '001_core': m001,
  '002_accounts': m002,
  '003_webhooks_audit': m003,
  '004_contacts': m004,
  '005_blacklist_phone': m005,
  '006_service_boundary': m006,
  '007_campaigns': m007,
  '008_sub_accounts_billing': m008,
  '009_dialect_logins': m009,
  '010_storage_probe': m010,
  '011_message_story': m011,
  '012_cluster': m012,
  '013_shared_state': m013,
  '014_cluster_work': m014,
};
