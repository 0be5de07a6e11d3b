import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { ConfigError, DEMO_CONFIG, loadConfig } from '../../src/config/load.js';
import { configSchema } from '../../src/config/schema.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const EXAMPLE_CONFIG = join(ROOT, 'config', 'relais.example.yaml');
const dir = mkdtempSync(join(tmpdir(), 'relais-config-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));

let counter = 0;
/** Writes a config file into the temp dir and returns its path. */
function writeConfig(text: string, ext = 'yaml'): string {
  const path = join(dir, `config-${++counter}.${ext}`);
  writeFileSync(path, text);
  return path;
}

/** A small valid config; `extra` is appended at the top level, `bindExtra` inside the first bind. */
function minimal({ extra = '', bindExtra = '', numbering = 'numbering: { country_code: "241" }' } = {}): string {
  return `database: { path: relais.db }
${numbering}
operators:
  - name: airtel
    binds:
      - { host: smsc.example, port: 2775, system_id: relais, password: pw, tps: 10${bindExtra} }
${extra}`;
}

/** Asserts loadConfig refuses the file with a ConfigError whose message contains every `needles`. */
function assertRefused(path: string, ...needles: string[]): ConfigError {
  let caught: unknown;
  try {
    loadConfig(path, {});
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof ConfigError, `expected a ConfigError, got ${String(caught)}`);
  for (const needle of needles) assert.ok(caught.message.includes(needle), `"${needle}" not in:\n${caught.message}`);
  return caught;
}

/** Environment for child processes: the test's own, minus any RELAIS_* override. */
function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('RELAIS_')));
}

test('the shipped demo config loads', () => {
  const cfg = loadConfig(DEMO_CONFIG, {});
  assert.deepEqual(cfg.operators.map((o) => o.name), ['airtel', 'moov']);
  assert.equal(cfg.simulators.length, 2);
  assert.equal(cfg.numbering.country_code, '241');
  // Relative database paths are relative to the config file's directory.
  assert.equal(cfg.database.path, join(ROOT, 'data', 'relais.db'));
});

test('config/relais.example.yaml loads and describes the production layout', () => {
  const cfg = loadConfig(EXAMPLE_CONFIG, {});
  assert.equal(cfg.numbering.country_code, '241');
  assert.equal(cfg.numbering.national_prefix, '0');
  const airtel = cfg.operators.find((o) => o.name === 'airtel');
  const moov = cfg.operators.find((o) => o.name === 'moov');
  assert.ok(airtel && moov);
  assert.equal(airtel.binds.length, 2);
  assert.deepEqual(airtel.binds.map((b) => b.mode), ['transceiver', 'transceiver']);
  assert.deepEqual(moov.binds.map((b) => b.mode), ['transceiver', 'receiver']);
  const routes = Object.fromEntries(cfg.routes.map((r) => [r.prefix, [r.operator, r.failover]]));
  assert.deepEqual(routes, {
    '+24162': ['airtel', 'moov'], '+24166': ['airtel', 'moov'], '+24174': ['airtel', 'moov'],
    '+24177': ['moov', 'airtel'], '+24165': ['moov', 'airtel'], '+24160': ['moov', 'airtel'],
  });
  assert.deepEqual(cfg.simulators, [], 'a production example must not start simulators');
  assert.equal(cfg.database.path, '/var/lib/relais/relais.db');
});

test('config/relais.example.yaml mentions every key of the schema', () => {
  const text = readFileSync(EXAMPLE_CONFIG, 'utf8');
  const raw = parseYaml(text) as Record<string, unknown>;
  assert.ok(!('simulators' in raw), 'simulators: is for demos only');
  const missing = schemaKeys(configSchema)
    .filter((k) => k !== 'simulators')
    .filter((k) => !new RegExp(`(^|[^\\w])${k}:`, 'm').test(text));
  assert.deepEqual(missing, []);
});

/** Every object key in a zod schema, recursively (through defaults, optionals and arrays). */
function schemaKeys(schema: unknown, skip = new Set(['simulators'])): string[] {
  const def = (schema as { def?: { type: string; shape?: Record<string, unknown>; innerType?: unknown; element?: unknown } }).def;
  if (!def) return [];
  if (def.type === 'object' && def.shape) {
    return Object.entries(def.shape).flatMap(([k, v]) => (skip.has(k) ? [k] : [k, ...schemaKeys(v, skip)]));
  }
  if ((def.type === 'default' || def.type === 'optional' || def.type === 'nullable') && def.innerType) return schemaKeys(def.innerType, skip);
  if (def.type === 'array' && def.element) return schemaKeys(def.element, skip);
  return [];
}

