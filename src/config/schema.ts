/**
 * The configuration contract. Operator-facing key names are fixed (provisioning tools rely on
 * them); every key has a default where a safe one exists, so a config file only says what differs.
 */
import { z } from 'zod';
import { isTimeZone } from '../scheduler/slots.js';

const seconds = z.number().positive();
const share = z.number().min(0).max(1);

/** Accept the short SMPP names too: operators write trx/tx/rx as often as the long ones. */
const SHORT_MODES = { trx: 'transceiver', tx: 'transmitter', rx: 'receiver' } as const;
type BindMode = (typeof SHORT_MODES)[keyof typeof SHORT_MODES];
const bindMode = z
  .enum(['transceiver', 'transmitter', 'receiver', 'trx', 'tx', 'rx'])
  .transform((m): BindMode => (m in SHORT_MODES ? SHORT_MODES[m as keyof typeof SHORT_MODES] : (m as BindMode)));

export const bindSchema = z
  .object({
    name: z.string().regex(/^[\w.-]+$/).optional(),
    host: z.string().min(1),
    port: z.number().int().min(1).max(65535),
    system_id: z.string().min(1).max(15),
    password: z.string().max(8),
    system_type: z.string().max(12).default(''),
    mode: bindMode.default('transceiver'),
    tps: z.number().positive().max(100_000),
    window: z.number().int().min(1).max(1000).default(10),
    enquire_link_interval: seconds.default(30),
    response_timeout: seconds.default(10),
    /**
     * Delays between connection attempts: after a network failure from `initial` doubling up to
     * `max`; after the SMSC refused the bind (bad credentials, ...) from `refused_initial` up to
     * `refused_max`, because SMSCs lock accounts that retry refused binds quickly.
     */
    reconnect: z
      .object({
        initial: seconds.default(1),
        max: seconds.default(60),
        jitter: share.default(0.2),
        refused_initial: seconds.default(30),
        refused_max: seconds.default(600),
      })
      .strict()
      .default({ initial: 1, max: 60, jitter: 0.2, refused_initial: 30, refused_max: 600 }),
    /** Share of throttling answers (0x58 / 0x14) tolerated before the bind pauses and slows down. */
    throttle_tolerance: share.default(0.1),
    /** Pause of this bind when throttling goes past the tolerance. */
    throttle_backoff: seconds.default(1),
    tls: z.boolean().default(false),
    /** Source address TON/NPI for alphanumeric vs numeric sender ids are derived; these override. */
    source_ton: z.number().int().min(0).max(6).optional(),
    source_npi: z.number().int().min(0).max(18).optional(),
  })
  .strict();

export const operatorSchema = z
  .object({
    name: z.string().regex(/^[a-z0-9_-]+$/, 'lowercase letters, digits, _ and - only'),
    binds: z.array(bindSchema).min(1),
    /** Form of the message_id in this SMSC's submit_sm_resp, and in its receipts. */
    receipt_id_format: z.enum(['hex', 'decimal']).default('hex'),
    submit_id_format: z.enum(['hex', 'decimal']).optional(),
    /** Price of one SMS part, in the smallest currency unit. */
    price_per_part: z.number().int().min(0).default(20),
    /** Alphabet the SMSC means by data_coding 0 on inbound messages. */
    default_alphabet: z.enum(['gsm7', 'latin1', 'ascii']).default('gsm7'),
    registered_delivery: z.boolean().default(true),
  })
  .strict();

export const routeSchema = z
  .object({
    prefix: z.string().regex(/^\+\d{1,14}$/, 'an E.164 prefix such as "+24162"'),
    operator: z.string(),
    failover: z.string().optional(),
    priority: z.number().int().default(0),
  })
  .strict();

export const simulatorSchema = z
  .object({
    name: z.string(),
    host: z.string().default('127.0.0.1'),
    port: z.number().int().min(0).max(65535),
    system_id: z.string().optional(),
    password: z.string().optional(),
    receipt_delay_ms: z.number().int().min(0).default(500),
    receipt_mix: z.record(z.string(), z.number().min(0)).optional(),
  })
  .strict();

const count = z.number().int().min(1);
const MIFUMO_LIMITS = { sms_per_minute: 100, status_per_minute: 200, reports_per_minute: 50, balance_per_minute: 20, contacts_per_hour: 500, api_per_hour: 1000, unauthenticated_per_hour: 100 };
const mifumoLimits = z
  .object({
    sms_per_minute: count.default(100),
    status_per_minute: count.default(200),
    reports_per_minute: count.default(50),
    balance_per_minute: count.default(20),
    contacts_per_hour: count.default(500),
    /** Every other authenticated Mifumo operation. */
    api_per_hour: count.default(1000),
    /** Login, registration and refresh, per client IP. */
    unauthenticated_per_hour: count.default(100),
  })
  .strict();

