/** What a dashboard page gets from the shell, and the shapes several pages share. */
import type { BaseContext, BasePage } from '/web/app.js';
import type { Account } from '/web/types.js';

/** The account rights the pages know how to show (GET /api/auth/me says which this login holds). */
export const ACCOUNT_PERMISSIONS = [
  'send_sms', 'view_history', 'manage_contacts', 'manage_groups', 'create_campaigns', 'view_analytics', 'manage_templates', 'export_data',
  'manage_webhooks', 'manage_api_keys', 'manage_sender_ids', 'manage_sub_accounts', 'manage_blacklist', 'view_audit', 'view_balance', 'manage_billing',
] as const;
export type Permission = (typeof ACCOUNT_PERMISSIONS)[number];

/** The eight permissions SendWave documents for sub-accounts (the ones the permissions endpoint sets). */
export const DOCUMENTED_PERMISSIONS: readonly Permission[] = ACCOUNT_PERMISSIONS.slice(0, 8);

export interface SubAccount {
  id: number;
  name: string;
  email: string;
  role: string;
  permissions: string[];
  effective_permissions: string[];
  status: string;
  sms_credit_limit: number | null;
  credits_used: number;
  credits_available: number | null;
  created_at: string;
  updated_at: string;
}

/** GET /api/auth/me: the account, and the sub-account when one logged in. */
export interface Me extends Account {
  /** What this login may do (the gateway's own list). */
  permissions: string[];
  sub_account?: SubAccount;
}

export interface BaseUrl {
  dialect: string;
  name: string;
  path: string;
  reference: string;
  url: string;
}

/** GET /web/config: what the pages need before a login. */
export interface WebConfig {
  registration: 'open' | 'closed';
  activation: 'immediate' | 'sms_code';
  currency: string;
  base_urls: BaseUrl[];
}

export interface PageContext extends BaseContext {
  /** Whether the login holds this permission (the account's own login holds them all). */
  can(permission: Permission): boolean;
  me: Me;
  config: WebConfig;
  /** Reads the balance shown in the top bar again (after a send or an order). */
  refreshBalance(): void;
}

export interface Page extends BasePage<PageContext> {
  /** A line under the title. */
  intro?: string;
  /** The page is offered (in the navigation) when the login holds one of these; none: always. */
  needs?: readonly Permission[];
}

/** Numbers typed or pasted in a box: split on commas, semicolons, spaces between numbers and line breaks. */
export function numbersIn(text: string): string[] {
  return text.split(/[\n,;]+/).map((s) => s.trim()).filter(Boolean);
}
