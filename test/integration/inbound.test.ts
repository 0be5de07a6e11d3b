/** Inbound traffic from the SMSC: MO messages, opt-out keywords, deliver_sm before the bind completes. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startGateway, startSimulator, waitFor } from '../support/harness.js';

test('MO messages are stored whole (concatenated, UCS-2) and STOP / Arrêt blacklist the sender', async () => {
  const sim = await startSimulator({ systemId: 'airtel', password: 'pw' });
  const gw = await startGateway([{ name: 'airtel', binds: [{ port: sim.port }] }]);
  try {
    await waitFor(() => gw.binds[0]!.state === 'bound');
    const long = 'Bonjour, je voudrais des informations sur votre offre. '.repeat(4);
    await sim.injectMo({ from: '24162000001', to: '1234', text: long });
    await sim.injectMo({ from: '24162000002', to: '1234', text: 'Merci 🙏' });
    await sim.injectMo({ from: '24162000003', to: '1234', text: 'STOP' });
    await sim.injectMo({ from: '24162000004', to: '1234', text: '  Arrêt svp' });
    await waitFor(async () => (await gw.store.db.selectFrom('mo_messages').select('id').execute()).length === 4, 5000, 'four MO rows');
    const mo = await gw.store.db.selectFrom('mo_messages').selectAll().orderBy('id').execute();
    assert.deepEqual(mo.map((m) => [m.body, m.opt_out]), [[long, 0], ['Merci 🙏', 0], ['STOP', 1], ['  Arrêt svp', 1]]);
    const listed = (await gw.blacklist.page(0, { page: 1, size: 100 })).rows;
    assert.deepEqual(listed.map((b) => [b.phone, b.source]).sort(), [['+24162000003', 'mo'], ['+24162000004', 'mo']]);
    // A blacklisted number is refused at acceptance, for every account, with its reason.
    const res = await gw.enqueue({ accountId: 7, sender: 'ACME', recipients: ['+24162000003', '+24162000001'], text: 'promo' });
    assert.deepEqual(res.results.map((r) => (r.ok ? 'ok' : r.error)), ['blacklisted', 'ok']);
  } finally {
    await gw.cleanup();
    await sim.stop();
  }
});

test('GSM text with extension characters survives the trip both ways', async () => {
  const sim = await startSimulator({ systemId: 'airtel', password: 'pw' });
  const gw = await startGateway([{ name: 'airtel', binds: [{ port: sim.port }] }]);
  try {
    const text = 'Prix: 10€ [promo] {code} ~^|\\ @£$¥';
    const [row] = await gw.waitFinal(await gw.send(['+24162000001'], text));
    assert.equal(row!.status, 'delivered');
    assert.equal(sim.received[0]!.text, text);
    assert.equal(sim.received[0]!.dataCoding, 0);
    await sim.injectMo({ from: '24162000001', to: '1234', text });
    await waitFor(async () => (await gw.store.db.selectFrom('mo_messages').select('body').execute())[0]?.body === text, 5000, 'MO text');
  } finally {
    await gw.cleanup();
    await sim.stop();
  }
});

test('a deliver_sm that arrives before bind_resp is refused with ESME_RINVBNDSTS and the bind still completes', async () => {
  const { createServer } = await import('node:net');
  const { smpp } = await import('../../src/smpp/pdu.js');
  const answers: { command: string; status: number }[] = [];
  const server = createServer((socket) => {
    const session = new smpp.Session({ socket });
    session.on('error', () => undefined);
    session.on('pdu', (pdu: { command: string; command_status: number; response: () => unknown; isResponse: () => boolean }) => {
      if (pdu.isResponse()) answers.push({ command: pdu.command, status: pdu.command_status });
      if (pdu.command === 'bind_transceiver') {
        // An eager SMSC: a receipt first, then the bind_resp.
        session.send(new smpp.PDU('deliver_sm', { esm_class: 0x04, source_addr: '24162000001', destination_addr: 'ACME', data_coding: 0, short_message: Buffer.from('id:1 sub:001 dlvrd:001 submit date:2501010000 done date:2501010000 stat:DELIVRD err:000 text:x') }));
        session.send(pdu.response() as never);
      }
      if (pdu.command === 'enquire_link' || pdu.command === 'unbind') session.send(pdu.response() as never);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  const gw = await startGateway([{ name: 'airtel', binds: [{ port }] }]);
  try {
    await waitFor(() => gw.binds[0]!.state === 'bound', 5000, 'bound');
    await waitFor(() => answers.some((a) => a.command === 'deliver_sm_resp'), 5000, 'deliver_sm_resp');
    assert.deepEqual(answers.find((a) => a.command === 'deliver_sm_resp'), { command: 'deliver_sm_resp', status: 0x04 });
  } finally {
    await gw.cleanup();
    server.close();
  }
});

test('a number that opts out while its scheduled message waits is never sent that message', async () => {
  const sim = await startSimulator({ systemId: 'airtel', password: 'pw' });
  const gw = await startGateway([{ name: 'airtel', binds: [{ port: sim.port }] }]);
  try {
    await waitFor(() => gw.binds[0]!.state === 'bound');
    const res = await gw.enqueue({ accountId: null, sender: 'ACME', recipients: ['+24162000007', '+24162000008'], text: 'promo', notBefore: Date.now() + 800 });
    const ids = res.results.flatMap((r) => (r.ok ? [r.id] : []));
    await sim.injectMo({ from: '24162000007', to: '1234', text: 'STOP' });
    const rows = await gw.waitFinal(ids);
    assert.deepEqual(rows.map((r) => r.status), ['failed', 'delivered']);
    assert.match(rows[0]!.error ?? '', /blacklisted/);
    assert.deepEqual(sim.received.map((r) => r.destination), ['24162000008']);
  } finally {
    await gw.cleanup();
    await sim.stop();
  }
});
