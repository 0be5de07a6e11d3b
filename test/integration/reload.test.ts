/**
 * Live reload (issue 13): SIGHUP to a real daemon process, POST /api/admin/reload and the daemon's
 * own reload, against real simulators on real TCP. What must hold: an added operator's bind
 * connects and carries its route's messages with no restart; a removed bind drains its window,
 * loses nothing and unbinds; a bad file is refused key by key and the old routes keep serving.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { openStore } from '../../src/store/db.js';
import { accountIdOf, adminToken, call, fund, registerAndLogin } from '../support/api.js';
import { numbers, startGateway, startSimulator, tempDir, testConfig, waitFor, type OperatorInput } from '../support/harness.js';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** `relais ARGS` as an operator runs it. */
function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const c = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  c.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  c.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => c.once('exit', (code) => resolve({ code, stdout, stderr })));
}

const exited = (child: ChildProcess) => new Promise<void>((resolve) => (child.exitCode !== null ? resolve() : child.once('exit', () => resolve())));

/** A YAML config file a daemon can re-read: one line per operator, routes as given. */
function writeConfig(path: string, o: { httpPort: number; dbPath: string; operators: { name: string; port: number }[]; routes: { prefix: string; operator: string }[] }): void {
  const bind = (name: string, port: number) => `{ host: 127.0.0.1, port: ${port}, system_id: ${name}, password: pw, tps: 200, window: 10, response_timeout: 2, enquire_link_interval: 2, reconnect: { initial: 0.1, max: 0.5 } }`;
  writeFileSync(path, [
    `http: { host: 127.0.0.1, port: ${o.httpPort} }`,
    `database: { path: ${o.dbPath} }`,
    'numbering: { country_code: "241" }',
    'log: { level: warn }',
    `operators: [${o.operators.map((op) => `{ name: ${op.name}, binds: [${bind(op.name, op.port)}] }`).join(', ')}]`,
    `routes: [${o.routes.map((r) => `{ prefix: "${r.prefix}", operator: ${r.operator} }`).join(', ')}]`,
    'dispatcher: { poll_interval_ms: 10, retry_initial: 0.1, retry_max: 0.5, shutdown_grace: 3 }',
  ].join('\n'));
}

