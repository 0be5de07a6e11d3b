/** The message path over real TCP: accept → queue → bind → submit_sm → receipt → final state. */
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { test } from 'node:test';
import { numbers, startGateway, startSimulator, waitFor } from '../support/harness.js';

test('a message is submitted and its receipt makes it delivered', async () => {
  const sim = await startSimulator({ systemId: 'airtel', password: 'pw' });
  const gw = await startGateway([{ name: 'airtel', binds: [{ port: sim.port }] }]);
  try {
    const [id] = await gw.send(['+24162000001'], 'Your code is 123456', 'ACME');
    const [row] = await gw.waitFinal([id!]);
    assert.equal(row!.status, 'delivered');
    assert.equal(row!.bind, 'airtel-1');
    assert.equal(sim.received.length, 1);
    const got = sim.received[0]!;
    assert.equal(got.text, 'Your code is 123456');
    assert.equal(got.destination, '24162000001');
    assert.equal(got.source, 'ACME');
    assert.equal(got.dataCoding, 0);
    assert.equal(got.registeredDelivery, 1);
    assert.equal(row!.smsc_id, got.messageId);
  } finally {
    await gw.cleanup();
    await sim.stop();
  }
});

test('national and international forms route to the right operator; unroutable numbers are refused per recipient', async () => {
  const airtel = await startSimulator({ systemId: 'airtel', password: 'pw' });
  const moov = await startSimulator({ systemId: 'moov', password: 'pw' });
  const gw = await startGateway([{ name: 'airtel', binds: [{ port: airtel.port }] }, { name: 'moov', binds: [{ port: moov.port }] }]);
  try {
    const res = await gw.enqueue({ accountId: null, sender: 'ACME', recipients: ['+24162000001', '0777000003', '00241 77 00 00 02', '+33612345678', 'hello'], text: 'hi' });
    assert.deepEqual(res.results.map((r) => (r.ok ? r.operator : r.error)), ['airtel', 'moov', 'moov', 'no_route', 'invalid_number']);
    const ids = res.results.flatMap((r) => (r.ok ? [r.id] : []));
    const rows = await gw.waitFinal(ids);
    assert.ok(rows.every((r) => r.status === 'delivered'));
    assert.deepEqual(airtel.received.map((r) => r.destination), ['24162000001']);
    assert.deepEqual(moov.received.map((r) => r.destination).sort(), ['24177000002', '241777000003']);
  } finally {
    await gw.cleanup();
    await Promise.all([airtel.stop(), moov.stop()]);
  }
});

test('a long message is one message of N parts, each part one submit_sm, delivered when every part is', async () => {
  const sim = await startSimulator({ systemId: 'airtel', password: 'pw', receiptDelayMs: 50 });
  const gw = await startGateway([{ name: 'airtel', binds: [{ port: sim.port }] }]);
  try {
    const text = 'Relais '.repeat(50).trim(); // 349 GSM characters → 3 parts
    const emoji = 'Promo 🎉 '.repeat(12); // UCS-2, 96 code units → 2 parts
    const [long] = await gw.send(['+24162000001'], text);
    const [uni] = await gw.send(['+24162000003'], emoji);
    const rows = await gw.waitFinal([long!, uni!]);
    assert.deepEqual(rows.map((r) => [r.parts, r.status]), [[3, 'delivered'], [2, 'delivered']]);
    const parts = sim.received.filter((r) => r.destination === '24162000001');
    assert.equal(parts.length, 3);
    assert.deepEqual(parts.map((p) => p.concat?.sequence).sort(), [1, 2, 3]);
    assert.equal(parts.sort((a, b) => a.concat!.sequence - b.concat!.sequence).map((p) => p.text).join(''), text);
    const uniParts = sim.received.filter((r) => r.destination === '24162000003');
    assert.equal(uniParts.length, 2);
    assert.ok(uniParts.every((p) => p.dataCoding === 8));
    assert.equal(uniParts.sort((a, b) => a.concat!.sequence - b.concat!.sequence).map((p) => p.text).join(''), emoji);
    // The part count is what the bind paced and counted.
    const bind = gw.binds[0]!;
    assert.equal(bind.counters.accepted, sim.received.length);
  } finally {
    await gw.cleanup();
    await sim.stop();
  }
});

test('a multi-part message with one undelivered part ends undelivered, not delivered', async () => {
  const sim = await startSimulator({ systemId: 'airtel', password: 'pw', receiptMix: { UNDELIV: 1 } });
  const gw = await startGateway([{ name: 'airtel', binds: [{ port: sim.port }] }]);
  try {
    const [id] = await gw.send(['+24162000009'], 'x'.repeat(200));
    const [row] = await gw.waitFinal([id!]);
    assert.equal(row!.status, 'undelivered');
    const parts = await gw.store.db.selectFrom('message_parts').selectAll().where('message_id', '=', id!).execute();
    assert.equal(parts.length, 2);
    assert.ok(parts.every((p) => p.state === 'UNDELIV'));
  } finally {
    await gw.cleanup();
    await sim.stop();
  }
});

test('a receipt that arrives before its submit_sm_resp is kept and applied when the resp lands', async () => {
  const sim = await startSimulator({ systemId: 'airtel', password: 'pw', receiptBeforeResp: true, respDelayMs: 30 });
  const gw = await startGateway([{ name: 'airtel', binds: [{ port: sim.port }] }]);
  try {
    const ids = await gw.send(numbers(20), 'early receipt');
    const rows = await gw.waitFinal(ids);
    assert.ok(rows.every((r) => r.status === 'delivered'), JSON.stringify(rows.map((r) => r.status)));
    const left = await gw.store.db.selectFrom('pending_receipts').selectAll().execute();
    assert.equal(left.length, 0);
  } finally {
    await gw.cleanup();
    await sim.stop();
  }
});

