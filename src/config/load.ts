/**
 * Loading: file (YAML or JSON) → env overrides → schema. Any problem becomes a ConfigError that
 * names the key at fault, so the daemon stops at start instead of misbehaving later.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { PROJECT_ROOT } from '../paths.js';
import { configSchema, type Config } from './schema.js';

export class ConfigError extends Error {
  constructor(readonly file: string, readonly problems: string[]) {
    super(`invalid configuration in ${file}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export const DEMO_CONFIG = resolve(PROJECT_ROOT, 'config', 'relais.demo.yaml');
const DEFAULT_CONFIG = resolve(PROJECT_ROOT, 'config', 'relais.yaml');

/** `--config` wins, then RELAIS_CONFIG, then config/relais.yaml, then the shipped demo config. */
export function resolveConfigPath(explicit?: string, env: NodeJS.ProcessEnv = process.env): string {
  if (explicit) return resolve(explicit);
  if (env.RELAIS_CONFIG) return resolve(env.RELAIS_CONFIG);
  return existsSync(DEFAULT_CONFIG) ? DEFAULT_CONFIG : DEMO_CONFIG;
}

export function loadConfig(path: string, env: NodeJS.ProcessEnv = process.env): Config {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(path, [`cannot read: ${(err as Error).message}`]);
  }
  let raw: unknown;
  try {
    raw = path.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new ConfigError(path, [`cannot parse: ${(err as Error).message}`]);
  }
  if (typeof raw !== 'object' || raw === null) throw new ConfigError(path, ['(root): expected a mapping']);
  applyEnvOverrides(raw as Record<string, any>, env);
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) throw new ConfigError(path, parsed.error.issues.map(describeIssue));
  return finish(parsed.data, path);
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const key = issue.path.length ? issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '') : '(root)';
  return `${key}: ${issue.message}`;
}

/** Secrets and per-host values come from the environment so config files can be shared. */
function applyEnvOverrides(raw: Record<string, any>, env: NodeJS.ProcessEnv): void {
  if (env.RELAIS_HTTP_PORT) (raw.http ??= {}).port = Number(env.RELAIS_HTTP_PORT);
  if (env.RELAIS_HTTP_HOST) (raw.http ??= {}).host = env.RELAIS_HTTP_HOST;
  // Relative to the working directory, as a shell user expects of an environment variable.
  if (env.RELAIS_DB_PATH) (raw.database ??= {}).path = env.RELAIS_DB_PATH === ':memory:' ? ':memory:' : resolve(env.RELAIS_DB_PATH);
  if (env.RELAIS_DATABASE_URL) (raw.database ??= {}).url = env.RELAIS_DATABASE_URL;
  if (env.RELAIS_NODE_ID) (raw.cluster ??= {}).node_id = env.RELAIS_NODE_ID;
  if (env.RELAIS_LOG_LEVEL) (raw.log ??= {}).level = env.RELAIS_LOG_LEVEL;
  if (env.RELAIS_JWT_SECRET) (raw.auth ??= {}).jwt_secret = env.RELAIS_JWT_SECRET;
  if (!Array.isArray(raw.operators)) return;
  for (const op of raw.operators) {
    if (!op || !Array.isArray(op.binds)) continue;
    op.binds.forEach((bind: Record<string, unknown>, i: number) => {
      if (!bind || typeof bind !== 'object') return;
      const name = String(bind.name ?? `${op.name}-${i + 1}`);
      const password = env[`RELAIS_BIND_${envKey(name)}_PASSWORD`] ?? env[`RELAIS_OPERATOR_${envKey(String(op.name))}_PASSWORD`];
      if (password !== undefined) bind.password = password;
    });
  }
}

export const envKey = (name: string): string => name.toUpperCase().replace(/[^A-Z0-9]/g, '_');

function finish(cfg: Config, file: string): Config {
  for (const op of cfg.operators) {
    op.submit_id_format ??= op.receipt_id_format;
    op.binds.forEach((b, i) => (b.name ??= `${op.name}-${i + 1}`));
  }
  const bindNames = cfg.operators.flatMap((o) => o.binds.map((b) => b.name));
  const dup = bindNames.find((n, i) => bindNames.indexOf(n) !== i);
  if (dup) throw new ConfigError(file, [`operators[].binds[].name: duplicate bind name "${dup}"`]);
  if (cfg.database.path !== ':memory:') cfg.database.path = resolve(dirname(file), cfg.database.path);
  return cfg;
}
