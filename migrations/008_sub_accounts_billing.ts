import type { Kysely } from 'kysely';

/**
 * Sub-accounts (logins inside an account, with a role, named permissions and a credit limit),
 * SMS packages and their orders, credit lots that expire, and the links that let every ledger
 * row be checked: tokens, keys and messages say which sub-account they belong to.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('sub_accounts')
    .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
    .addColumn('account_id', 'integer', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('email', 'text', (c) => c.notNull().unique())
    .addColumn('password_hash', 'text', (c) => c.notNull())
    .addColumn('role', 'text', (c) => c.notNull())
    // JSON array of the documented permissions it holds.
    .addColumn('permissions', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull().defaultTo('active'))
    // What its sends may cost in all (null: no limit of its own), and what they have cost.
    .addColumn('credit_limit', 'integer')
    .addColumn('credits_used', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'integer', (c) => c.notNull())
    .addColumn('updated_at', 'integer', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('sub_accounts_account').on('sub_accounts').columns(['account_id', 'id']).execute();

  await db.schema.alterTable('auth_tokens').addColumn('sub_account_id', 'integer').execute();
  await db.schema.alterTable('api_keys').addColumn('sub_account_id', 'integer').execute();
  await db.schema.alterTable('messages').addColumn('sub_account_id', 'integer').execute();
  await db.schema.alterTable('credit_transactions').addColumn('sub_account_id', 'integer').execute();

  await db.schema
    .createTable('sms_packages')
    .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('sms_count', 'integer', (c) => c.notNull())
    .addColumn('bonus_sms', 'integer', (c) => c.notNull().defaultTo(0))
    // In the smallest unit of `currency`.
    .addColumn('price', 'integer', (c) => c.notNull())
    .addColumn('currency', 'text', (c) => c.notNull())
    .addColumn('validity_days', 'integer')
    .addColumn('is_active', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('created_at', 'integer', (c) => c.notNull())
    .addColumn('updated_at', 'integer', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('package_orders')
    .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
    .addColumn('uuid', 'text', (c) => c.notNull().unique())
    .addColumn('account_id', 'integer', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('package_id', 'integer', (c) => c.notNull().references('sms_packages.id'))
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('payment_method', 'text')
    .addColumn('provider', 'text')
    .addColumn('price', 'integer', (c) => c.notNull())
    .addColumn('currency', 'text', (c) => c.notNull())
    .addColumn('credits', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'integer', (c) => c.notNull())
    .addColumn('decided_at', 'integer')
    .addColumn('decided_by', 'text')
    .execute();
  await db.schema.createIndex('package_orders_account').on('package_orders').columns(['account_id', 'id']).execute();
  await db.schema.createIndex('package_orders_status').on('package_orders').column('status').execute();

  // Credits bought with a package: used before the balance's other credits, the rest removed at expiry.
  await db.schema
    .createTable('credit_lots')
    .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
    .addColumn('account_id', 'integer', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('order_id', 'integer', (c) => c.notNull())
    .addColumn('credits', 'integer', (c) => c.notNull())
    .addColumn('remaining', 'integer', (c) => c.notNull())
    .addColumn('expires_at', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'integer', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('credit_lots_account').on('credit_lots').columns(['account_id', 'expires_at']).execute();
  await db.schema.createIndex('credit_lots_expiry').on('credit_lots').columns(['expires_at']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const t of ['credit_lots', 'package_orders', 'sms_packages', 'sub_accounts']) await db.schema.dropTable(t).execute();
  await db.schema.alterTable('credit_transactions').dropColumn('sub_account_id').execute();
  await db.schema.alterTable('messages').dropColumn('sub_account_id').execute();
  await db.schema.alterTable('api_keys').dropColumn('sub_account_id').execute();
  await db.schema.alterTable('auth_tokens').dropColumn('sub_account_id').execute();
}