test('SIGHUP adds an operator with a bind and a route: a message to that route goes out through the new bind, with no restart', async () => {
  const tmp = tempDir();
  const airtel = await startSimulator({ systemId: 'airtel', password: 'pw' });
  const moov = await startSimulator({ systemId: 'moov', password: 'pw' });
  const dbPath = join(tmp.dir, 'relais.db');
  const configPath = join(tmp.dir, 'relais.yaml');
  const httpPort = await freePort();
  const base = { url: `http://127.0.0.1:${httpPort}` };

  // The account, prepared by an in-process daemon on the same file.
  const setup = await startGateway([{ name: 'airtel', binds: [{ port: airtel.port }] }], {}, dbPath);
  const token = await registerAndLogin(setup, 'hup@example.com');
  await fund(setup, await accountIdOf(setup, token), 10_000);
  await setup.cleanup();
  const sessionsBefore = airtel.stats.sessions;

  writeConfig(configPath, { httpPort, dbPath, operators: [{ name: 'airtel', port: airtel.port }], routes: [{ prefix: '+24162', operator: 'airtel' }] });
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', 'serve', '--config', configPath], { stdio: ['ignore', 'pipe', 'pipe'] });
  let logs = '';
  child.stdout!.on('data', (d: Buffer) => (logs += d.toString()));
  child.stderr!.on('data', (d: Buffer) => process.stderr.write(d));
  const binds = async () => ((await (await fetch(`${base.url}/ops/binds`)).json()) as { data: { operator: string; name: string; state: string }[] }).data;
  try {
    await waitFor(async () => (await fetch(`${base.url}/readyz`).catch(() => null))?.status === 200, 30_000, 'daemon ready');
    const before = await call(base, 'POST', '/api/messages/send', { token, body: { recipients: ['+24177000001'], message: 'before the reload' } });
    assert.equal(before.json.data.failures[0].error, 'no_route', `no route to +24177 yet: ${before.text}`);

    writeConfig(configPath, {
      httpPort, dbPath,
      operators: [{ name: 'airtel', port: airtel.port }, { name: 'moov', port: moov.port }],
      routes: [{ prefix: '+24162', operator: 'airtel' }, { prefix: '+24177', operator: 'moov' }],
    });
    const pid = child.pid!;
    process.kill(pid, 'SIGHUP');
    await waitFor(async () => (await binds()).some((b) => b.operator === 'moov' && b.state === 'bound'), 10_000, 'moov bound after SIGHUP');
    const metrics = await (await fetch(`${base.url}/metrics`)).text();
    assert.match(metrics, /relais_bind_up\{operator="moov",bind="moov-1"\} 1/);

    const sent = await call(base, 'POST', '/api/messages/send', { token, body: { recipients: ['+24177000001', '+24162000001'], message: 'after the reload' } });
    assert.equal(sent.status, 200, sent.text);
    await waitFor(() => moov.received.some((r) => r.destination.endsWith('24177000001') && r.status === 0), 10_000, 'moov SMSC got the message');
    await waitFor(() => airtel.received.some((r) => r.destination.endsWith('24162000001') && r.status === 0), 10_000, 'airtel SMSC got its message');
    const store = openStore(dbPath);
    try {
      await waitFor(async () => (await store.db.selectFrom('messages').select('status').where('recipient', '=', '+24177000001').executeTakeFirst())?.status === 'delivered', 10_000, 'delivered');
      const row = await store.db.selectFrom('messages').select(['operator', 'bind']).where('recipient', '=', '+24177000001').executeTakeFirstOrThrow();
      assert.deepEqual(row, { operator: 'moov', bind: 'moov-1' });
    } finally {
      await store.close();
    }
    assert.equal(child.exitCode, null, 'the daemon never restarted');

    // The operator's CLI against the same daemon: status shows the new bind, reload of an unchanged file changes nothing.
    const status = await cli(['status', '--config', configPath]);
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /^moov\s+\d+\s+moov-1\s+bound\s+\S+\s+\d{4}-\d\d-\d\dT/m);
    const again = await cli(['reload', '--config', configPath]);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /nothing changed/);
    assert.equal(airtel.stats.sessions, sessionsBefore + 1, 'the airtel bind was left alone: one session');

    // A bad file: SIGHUP logs the keys and keeps the running config.
    writeFileSync(configPath, `http: { host: 127.0.0.1, port: ${httpPort} }\ndatabase: { path: ${dbPath} }\nnumbering: { country_code: "241" }\noperators: [{ name: airtel, binds: [{ host: 127.0.0.1, port: ${airtel.port}, system_id: airtel, password: pw, tps: -1 }] }]\nroutes: [{ prefix: "+24177", operator: nobody }]\n`);
    process.kill(pid, 'SIGHUP');
    await waitFor(() => logs.includes('configuration refused'), 10_000, 'the refusal logged');
    const refusal = logs.split('\n').find((l) => l.includes('configuration refused'))!;
    assert.match(refusal, /operators\[0\]\.binds\[0\]\.tps/);
    assert.match(refusal, /routes\[0\]\.operator/);
    assert.equal((await binds()).length, 2, 'binds unchanged');
    const still = await call(base, 'POST', '/api/messages/send', { token, body: { recipients: ['+24177000002'], message: 'still routed' } });
    assert.equal(still.status, 200, still.text);
    await waitFor(() => moov.received.some((r) => r.destination.endsWith('24177000002')), 10_000, 'old routes still serve');
  } finally {
    child.kill('SIGTERM');
    await exited(child);
    await airtel.stop();
    await moov.stop();
    tmp.cleanup();
  }
});

