/**
 * Crash safety: a daemon killed with SIGKILL mid-run and restarted on the same database loses
 * nothing; the only duplicates are submits that were in a window without an answer.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadConfig } from '../../src/config/load.js';
import { Router } from '../../src/routing/router.js';
import { MessageService } from '../../src/services/messages.js';
import { migrate, openStore } from '../../src/store/db.js';
import { numbers, startSimulator, tempDir, waitFor } from '../support/harness.js';

const WINDOW = 10;

function startChild(configPath: string): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', 'serve', '--config', configPath], { stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr!.on('data', (d: Buffer) => process.stderr.write(d));
  return child;
}

const exited = (child: ChildProcess) => new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

test('kill -9 mid-run, restart on the same database: every accepted message reaches a final state', async () => {
  const tmp = tempDir();
  const sim = await startSimulator({ systemId: 'airtel', password: 'pw', receiptDelayMs: 30, respDelayMs: 5 });
  const configPath = join(tmp.dir, 'relais.yaml');
  writeFileSync(configPath, `
http: { host: 127.0.0.1, port: 0 }
database: { path: ${join(tmp.dir, 'relais.db')} }
numbering: { country_code: "241" }
log: { level: warn }
operators:
  - name: airtel
    binds:
      - { host: 127.0.0.1, port: ${sim.port}, system_id: airtel, password: pw, tps: 300, window: ${WINDOW},
          reconnect: { initial: 0.1, max: 0.5 } }
routes:
  - { prefix: "+24162", operator: airtel }
dispatcher: { poll_interval_ms: 10, retry_initial: 0.1, retry_max: 0.5 }
`);
  const config = loadConfig(configPath);
  const store = openStore(config.database.path);
  await migrate(store);
  const service = new MessageService(config, new Router(config.routes), store.repos.blacklist);
  const total = 600;
  const req = { accountId: null, sender: 'ACME', recipients: numbers(total), text: 'crash test' };
  const plan = await service.plan(req);
  const ids = (await store.transaction((tx) => service.commit(tx, req, plan))).results.flatMap((r) => (r.ok ? [r.id] : []));
  assert.equal(ids.length, total);

  let child = startChild(configPath);
  try {
    await waitFor(() => sim.received.length >= 200, 30_000, '200 submits before the kill');
    child.kill('SIGKILL');
    await exited(child);
    const mid = await store.db.selectFrom('messages').select(['status', (eb) => eb.fn.countAll<number>().as('n')]).groupBy('status').execute();
    assert.ok(mid.some((r) => r.status === 'queued'), `some messages were still queued at the kill: ${JSON.stringify(mid)}`);

    child = startChild(configPath);
    await waitFor(async () => {
      const left = await store.db.selectFrom('messages').select('id').where('status', '!=', 'delivered').limit(1).execute();
      return left.length === 0;
    }, 60_000, 'every message delivered after the restart').catch(async (err) => {
      const left = await store.db.selectFrom('messages').select(['status', 'attempts', 'error', (eb) => eb.fn.countAll<number>().as('n')]).where('status', '!=', 'delivered').groupBy(['status', 'attempts', 'error']).execute();
      throw new Error(`${(err as Error).message}: ${JSON.stringify(left)} sim=${JSON.stringify(sim.stats)}`);
    });

    const accepted = sim.received.filter((r) => r.status === 0);
    const perNumber = new Map<string, number>();
    for (const r of accepted) perNumber.set(r.destination, (perNumber.get(r.destination) ?? 0) + 1);
    assert.equal(perNumber.size, total, 'every message reached the SMSC');
    const duplicates = accepted.length - total;
    assert.ok(duplicates <= WINDOW, `${duplicates} duplicates, more than one window (${WINDOW})`);
    const unbindsBefore = sim.stats.unbinds;
    child.kill('SIGTERM');
    assert.equal(await exited(child), 0, 'clean exit on SIGTERM');
    assert.equal(sim.stats.unbinds, unbindsBefore + 1, 'SIGTERM unbinds before closing');
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    await store.close();
    await sim.stop();
    tmp.cleanup();
  }
});
