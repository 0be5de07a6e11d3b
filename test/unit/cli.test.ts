/**
 * The operator's CLI: every command answers --help, a wrong flag is a usage error (exit 2, not a
 * stack trace), listings print ISO 8601 times; and the process metrics' names.
 * Each case spawns `node --import tsx src/main.ts` (~1-2 s of CPU each): they run concurrently,
 * a few per core (more only thrash a loaded machine).
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createMetrics } from '../../src/ops/metrics.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'relais-cli-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A small valid configuration whose database lives in the temp dir. */
const CONFIG = join(dir, 'relais.yaml');
writeFileSync(CONFIG, `database: { path: relais.db }
numbering: { country_code: "241" }
operators:
  - name: airtel
    binds:
      - { host: 127.0.0.1, port: 2775, system_id: relais, password: pw, tps: 10 }
`);

/** The commands of issue 13; `relais --help` may list more (each is checked too). */
const COMMANDS = ['serve', 'migrate', 'smsc-sim', 'send', 'binds', 'user', 'credits', 'sender-ids', 'packages', 'orders', 'doctor'];

interface Run { code: number | null; stdout: string; stderr: string }

/** At most this many CLI processes at once (all of this file's tests share the slots). */
let slots = availableParallelism() + 1;
const waiting: (() => void)[] = [];
async function slot<T>(fn: () => Promise<T>): Promise<T> {
  while (slots === 0) await new Promise<void>((r) => waiting.push(r));
  slots--;
  try {
    return await fn();
  } finally {
    slots++;
    waiting.shift()?.();
  }
}

/** Runs the CLI from source. RELAIS_CONFIG points nowhere unless `config` is given: help must not need one. */
const relais = (args: string[], config?: string): Promise<Run> => slot(() => spawnRelais(args, config));

function spawnRelais(args: string[], config?: string): Promise<Run> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('RELAIS_')));
  env.RELAIS_CONFIG = config ?? join(dir, 'missing.yaml');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

const describe = (args: string[], r: Run) => `relais ${args.join(' ')} → exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;
const usageOf = (cmd: string) => new RegExp(`usage: (relais )?${cmd}\\b`);

test('every command answers --help (and -h) with its own usage, exit 0, without a configuration', async () => {
  const runs = [...COMMANDS.map((cmd) => [cmd, '--help']), ['send', '-h'], ['smsc-sim', '-h'], ['user', 'list', '--help']];
  const [overall, ...results] = await Promise.all([['--help'], ...runs].map((args) => relais(args)));
  assert.equal(overall!.code, 0, describe(['--help'], overall!));
  // The commands `relais --help` lists (two-space indent, name, then its summary): the brief's, and any added since.
  const listed = [...overall!.stdout.matchAll(/^ {2}([a-z][a-z-]*) {2,}\S/gm)].map((m) => m[1]!);
  for (const cmd of COMMANDS) assert.ok(listed.includes(cmd), `relais --help lists ${cmd}:\n${overall!.stdout}`);
  const added = listed.filter((cmd) => !COMMANDS.includes(cmd)).map((cmd) => [cmd, '--help']);
  runs.push(...added);
  results.push(...(await Promise.all(added.map((args) => relais(args)))));
  runs.forEach((args, i) => {
    const r = results[i]!;
    const cmd = args[0]!;
    assert.equal(r.code, 0, describe(args, r));
    assert.match(r.stdout, usageOf(cmd), describe(args, r));
    assert.equal(r.stderr, '', describe(args, r));
  });
});

test('an unknown flag or command is a usage error: a message and the usage, exit 2', async () => {
  const cases: { args: string[]; config?: string; message: RegExp; usage: string }[] = [
    { args: ['send', '--to', '+24162000001', '--text', 'hi', '--bogus'], message: /Unknown option '--bogus'/, usage: 'send' },
    { args: ['user', 'list', '--bogus'], config: CONFIG, message: /Unknown option '--bogus'/, usage: 'user' },
    { args: ['doctor', '--verbose'], config: CONFIG, message: /Unknown option '--verbose'/, usage: 'doctor' },
    { args: ['smsc-sim', '--bogus'], message: /Unknown option '--bogus'/, usage: 'smsc-sim' },
    { args: ['orders', 'approve', '--id', '1'], config: CONFIG, message: /unknown subcommand "approve"/, usage: 'orders' },
    // Refused before anything is queued.
    { args: ['send', '--to', '+24162000001', '--text', 'hi', '--wait', 'abc'], config: CONFIG, message: /--wait needs a number of seconds/, usage: 'send' },
  ];
  const results = await Promise.all(cases.map((c) => relais(c.args, c.config)));
  cases.forEach((c, i) => {
    const r = results[i]!;
    assert.equal(r.code, 2, describe(c.args, r));
    assert.match(r.stderr, c.message, describe(c.args, r));
    assert.ok(r.stderr.includes(`usage: relais ${c.usage}`), describe(c.args, r));
    assert.doesNotMatch(r.stderr, /\n\s+at /, `no stack trace: ${describe(c.args, r)}`);
  });
});

test('listings print times as ISO 8601', async () => {
  const before = Date.now();
  const created = await relais(['user', 'create', '--email', 'iso@example.com', '--password', 'correct-horse-battery'], CONFIG);
  assert.equal(created.code, 0, describe(['user', 'create'], created));
  const list = await relais(['user', 'list', '--config', CONFIG]);
  assert.equal(list.code, 0, describe(['user', 'list'], list));
  const rows = list.stdout.trim().split('\n').map((l) => JSON.parse(l) as { email: string; created_at: unknown });
  const row = rows.find((r) => r.email === 'iso@example.com');
  assert.ok(row, list.stdout);
  assert.equal(typeof row.created_at, 'string');
  assert.match(row.created_at as string, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?Z$/);
  const at = Date.parse(row.created_at as string);
  assert.ok(at >= before - 1000 && at <= Date.now() + 1000, `created_at ${String(row.created_at)} is now`);
  // `user create` prints the same account, with the same time.
  assert.equal((JSON.parse(created.stdout) as { created_at: unknown }).created_at, row.created_at);
});

test('process metrics are named relais_process_* (not relais_process_process_*) and relais_nodejs_*', async () => {
  const { registry } = createMetrics(async () => ({}), () => ['airtel']);
  const names = registry.getMetricsAsArray().map((m) => m.name);
  assert.ok(names.includes('relais_process_cpu_user_seconds_total'), names.join(' '));
  assert.ok(names.includes('relais_nodejs_eventloop_lag_p99_seconds'), names.join(' '));
  assert.deepEqual(names.filter((n) => /^relais_process_process_|^relais_process_nodejs_/.test(n)), []);
  assert.match(await registry.getSingleMetricAsString('relais_process_cpu_user_seconds_total'), /^relais_process_cpu_user_seconds_total \d/m);
  registry.clear();
});
