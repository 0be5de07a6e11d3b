/** Everything an SMSC or a network does wrong, over real TCP: nothing is lost, nothing crashes. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Writable } from 'node:stream';
import { numbers, startGateway, startSimulator, waitFor } from '../support/harness.js';

const pdu = (commandId: number, seq: number, body = Buffer.alloc(0), status = 0): Buffer => {
  const head = Buffer.alloc(16);
  head.writeUInt32BE(16 + body.length, 0);
  head.writeUInt32BE(commandId, 4);
  head.writeUInt32BE(status, 8);
  head.writeUInt32BE(seq, 12);
  return Buffer.concat([head, body]);
};

test('a wrong password: the refused bind backs off on its own slow schedule (no storm), counted, logged, reported; it binds once the SMSC accepts', async () => {
  const sim = await startSimulator({ systemId: 'airtel', password: 'right' });
  const lines: string[] = [];
  const logTo = new Writable({ write(chunk: Buffer, _enc, done) { lines.push(...chunk.toString().split('\n').filter(Boolean)); done(); } });
  // Network failures would be retried every 50-200 ms here; refusals wait 1.5 s, then 3 s.
  const reconnect = { initial: 0.05, max: 0.2, jitter: 0, refused_initial: 1.5, refused_max: 3 };
  const gw = await startGateway([{ name: 'airtel', binds: [{ port: sim.port, password: 'wrong', reconnect }] }], { log: { level: 'warn' } }, undefined, logTo);
  try {
    const bind = gw.binds[0]!;
    await waitFor(() => bind.counters.refusals >= 1, 2000, 'a refused bind');
    await new Promise((r) => setTimeout(r, 2500));
    // Over 2.5 s: the first attempt and the one 1.5 s later; a network failure would have made ~15.
    assert.ok(sim.stats.bindsRefused <= 2, `${sim.stats.bindsRefused} refused binds in 2.5 s`);
    assert.equal(sim.stats.bindsRefused, bind.counters.refusals);
    assert.notEqual(bind.state, 'bound');
    assert.match(bind.lastError ?? '', /bind refused by SMSC: ESME_RINVPASWD/);
    const ops = (await (await fetch(`${gw.url}/ops/binds`)).json()) as { data: { last_error: string | null; counters: { refusals: number } }[] };
    assert.match(ops.data[0]!.last_error ?? '', /refused/);
    assert.equal(ops.data[0]!.counters.refusals, bind.counters.refusals);
    const metrics = await (await fetch(`${gw.url}/metrics`)).text();
    assert.match(metrics, new RegExp(`relais_bind_refusals_total\\{operator="airtel",bind="airtel-1",status="ESME_RINVPASWD"\\} ${bind.counters.refusals}\\b`));
    const refusedLines = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg?.toString().startsWith('bind refused'));
    assert.ok(refusedLines.length >= 1 && refusedLines.every((l) => l.level === 40 && l.bind === 'airtel-1' && l.status === 'ESME_RINVPASWD'), JSON.stringify(refusedLines));
    assert.ok(!lines.some((l) => l.includes('"wrong"') || l.includes(':wrong')), 'the password is never logged');
    assert.equal((await fetch(`${gw.url}/readyz`)).status, 503);
    const [id] = await gw.send(['+24162000001'], 'waits');
    await new Promise((r) => setTimeout(r, 300));
    const [row] = await gw.rows([id!]);
    // No requeue storm: an operator with no bound bind is not claimed for at all.
    assert.deepEqual([row!.status, row!.attempts], ['queued', 0]);
    // The SMSC accepts again: the bind comes up at its next attempt on the refusal backoff, not before.
    const refusals = bind.counters.refusals;
    sim.setOptions({ password: 'wrong' });
    const changedAt = Date.now();
    await waitFor(() => bind.state === 'bound', 5000, 'bound after the refusal backoff');
    assert.equal(bind.counters.refusals, refusals);
    assert.ok(Date.now() - changedAt >= 300, 'the bind waited for its backoff');
    const [done] = await gw.waitFinal([id!]);
    assert.equal(done!.status, 'delivered');
  } finally {
    await gw.cleanup();
    await sim.stop();
  }
});

test('the SMSC is unreachable (ECONNREFUSED): quick reconnects on the network backoff, no refusal counted', async () => {
  const sim = await startSimulator({ systemId: 'airtel', password: 'pw' });
  const port = sim.port;
  await sim.stop();
  const reconnect = { initial: 0.05, max: 0.1, jitter: 0, refused_initial: 30, refused_max: 600 };
  const gw = await startGateway([{ name: 'airtel', binds: [{ port, reconnect }] }]);
  try {
    const bind = gw.binds[0]!;
    await waitFor(() => bind.counters.reconnects >= 4, 2000, 'four quick reconnects');
    assert.equal(bind.counters.refusals, 0);
    assert.match(bind.lastError ?? '', /ECONNREFUSED/);
  } finally {
    await gw.cleanup();
  }
});

test('an SMSC that comes up later: the queued messages go out once the bind succeeds', async () => {
  const sim = await startSimulator({ systemId: 'airtel', password: 'pw' });
  const port = sim.port;
  await sim.stop();
  const gw = await startGateway([{ name: 'airtel', binds: [{ port, reconnect: { initial: 0.05, max: 0.2, jitter: 0.1 } }] }]);
  const late = await startSimulator({ systemId: 'airtel', password: 'pw' });
  try {
    const ids = await gw.send(numbers(5), 'later');
    await new Promise((r) => setTimeout(r, 200));
    assert.ok((await gw.rows(ids)).every((r) => r.attempts === 0));
    await late.stop();
    const again = await startSimulator({ systemId: 'airtel', password: 'pw', port });
    try {
      const rows = await gw.waitFinal(ids);
      assert.ok(rows.every((r) => r.status === 'delivered'));
    } finally {
      await again.stop();
    }
  } finally {
    await gw.cleanup();
  }
});

test('the link drops mid-run: the bind reconnects and every message ends delivered', async () => {
  const sim = await startSimulator({ systemId: 'airtel', password: 'pw', faults: { dropAfterSubmits: 40 } });
  const gw = await startGateway([{ name: 'airtel', binds: [{ port: sim.port, tps: 1000, window: 10 }] }]);
  try {
    const ids = await gw.send(numbers(150), 'drop');
    await waitFor(() => sim.stats.sessions >= 3, 10_000, 'at least two reconnects');
    sim.setFaults({});
    const rows = await gw.waitFinal(ids, 20_000);
    assert.ok(rows.every((r) => r.status === 'delivered'), JSON.stringify(rows.filter((r) => r.status !== 'delivered')));
    assert.ok(gw.binds[0]!.counters.reconnects >= 2);
    // Every message was accepted at least once; duplicates only from unanswered submits.
    const accepted = new Set(sim.received.filter((r) => r.status === 0).map((r) => r.destination));
    assert.equal(accepted.size, 150);
  } finally {
    await gw.cleanup();
    await sim.stop();
  }
});

test('throttling answers (0x58) and queue full (0x14): re-queued, never failed, all delivered', async () => {
  const sim = await startSimulator({ systemId: 'airtel', password: 'pw', faults: { throttleShare: 0.3, queueFullShare: 0.1 } });
  const gw = await startGateway([{ name: 'airtel', binds: [{ port: sim.port, tps: 1000 }] }], { dispatcher: { poll_interval_ms: 10, max_attempts: 2, retry_initial: 0.1, retry_max: 0.2 } });
  try {
    const ids = await gw.send(numbers(100), 'throttled');
    const rows = await gw.waitFinal(ids, 30_000);
    assert.ok(rows.every((r) => r.status === 'delivered'), JSON.stringify(rows.filter((r) => r.status !== 'delivered').slice(0, 3)));
    assert.ok(sim.stats.throttled > 0 && sim.stats.queueFull > 0);
    assert.ok(gw.binds[0]!.counters.throttled >= sim.stats.throttled + sim.stats.queueFull - 1);
    // Throttling does not use up attempts (max_attempts is 2 here).
    const metrics = await (await fetch(`${gw.url}/metrics`)).text();
    assert.match(metrics, /relais_submits_total\{operator="airtel",bind="airtel-1",result="throttled"\} [1-9]/);
  } finally {
    await gw.cleanup();
    await sim.stop();
  }
});

test('a hung SMSC: unanswered submits time out, are counted as possible duplicates, and are retried', async () => {
  const sim = await startSimulator({ systemId: 'airtel', password: 'pw', faults: { noAnswerShare: 1 } });
  const gw = await startGateway([{ name: 'airtel', binds: [{ port: sim.port, response_timeout: 0.3, enquire_link_interval: 30 }] }]);
  try {
    const ids = await gw.send(numbers(5), 'hung');
    await waitFor(() => gw.binds[0]!.counters.timeouts >= 5, 5000, 'five timeouts');
    sim.setFaults({});
    const rows = await gw.waitFinal(ids, 15_000);
    assert.ok(rows.every((r) => r.status === 'delivered'));
    assert.ok(rows.every((r) => r.attempts >= 2));
    const metrics = await (await fetch(`${gw.url}/metrics`)).text();
    assert.match(metrics, /relais_possible_duplicates_total\{operator="airtel",bind="airtel-1",cause="timeout"\} [5-9]/);
  } finally {
    await gw.cleanup();
    await sim.stop();
  }
});

test('on_response_timeout "fail": an unanswered submit is failed, not retried', async () => {
  const sim = await startSimulator({ systemId: 'airtel', password: 'pw', faults: { noAnswerShare: 1 } });
  const gw = await startGateway([{ name: 'airtel', binds: [{ port: sim.port, response_timeout: 0.2, enquire_link_interval: 30 }] }], { dispatcher: { on_response_timeout: 'fail', poll_interval_ms: 10 } });
  try {
    const ids = await gw.send(numbers(2), 'once');
    const rows = await gw.waitFinal(ids);
    assert.deepEqual(rows.map((r) => [r.status, r.attempts]), [['failed', 1], ['failed', 1]]);
    assert.match(rows[0]!.error ?? '', /response timeout/);
    assert.equal(sim.received.length, 2);
  } finally {
    await gw.cleanup();
    await sim.stop();
  }
});

test('a permanent SMSC error fails the message with the SMSC status', async () => {
  const sim = await startSimulator({ systemId: 'airtel', password: 'pw', faults: { rejectShare: 1 } });
  const gw = await startGateway([{ name: 'airtel', binds: [{ port: sim.port }] }]);
  try {
    const [row] = await gw.waitFinal(await gw.send(['+24162000001'], 'bad'));
    assert.equal(row!.status, 'failed');
    assert.match(row!.error ?? '', /ESME_RINVDSTADR/);
  } finally {
    await gw.cleanup();
    await sim.stop();
  }
});

test('TPS is never exceeded in any sliding second, counted per submit_sm part at the SMSC', async () => {
  const sim = await startSimulator({ systemId: 'airtel', password: 'pw', receipts: false });
  const tps = 40;
  const gw = await startGateway([{ name: 'airtel', binds: [{ port: sim.port, tps, window: 5 }] }], {});
  try {
    // 30 two-part messages = 60 PDUs: 1.5 s of traffic at 40 TPS.
    const ids = await gw.send(numbers(30), 'y'.repeat(200));
    await waitFor(async () => (await gw.rows(ids)).every((r) => r.status === 'sent'), 20_000, 'all sent');
    assert.equal(sim.received.length, 60);
    const max = sim.maxSubmitsInAnyWindow(1000);
    assert.ok(max <= tps, `max ${max} submits in a sliding second, limit ${tps}`);
    // Paced evenly: the first 100 ms of the run did not take a whole second's quota.
    const t0 = sim.received[0]!.at;
    const early = sim.received.filter((r) => r.at - t0 < 100).length;
    assert.ok(early <= tps / 2, `${early} submits in the first 100 ms`);
  } finally {
    await gw.cleanup();
    await sim.stop();
  }
});

test('the SMSC unbinds us: the window is re-queued and the bind comes back', async () => {
  const sim = await startSimulator({ systemId: 'airtel', password: 'pw', respDelayMs: 100 });
  const gw = await startGateway([{ name: 'airtel', binds: [{ port: sim.port, tps: 1000, window: 10 }] }]);
  try {
    await waitFor(() => gw.binds[0]!.state === 'bound');
    const ids = await gw.send(numbers(30), 'unbind');
    await waitFor(() => sim.received.length >= 5, 5000, 'submits in flight');
    sim.unbindAll();
    const rows = await gw.waitFinal(ids, 15_000);
    assert.ok(rows.every((r) => r.status === 'delivered'));
    assert.ok(sim.stats.sessions >= 2);
    assert.equal(gw.binds[0]!.state, 'bound');
  } finally {
    await gw.cleanup();
    await sim.stop();
  }
});

test('malformed input from the SMSC never kills the bind: unknown command, bad length, stray generic_nack', async () => {
  const sim = await startSimulator({ systemId: 'airtel', password: 'pw' });
  const gw = await startGateway([{ name: 'airtel', binds: [{ port: sim.port }] }]);
  try {
    await waitFor(() => gw.binds[0]!.state === 'bound');
    // Unknown command id: answered with generic_nack ESME_RINVCMDID, the link stays up.
    sim.sendRaw(pdu(0x00000077, 4242));
    sim.sendRaw(pdu(0x80000000, 0, Buffer.alloc(0), 0x03)); // generic_nack without a sequence
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(gw.binds[0]!.state, 'bound');
    assert.equal(sim.stats.sessions, 1);
    await gw.waitFinal(await gw.send(['+24162000001'], 'still fine'));
    // A PDU whose command_length is impossible: the link is dropped and rebound.
    const bad = Buffer.alloc(16);
    bad.writeUInt32BE(8, 0);
    bad.writeUInt32BE(0x00000005, 4);
    sim.sendRaw(bad);
    await waitFor(() => sim.stats.sessions >= 2 && gw.binds[0]!.state === 'bound', 5000, 'rebind after a bad PDU');
    const [row] = await gw.waitFinal(await gw.send(['+24162000002'], 'after rebind'));
    assert.equal(row!.status, 'delivered');
  } finally {
    await gw.cleanup();
    await sim.stop();
  }
});