test('a removed bind stops taking parts, drains its window and unbinds: nothing lost, nothing failed, nothing sent twice', async () => {
  const sim = await startSimulator({ systemId: 'airtel', password: 'pw', respDelayMs: 150 });
  const ops: OperatorInput[] = [{ name: 'airtel', binds: [{ port: sim.port, tps: 100, window: 10 }, { port: sim.port, tps: 100, window: 10 }] }];
  const gw = await startGateway(ops);
  try {
    await waitFor(() => gw.binds.every((b) => b.state === 'bound'), 5_000, 'both bound');
    const ids = await gw.send(numbers(300), 'drain me');
    const second = gw.binds.find((b) => b.name === 'airtel-2')!;
    await waitFor(() => second.windowUsed >= 5, 5_000, 'airtel-2 window in use');
    const unbindsBefore = sim.stats.unbinds;

    const next = testConfig(gw.config.database.path, [{ name: 'airtel', binds: [{ port: sim.port, tps: 100, window: 10 }] }], { log: { level: 'silent' } });
    const report = await gw.reload(next);
    assert.deepEqual(report.binds.removed, ['airtel-2']);
    assert.ok(!gw.binds.includes(second), 'airtel-2 leaves the bind list at once');
    assert.equal(second.canSubmit, false);

    await waitFor(() => second.state === 'stopped', 5_000, 'airtel-2 stopped');
    assert.equal(sim.stats.unbinds, unbindsBefore + 1, 'airtel-2 said unbind');
    const rows = await gw.waitFinal(ids, 20_000);
    assert.ok(rows.every((r) => r.status === 'delivered'), `all delivered: ${JSON.stringify(rows.filter((r) => r.status !== 'delivered').slice(0, 3))}`);
    assert.ok(rows.some((r) => r.bind === 'airtel-2'), 'airtel-2 carried part of the traffic');
    const accepted = sim.received.filter((r) => r.status === 0).map((r) => r.destination);
    assert.equal(accepted.length, 300, 'each message reached the SMSC once');
    assert.equal(new Set(accepted).size, 300);
    await waitFor(async () => !(await gw.metrics.registry.metrics()).includes('bind="airtel-2"}'), 2_000, 'its bind_up series left /metrics');
  } finally {
    await gw.cleanup();
    await sim.stop();
  }
});

