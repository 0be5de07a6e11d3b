/**
 * What a reload changes, worked out before anything is touched: the running config against the
 * new one, whole. Pure: the daemon applies the plan; this only says what it holds.
 *
 * Live: operators and their binds, routes, prices, rate limits, numbering, the dispatcher's
 * values and the log level. Everything else is read once at start (the listener, the database,
 * secrets, the built-in simulators, ...): a change there is reported as needing a restart.
 */
import { isDeepStrictEqual } from 'node:util';
import type { BindConfig, Config, OperatorConfig } from './schema.js';

export type NamedBind = BindConfig & { name: string };

/** Keys of a bind that identify its session: a change means a new session (a replacement). */
const SESSION_KEYS = ['host', 'port', 'tls', 'system_id', 'password', 'system_type', 'mode'] as const satisfies readonly (keyof BindConfig)[];
/** Keys of an operator that the bind's session decodes with (ids, alphabet): also a replacement. */
const DECODING_KEYS = ['receipt_id_format', 'submit_id_format', 'default_alphabet'] as const satisfies readonly (keyof OperatorConfig)[];
/** Top-level sections that apply live (all others need a restart). */
const LIVE_SECTIONS = ['operators', 'routes', 'default_route', 'rate_limits', 'numbering', 'dispatcher', 'log'] as const satisfies readonly (keyof Config)[];

export interface BindChange {
  operator: OperatorConfig;
  bind: NamedBind;
  /** The keys that changed (never their values: a password is a key like another). */
  keys: string[];
}

export interface ReloadPlan {
  next: Config;
  binds: {
    added: BindChange[];
    removed: { operator: string; name: string }[];
    /** New session, same name: the old one drains and unbinds, then this one binds. */
    replaced: BindChange[];
    /** TPS, window, timeouts, backoff: changed in place on the running session. */
    retuned: BindChange[];
  };
  operators: { added: string[]; removed: string[] };
  /** Dotted keys that changed and apply live, for the log's diff. */
  applied: string[];
  /** Dotted keys that changed but are read only at start. */
  restartNeeded: string[];
}

export function planReload(current: Config, next: Config): ReloadPlan {
  const plan: ReloadPlan = {
    next,
    binds: { added: [], removed: [], replaced: [], retuned: [] },
    operators: { added: [], removed: [] },
    applied: [],
    restartNeeded: [],
  };
  planOperators(plan, current.operators, next.operators);
  for (const section of LIVE_SECTIONS) {
    if (section === 'operators') continue;
    plan.applied.push(...changedKeys(section, current[section], next[section]));
  }
  for (const section of Object.keys({ ...current, ...next }) as (keyof Config)[]) {
    if ((LIVE_SECTIONS as readonly string[]).includes(section)) continue;
    plan.restartNeeded.push(...changedKeys(section, current[section], next[section]));
  }
  return plan;
}

/** True when nothing at all differs. */
export function isEmptyPlan(plan: ReloadPlan): boolean {
  return plan.applied.length === 0 && plan.restartNeeded.length === 0;
}

function planOperators(plan: ReloadPlan, before: readonly OperatorConfig[], after: readonly OperatorConfig[]): void {
  const old = new Map(before.map((o) => [o.name, o]));
  const now = new Map(after.map((o) => [o.name, o]));
  for (const [name, op] of old) {
    if (now.has(name)) continue;
    plan.operators.removed.push(name);
    plan.applied.push(`operators.${name}`);
    for (const b of op.binds) plan.binds.removed.push({ operator: name, name: b.name! });
  }
  for (const [name, op] of now) {
    const was = old.get(name);
    if (!was) {
      plan.operators.added.push(name);
      plan.applied.push(`operators.${name}`);
      for (const b of op.binds) plan.binds.added.push({ operator: op, bind: named(b), keys: [] });
      continue;
    }
    planBinds(plan, was, op);
    const { binds: _a, ...restWas } = was;
    const { binds: _b, ...restNow } = op;
    plan.applied.push(...changedKeys(`operators.${name}`, restWas, restNow));
  }
}

function planBinds(plan: ReloadPlan, was: OperatorConfig, op: OperatorConfig): void {
  const old = new Map(was.binds.map((b) => [b.name!, named(b)]));
  const decodingChanged = DECODING_KEYS.filter((k) => was[k] !== op[k]);
  for (const [name] of old) {
    if (!op.binds.some((b) => b.name === name)) {
      plan.binds.removed.push({ operator: op.name, name });
      plan.applied.push(`operators.${op.name}.binds.${name}`);
    }
  }
  for (const b of op.binds.map(named)) {
    const prev = old.get(b.name);
    if (!prev) {
      plan.binds.added.push({ operator: op, bind: b, keys: [] });
      plan.applied.push(`operators.${op.name}.binds.${b.name}`);
      continue;
    }
    const keys = changedKeys('', prev, b);
    if (!keys.length && !decodingChanged.length) continue;
    const change = { operator: op, bind: b, keys: [...keys, ...decodingChanged.map((k) => `(operator).${k}`)] };
    const replace = decodingChanged.length > 0 || keys.some((k) => (SESSION_KEYS as readonly string[]).includes(k.split('.')[0]!));
    (replace ? plan.binds.replaced : plan.binds.retuned).push(change);
    plan.applied.push(...keys.map((k) => `operators.${op.name}.binds.${b.name}.${k}`));
  }
}

const named = (b: BindConfig): NamedBind => ({ ...b, name: b.name! });

/** Dotted paths of the leaves that differ (arrays compare whole: a route list is one value). */
function changedKeys(path: string, a: unknown, b: unknown): string[] {
  if (isDeepStrictEqual(a, b)) return [];
  if (!isPlainObject(a) || !isPlainObject(b)) return [path];
  const out: string[] = [];
  for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) out.push(...changedKeys(path ? `${path}.${key}` : key, a[key], b[key]));
  return out;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