test('a minimal config loads with the defaults filled in', () => {
  const cfg = loadConfig(writeConfig(minimal()), {});
  assert.deepEqual(cfg.http, { host: '0.0.0.0', port: 8080, body_limit_kb: 2048, flow_send_wait: 2, trust_proxy: false });
  assert.equal(cfg.database.synchronous, 'normal');
  assert.equal(cfg.database.path, join(dir, 'relais.db'));
  assert.equal(cfg.numbering.national_prefix, '0');
  const bind = cfg.operators[0]!.binds[0]!;
  assert.equal(bind.mode, 'transceiver');
  assert.equal(bind.window, 10);
  assert.deepEqual(bind.reconnect, { initial: 1, max: 60, jitter: 0.2, refused_initial: 30, refused_max: 600 });
  assert.equal(cfg.operators[0]!.submit_id_format, 'hex');
  assert.deepEqual(cfg.mo.opt_out_keywords, ['STOP', 'ARRET']);
  assert.equal(cfg.log.level, 'info');
  assert.equal(cfg.default_sender_id, 'Relais');
});

test('a JSON config loads too', () => {
  const json = JSON.stringify({
    database: { path: ':memory:' },
    numbering: { country_code: '241' },
    operators: [{ name: 'airtel', binds: [{ host: 'h', port: 2775, system_id: 's', password: 'p', tps: 5 }] }],
  });
  const cfg = loadConfig(writeConfig(json, 'json'), {});
  assert.equal(cfg.database.path, ':memory:');
});

test('a negative tps names operators[0].binds[0].tps', () => {
  assertRefused(writeConfig(minimal().replace('tps: 10', 'tps: -5')), 'operators[0].binds[0].tps');
});

test('a missing numbering.country_code is named', () => {
  assertRefused(writeConfig(minimal({ numbering: 'numbering: { national_prefix: "0" }' })), 'numbering.country_code');
});

test('a missing numbering block is named', () => {
  assertRefused(writeConfig(minimal({ numbering: '' })), 'numbering');
});

test('a route naming an unknown operator names routes[0].operator', () => {
  const err = assertRefused(
    writeConfig(minimal({ extra: 'routes:\n  - { prefix: "+24162", operator: orange }\n' })),
    'routes[0].operator',
    'orange',
  );
  assert.equal(err.problems.length, 1);
});

test('an unknown failover or default_route operator is named', () => {
  assertRefused(writeConfig(minimal({ extra: 'routes:\n  - { prefix: "+24162", operator: airtel, failover: orange }\n' })), 'routes[0].failover');
  assertRefused(writeConfig(minimal({ extra: 'default_route: orange\n' })), 'default_route', 'orange');
});

test('an unknown top-level key is named', () => {
  assertRefused(writeConfig(minimal({ extra: 'simulator: []\n' })), 'simulator');
});

test('an unknown key inside a bind is named', () => {
  assertRefused(writeConfig(minimal({ bindExtra: ', windw: 5' })), 'operators[0].binds[0]', 'windw');
});

test('mode: bogus is refused and names the key', () => {
  assertRefused(writeConfig(minimal({ bindExtra: ', mode: bogus' })), 'operators[0].binds[0].mode');
});

test('a YAML syntax error is a ConfigError that names the file and the line', () => {
  const path = writeConfig(minimal() + 'routes: [ { prefix: "+24162"\n');
  const err = assertRefused(path, path);
  assert.match(err.message, /line \d+/);
});

test('an empty file is refused', () => {
  assertRefused(writeConfig(''), '(root)');
});

test('a nonexistent file is a ConfigError naming the file', () => {
  const path = join(dir, 'does-not-exist.yaml');
  assertRefused(path, path, 'ENOENT');
});

test('several problems are reported at once', () => {
  const fieldErrors = assertRefused(
    writeConfig(minimal({ bindExtra: ', mode: bogus, window: 0' }).replace('tps: 10', 'tps: -5')),
    'operators[0].binds[0].tps',
    'operators[0].binds[0].mode',
    'operators[0].binds[0].window',
  );
  assert.equal(fieldErrors.problems.length, 3);
  const withReference = assertRefused(
    writeConfig(minimal({ extra: 'routes:\n  - { prefix: "+24162", operator: orange }\n' }).replace('tps: 10', 'tps: -5')),
    'operators[0].binds[0].tps',
    'routes[0].operator',
  );
  assert.equal(withReference.problems.length, 2);
});

test('trx / tx / rx become transceiver / transmitter / receiver', () => {
  const cfg = loadConfig(writeConfig(`database: { path: relais.db }
numbering: { country_code: "241" }
operators:
  - name: airtel
    binds:
      - { host: h, port: 2775, system_id: s, password: p, tps: 5, mode: trx }
      - { host: h, port: 2775, system_id: s, password: p, tps: 5, mode: tx }
      - { host: h, port: 2775, system_id: s, password: p, tps: 5, mode: rx }
      - { host: h, port: 2775, system_id: s, password: p, tps: 5, mode: transmitter }
`), {});
  assert.deepEqual(cfg.operators[0]!.binds.map((b) => b.mode), ['transceiver', 'transmitter', 'receiver', 'transmitter']);
});