test('POST /api/admin/reload: a bad file is refused with every key named and the old routes still serve; a good one applies routes, TPS and binds live and names what needs a restart', async () => {
  const tmp = tempDir();
  const airtel = await startSimulator({ systemId: 'airtel', password: 'pw' });
  const moov = await startSimulator({ systemId: 'moov', password: 'pw' });
  const dbPath = join(tmp.dir, 'relais.db');
  const configPath = join(tmp.dir, 'relais.yaml');
  const airtelPort = airtel.port;
  const gw = await startGateway([{ name: 'airtel', binds: [{ port: airtel.port }] }], {}, dbPath, undefined, { configPath });
  try {
    const admin = await adminToken(gw);
    const user = await registerAndLogin(gw, 'reload-user@example.com');
    await fund(gw, await accountIdOf(gw, user), 10_000);

    writeFileSync(configPath, [
      'http: { host: 127.0.0.1, port: 0 }',
      `database: { path: ${dbPath} }`,
      'numbering: { country_code: "241" }',
      `operators: [{ name: airtel, binds: [{ host: 127.0.0.1, port: ${airtel.port}, system_id: airtel, password: pw, tps: -5 }] }]`,
      'routes: [{ prefix: "+24162", operator: nobody }]',
    ].join('\n'));
    const refused = await call(gw, 'POST', '/api/admin/reload', { token: admin });
    assert.equal(refused.status, 422, refused.text);
    assert.deepEqual(Object.keys(refused.json.errors).sort(), ['operators[0].binds[0].tps', 'routes[0].operator']);
    const local = await call(gw, 'POST', '/ops/reload');
    assert.equal(local.status, 422);
    assert.ok(local.json.errors.some((e: string) => e.startsWith('routes[0].operator')));
    const forbidden = await call(gw, 'POST', '/api/admin/reload', { token: user });
    assert.equal(forbidden.status, 403);

    const ok = await call(gw, 'POST', '/api/messages/send', { token: user, body: { recipients: ['+24162000010'], message: 'old routes' } });
    assert.equal(ok.status, 200, ok.text);
    await waitFor(() => airtel.received.some((r) => r.destination.endsWith('24162000010')), 10_000, 'old route still serves');

    // Messages queued for airtel while its SMSC is away; the reload moves +24162 to moov.
    await airtel.stop();
    await waitFor(() => gw.binds[0]!.state !== 'bound', 5_000, 'airtel down');
    const waiting = await gw.send(numbers(20, '+24162', 500), 'queued while airtel is down');
    writeFileSync(configPath, [
      'http: { host: 127.0.0.1, port: 9999 }',
      `database: { path: ${dbPath} }`,
      'numbering: { country_code: "241" }',
      'rate_limits: { send_per_minute: 7 }',
      'log: { level: silent }',
      `operators: [{ name: airtel, binds: [{ host: 127.0.0.1, port: ${airtelPort}, system_id: airtel, password: pw, tps: 42 }] }, { name: moov, price_per_part: 25, binds: [{ host: 127.0.0.1, port: ${moov.port}, system_id: moov, password: pw, tps: 50 }] }]`,
      'routes: [{ prefix: "+24162", operator: moov }]',
    ].join('\n'));
    const applied = await call(gw, 'POST', '/api/admin/reload', { token: admin });
    assert.equal(applied.status, 200, applied.text);
    const report = applied.json.data;
    assert.deepEqual(report.binds, { added: ['moov-1'], removed: [], replaced: [], retuned: ['airtel-1'] });
    assert.ok(report.restart_needed.includes('http.port'), JSON.stringify(report.restart_needed));
    assert.ok(report.applied.includes('routes') && report.applied.includes('rate_limits.send_per_minute'));
    assert.equal(report.rerouted, 20);
    assert.equal(gw.binds.find((b) => b.name === 'airtel-1')!.cfg.tps, 42);

    const rows = await gw.waitFinal(waiting, 15_000);
    assert.ok(rows.every((r) => r.status === 'delivered' && r.bind === 'moov-1'), JSON.stringify(rows.slice(0, 2)));
    const limited = await call(gw, 'POST', '/api/messages/send', { token: user, body: { recipients: ['+24162000011'], message: 'new limit' } });
    assert.equal(limited.headers.get('x-ratelimit-limit'), '7', 'rate_limits.send_per_minute applies to the next request');
    const binds = await call(gw, 'GET', '/api/admin/binds', { token: admin });
    assert.deepEqual(binds.json.data.map((b: { name: string }) => b.name), ['airtel-1', 'moov-1']);
    const status = await call(gw, 'GET', '/api/admin/status', { token: admin });
    assert.equal(status.status, 200, status.text);
    const moovStatus = status.json.data.operators.find((o: { name: string }) => o.name === 'moov');
    assert.equal(moovStatus.binds[0].state, 'bound');
    assert.ok(moovStatus.binds[0].last_minute.submitted >= 20, JSON.stringify(moovStatus));
    assert.ok(moovStatus.binds[0].last_minute.receipts >= 20);
    assert.equal(status.json.data.operators.find((o: { name: string }) => o.name === 'airtel').binds[0].tps.configured, 42);
    assert.equal((await call(gw, 'GET', '/api/admin/status', { token: user })).status, 403);
    const audit = await gw.store.db.selectFrom('audit_logs').select('action').where('action', '=', 'gateway.config_reloaded').execute();
    assert.equal(audit.length, 1);
  } finally {
    await gw.cleanup();
    await moov.stop();
    tmp.cleanup();
  }
});