export const configSchema = z
  .object({
    http: z
      .object({
        host: z.string().default('0.0.0.0'),
        port: z.number().int().min(0).max(65535).default(8080),
        /** Largest JSON body accepted (10 000 recipients fit in about 250 KB). */
        body_limit_kb: z.number().int().min(1).default(2048),
        /** How long FLOW's send-sms may wait for the SMSC's submit_sm_resp before answering (0: answer at once). */
        flow_send_wait: z.number().min(0).max(10).default(2),
        /** Behind a reverse proxy: take the client's IP and scheme from X-Forwarded-For / -Proto (rate limits, login limits, page links). */
        trust_proxy: z.boolean().default(false),
      })
      .strict()
      .default({ host: '0.0.0.0', port: 8080, body_limit_kb: 2048, flow_send_wait: 2, trust_proxy: false }),
    auth: z
      .object({
        /** open: anyone may register (with 0 credits and no sender ID); closed: only admins create accounts. */
        registration: z.enum(['open', 'closed']).default('open'),
        token_ttl: seconds.default(7 * 24 * 3600),
        /** HS256 secret for access tokens; generated and kept in the database when absent (env RELAIS_JWT_SECRET). */
        jwt_secret: z.string().min(32).optional(),
        /** Mifumo registration: active at once, or once the code sent by SMS to its phone comes back (POST /api/auth/verify-phone/). */
        activation: z.enum(['immediate', 'sms_code']).default('immediate'),
        /** Failed logins: per login from one client, per login from everywhere, within a window (then 429 until it ends). */
        login_failures: z
          .object({ per_client: count.default(5), per_login: count.default(20), window: seconds.default(300) })
          .strict()
          .default({ per_client: 5, per_login: 20, window: 300 }),
      })
      .strict()
      .default({ registration: 'open', token_ttl: 7 * 24 * 3600, activation: 'immediate', login_failures: { per_client: 5, per_login: 20, window: 300 } }),
    rate_limits: z
      .object({
        send_per_minute: z.number().int().min(1).default(60),
        default_per_minute: z.number().int().min(1).default(120),
        /** Login and registration, per client IP: slows down password guessing. */
        auth_per_minute: z.number().int().min(1).default(20),
        /** The Mifumo dialect's documented limits, per operation (seeds 002 and 004). */
        mifumo: mifumoLimits.default(MIFUMO_LIMITS),
      })
      .strict()
      .default({ send_per_minute: 60, default_per_minute: 120, auth_per_minute: 20, mifumo: MIFUMO_LIMITS }),
    database: z
      .object({
        /** The SQLite file (the embedded default). With `url`, its folder still holds the first admin's password file. */
        path: z.string().min(1).default('relais.db'),
        /**
         * A PostgreSQL database instead (env RELAIS_DATABASE_URL): several nodes may share it, each
         * holding some binds and claiming queued messages under a lease (see `cluster`).
         */
        url: z.string().regex(/^postgres(ql)?:\/\/\S+$/, 'a postgres:// or postgresql:// URL').optional(),
        /** PostgreSQL: the schema Relais keeps its tables in (created when missing). */
        schema: z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/, 'lower-case letters, digits and _').default('public'),
        /** PostgreSQL: connections this node keeps open at most. */
        pool_size: z.number().int().min(2).max(500).default(10),
        /** normal survives a process crash (kill -9); full also survives power loss, at an fsync per commit. */
        synchronous: z.enum(['normal', 'full']).default('normal'),
        /** A cap on the database file (MB): past it, writes are refused as on a full disk (503) while reads go on. */
        max_size_mb: z.number().positive().optional(),
      })
      .strict(),
    /**
     * Several nodes on one PostgreSQL database. Each node holds some binds and claims queued
     * messages under leases it renews; a node that stops renewing (dead, cut off) loses both
     * once its lease ends, and another node takes them over. Ignored on SQLite (one node).
     */
    cluster: z
      .object({
        /** This node's name in leases and status (default: host name and process id). */
        node_id: z.string().regex(/^[\w.:-]{1,64}$/, 'letters, digits and . _ : - (at most 64)').optional(),
        /** Seconds a lease lasts without renewal: a dead node's binds and messages move after about this long. */
        lease: z.number().min(1).max(300).default(10),
      })
      .strict()
      .default({ lease: 10 }),
    numbering: z
      .object({
        country_code: z.string().regex(/^\d{1,3}$/, 'digits only, without "+", e.g. "241"'),
        national_prefix: z.string().regex(/^\d{0,2}$/).default('0'),
        international_prefix: z.string().regex(/^\d{2,4}$/).default('00'),
      })
      .strict(),
    operators: z.array(operatorSchema).min(1),
    routes: z.array(routeSchema).default([]),
    default_route: z.string().optional(),
    dispatcher: z
      .object({
        batch_size: z.number().int().min(1).max(10_000).default(500),
        poll_interval_ms: z.number().int().min(1).default(50),
        max_attempts: z.number().int().min(1).default(10),
        retry_initial: seconds.default(5),
        retry_max: seconds.default(600),
        /** Message validity: past this, a queued message is `expired` instead of sent. */
        validity: seconds.default(48 * 3600),
        /** A submit_sm never answered may have reached the handset: retry it (possible duplicate) or fail it. */
        on_response_timeout: z.enum(['retry', 'fail']).default('retry'),
        max_parts: z.number().int().min(1).max(32).default(10),
        /** A message sent with a receipt requested but none came within this: it ends `unconfirmed`. */
        receipt_wait: seconds.default(48 * 3600),
        /** At SIGTERM: how long bind windows may take to answer before unbinding (keep it under systemd's TimeoutStopSec). */
        shutdown_grace: seconds.default(20),
        /**
         * A part's window slot is given back when its outcome is committed, not when the SMSC
         * answers: a kill -9 then submits at most one window per bind twice. Off: faster on small
         * windows at high TPS (answered, uncommitted outcomes may then exceed the window).
         */
        hold_window_until_written: z.boolean().default(true),
      })
      .strict()
      .default({
        batch_size: 500, poll_interval_ms: 50, max_attempts: 10, retry_initial: 5, retry_max: 600,
        validity: 48 * 3600, on_response_timeout: 'retry', max_parts: 10, receipt_wait: 48 * 3600, shutdown_grace: 20,
        hold_window_until_written: true,
      }),
    mo: z
      .object({ opt_out_keywords: z.array(z.string().min(1)).default(['STOP', 'ARRET']) })
      .strict()
      .default({ opt_out_keywords: ['STOP', 'ARRET'] }),
    log: z
      .object({ level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info') })
      .strict()
      .default({ level: 'info' }),
    webhooks: z
      .object({
        /** Let webhooks reach loopback/private/link-local addresses (off: SSRF into the operator's network). */
        allow_private_networks: z.boolean().default(false),
        retry_initial: seconds.default(5),
        retry_max: seconds.default(3600),
        /** Deliveries in flight at once, and per destination (a slow receiver only holds its own slots). */
        concurrency: z.number().int().min(1).max(1000).default(64),
        per_destination: z.number().int().min(1).max(100).default(16),
      })
      .strict()
      .default({ allow_private_networks: false, retry_initial: 5, retry_max: 3600, concurrency: 64, per_destination: 16 }),
    billing: z
      .object({
        /** Currency of balances, prices and packages (balances are integers in its smallest unit). */
        currency: z.string().regex(/^[A-Z]{3}$/, 'an ISO 4217 code such as "XAF"').default('XAF'),
        /** Credits one SMS of a package is worth: like an operator's price_per_part, so that a package of N SMS sends N parts. */
        credits_per_sms: z.number().int().min(1).default(20),
      })
      .strict()
      .default({ currency: 'XAF', credits_per_sms: 20 }),
    campaigns: z
      .object({
        /** Time zone of the accounts that set none: recurring campaigns run at their local times. */
        timezone: z.string().refine(isTimeZone, 'an IANA time zone such as "Africa/Libreville"').default('UTC'),
      })
      .strict()
      .default({ timezone: 'UTC' }),
    /** Built-in SMSC simulators started inside the daemon (demo mode; never in production). */
    simulators: z.array(simulatorSchema).default([]),
    default_sender_id: z.string().max(11).default('Relais'),
  })
  .strict()
  .superRefine(checkReferences);

/** Cross-references zod cannot express field by field: every operator a route names must exist. */
function checkReferences(cfg: { operators: { name: string; binds: { name?: string | undefined }[] }[]; routes: { operator: string; failover?: string | undefined }[]; default_route?: string | undefined }, ctx: z.RefinementCtx): void {
  const names = new Set<string>();
  cfg.operators.forEach((op, i) => {
    if (names.has(op.name)) ctx.addIssue({ code: 'custom', path: ['operators', i, 'name'], message: `duplicate operator "${op.name}"` });
    names.add(op.name);
  });
  cfg.routes.forEach((r, i) => {
    if (!names.has(r.operator)) ctx.addIssue({ code: 'custom', path: ['routes', i, 'operator'], message: `unknown operator "${r.operator}"` });
    if (r.failover !== undefined && !names.has(r.failover)) ctx.addIssue({ code: 'custom', path: ['routes', i, 'failover'], message: `unknown operator "${r.failover}"` });
  });
  if (cfg.default_route !== undefined && !names.has(cfg.default_route)) {
    ctx.addIssue({ code: 'custom', path: ['default_route'], message: `unknown operator "${cfg.default_route}"` });
  }
}

export type Config = z.output<typeof configSchema>;
export type OperatorConfig = Config['operators'][number];
export type BindConfig = OperatorConfig['binds'][number];
export type RouteConfig = Config['routes'][number];
export type SimulatorConfig = Config['simulators'][number];
export type DispatcherConfig = Config['dispatcher'];
export type RateLimits = Config['rate_limits'];