test('bind names default to <operator>-<n>', () => {
  const cfg = loadConfig(writeConfig(`database: { path: relais.db }
numbering: { country_code: "241" }
operators:
  - name: airtel
    binds:
      - { host: h, port: 2775, system_id: s, password: p, tps: 5 }
      - { host: h, port: 2775, system_id: s, password: p, tps: 5 }
  - name: moov
    binds:
      - { name: moov-main, host: h, port: 2775, system_id: s, password: p, tps: 5 }
      - { host: h, port: 2775, system_id: s, password: p, tps: 5 }
`), {});
  assert.deepEqual(cfg.operators.map((o) => o.binds.map((b) => b.name)), [['airtel-1', 'airtel-2'], ['moov-main', 'moov-2']]);
});

test('duplicate operator names are refused', () => {
  assertRefused(writeConfig(minimal({ extra: `  - name: airtel
    binds:
      - { host: h2, port: 2775, system_id: s, password: p, tps: 5 }
` })), 'operators[1].name', 'duplicate operator "airtel"');
});

test('duplicate bind names are refused', () => {
  assertRefused(writeConfig(minimal({ extra: `  - name: moov
    binds:
      - { name: airtel-1, host: h2, port: 2775, system_id: s, password: p, tps: 5 }
` })), 'duplicate bind name "airtel-1"');
});

test('environment overrides apply over the file', () => {
  const dbPath = join(dir, 'from-env.db');
  const path = writeConfig(`database: { path: relais.db }
numbering: { country_code: "241" }
operators:
  - name: airtel
    binds:
      - { host: h, port: 2775, system_id: s, password: filepw, tps: 5 }
      - { host: h, port: 2775, system_id: s, password: filepw, tps: 5 }
  - name: moov
    binds:
      - { name: moov-trx, host: h, port: 2775, system_id: s, password: filepw, tps: 5 }
`);
  const cfg = loadConfig(path, {
    RELAIS_HTTP_PORT: '9099',
    RELAIS_HTTP_HOST: '127.0.0.1',
    RELAIS_DB_PATH: dbPath,
    RELAIS_LOG_LEVEL: 'debug',
    RELAIS_BIND_AIRTEL_1_PASSWORD: 'envpw1',
    RELAIS_OPERATOR_MOOV_PASSWORD: 'moovpw',
  });
  assert.equal(cfg.http.port, 9099);
  assert.equal(cfg.http.host, '127.0.0.1');
  assert.equal(cfg.database.path, dbPath);
  assert.equal(cfg.log.level, 'debug');
  assert.deepEqual(cfg.operators[0]!.binds.map((b) => b.password), ['envpw1', 'filepw']);
  assert.equal(cfg.operators[1]!.binds[0]!.password, 'moovpw');
});

test('a bind password may come from the environment alone', () => {
  const path = writeConfig(`database: { path: relais.db }
numbering: { country_code: "241" }
operators:
  - name: airtel
    binds:
      - { host: h, port: 2775, system_id: s, tps: 5 }
`);
  assert.equal(loadConfig(path, { RELAIS_BIND_AIRTEL_1_PASSWORD: 'envpw' }).operators[0]!.binds[0]!.password, 'envpw');
  assert.throws(() => loadConfig(path, {}), (err: unknown) => err instanceof ConfigError && err.message.includes('operators[0].binds[0].password'));
});

test('a bad environment override is named like a file error', () => {
  assert.throws(
    () => loadConfig(writeConfig(minimal()), { RELAIS_HTTP_PORT: '70000' }),
    (err: unknown) => err instanceof ConfigError && err.message.includes('http.port'),
  );
});

test('relais serve with a bad config exits 78 and names the key on stderr', () => {
  const bad = writeConfig(minimal().replace('tps: 10', 'tps: -5'));
  const res = spawnSync(process.execPath, ['--import', 'tsx', 'src/main.ts', 'serve', '--config', bad], {
    cwd: ROOT, env: cleanEnv(), encoding: 'utf8', timeout: 30_000,
  });
  assert.equal(res.error, undefined, String(res.error));
  assert.equal(res.status, 78, `exit ${res.status} ${res.signal ?? ''}\nstderr: ${res.stderr}`);
  assert.ok(res.stderr.includes('operators[0].binds[0].tps'), res.stderr);
});

test('relais serve with a nonexistent config exits 78', () => {
  const missing = join(dir, 'nope.yaml');
  const res = spawnSync(process.execPath, ['--import', 'tsx', 'src/main.ts', 'serve', '--config', missing], {
    cwd: ROOT, env: cleanEnv(), encoding: 'utf8', timeout: 30_000,
  });
  assert.equal(res.status, 78, `exit ${res.status} ${res.signal ?? ''}\nstderr: ${res.stderr}`);
  assert.ok(res.stderr.includes(missing), res.stderr);
});