test('receipts by data_sm, with a decimal id in the text and no TLVs, still match a hex submit_sm_resp id', async () => {
  const sim = await startSimulator({ systemId: 'airtel', password: 'pw', receiptVia: 'data_sm', idFormat: 'hex', receiptIdFormat: 'decimal', receiptTlvs: false });
  const gw = await startGateway([{ name: 'airtel', binds: [{ port: sim.port }], submit_id_format: 'hex', receipt_id_format: 'decimal' }]);
  try {
    const ids = await gw.send(numbers(5), 'decimal receipt');
    const rows = await gw.waitFinal(ids);
    assert.ok(rows.every((r) => r.status === 'delivered'));
    assert.equal(sim.stats.receiptsSent, 5);
  } finally {
    await gw.cleanup();
    await sim.stop();
  }
});

test('several binds of one operator share its traffic', async () => {
  const sim = await startSimulator({ systemId: 'airtel', password: 'pw' });
  const gw = await startGateway([{ name: 'airtel', binds: [{ port: sim.port, tps: 200 }, { port: sim.port, tps: 200 }] }]);
  try {
    await waitFor(() => gw.binds.every((b) => b.state === 'bound'), 5000, 'both binds bound');
    const ids = await gw.send(numbers(200), 'shared');
    const rows = await gw.waitFinal(ids);
    const perBind = new Map<string, number>();
    for (const r of rows) perBind.set(r.bind!, (perBind.get(r.bind!) ?? 0) + 1);
    assert.equal(perBind.size, 2, JSON.stringify([...perBind]));
    for (const n of perBind.values()) assert.ok(n >= 40, `unbalanced: ${JSON.stringify([...perBind])}`);
  } finally {
    await gw.cleanup();
    await sim.stop();
  }
});

test('failover: messages of an operator with no bound bind go to its failover operator', async () => {
  const moov = await startSimulator({ systemId: 'moov', password: 'pw' });
  // airtel's SMSC is down (nothing listens on its port); +24162 fails over to moov.
  const gw = await startGateway([{ name: 'airtel', binds: [{ port: 1 }] }, { name: 'moov', binds: [{ port: moov.port }] }]);
  try {
    const ids = await gw.send(numbers(3), 'failover');
    const rows = await gw.waitFinal(ids);
    assert.ok(rows.every((r) => r.status === 'delivered' && r.bind === 'moov-1'));
    assert.equal(moov.received.length, 3);
    const parts = await gw.store.db.selectFrom('message_parts').select('operator').execute();
    assert.ok(parts.every((p) => p.operator === 'moov'));
  } finally {
    await gw.cleanup();
    await moov.stop();
  }
});

test('the ops endpoints: healthz, readyz with bound binds, metrics with submit and receipt counters', async () => {
  const sim = await startSimulator({ systemId: 'airtel', password: 'pw' });
  const gw = await startGateway([{ name: 'airtel', binds: [{ port: sim.port }] }]);
  try {
    await waitFor(() => gw.binds[0]!.state === 'bound');
    assert.equal((await fetch(`${gw.url}/healthz`)).status, 200);
    const ready = await fetch(`${gw.url}/readyz`);
    assert.equal(ready.status, 200);
    assert.deepEqual(await ready.json(), {
      status: 'ready', database: { open: true, writable: true, reason: null, since: null }, bound_binds: 1,
      operators: [{ name: 'airtel', binds: 1, bound: 1, failover: [], state: 'up' }],
    });
    await gw.waitFinal(await gw.send(numbers(2), 'metrics'));
    const text = await (await fetch(`${gw.url}/metrics`)).text();
    assert.match(text, /relais_submits_total\{operator="airtel",bind="airtel-1",result="ok"\} 2/);
    assert.match(text, /relais_receipts_total\{operator="airtel",state="DELIVRD"\} 2/);
    assert.match(text, /relais_bind_up\{operator="airtel",bind="airtel-1"\} 1/);
    assert.match(text, /relais_queue_depth\{operator="airtel"\} 0/);
    assert.match(text, /relais_submit_latency_seconds_count\{operator="airtel"\} 2/);
    const binds = (await (await fetch(`${gw.url}/ops/binds`)).json()) as { data: { name: string; state: string }[] };
    assert.deepEqual(binds.data.map((b) => [b.name, b.state]), [['airtel-1', 'bound']]);
  } finally {
    await gw.cleanup();
    await sim.stop();
  }
});

test('readyz says degraded, naming the operator, when one operator has no bound bind and nothing to fail over to; failing over when it has', async () => {
  const sim = await startSimulator({ systemId: 'airtel', password: 'pw' });
  const closedPort = await new Promise<number>((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
  for (const failover of [false, true]) {
    const gw = await startGateway(
      [{ name: 'airtel', binds: [{ port: sim.port }] }, { name: 'moov', binds: [{ port: closedPort }] }],
      { routes: [{ prefix: '+24162', operator: 'airtel' }, { prefix: '+24177', operator: 'moov', ...(failover ? { failover: 'airtel' } : {}) }] },
    );
    try {
      await waitFor(() => gw.binds[0]!.state === 'bound');
      const r = await fetch(`${gw.url}/readyz`);
      const body = (await r.json()) as { status: string; operators: { name: string; state: string }[] };
      assert.equal(r.status, 200);
      assert.equal(body.status, failover ? 'ready' : 'degraded');
      assert.deepEqual(body.operators.map((o) => [o.name, o.state]), [['airtel', 'up'], ['moov', failover ? 'failing over' : 'down']]);
    } finally {
      await gw.cleanup();
    }
  }
  await sim.stop();
});
