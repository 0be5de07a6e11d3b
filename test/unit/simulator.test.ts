import { test } from 'node:test';
import assert from 'node:assert/strict';
import { smpp, Status, EsmClass } from '../../src/smpp/pdu.js';
import type { PDU, Session } from '../../src/smpp/pdu.js';
import { decodeShortMessage, encodeMessage } from '../../src/smpp/codec.js';
import { parseReceiptText } from '../../src/smpp/receipt.js';
import { SmscSimulator, encodeReceiptPdu, type SimulatorOptions } from '../../src/smpp/simulator/simulator.js';

// ---------------------------------------------------------------------------------------------
// helpers

const WAIT_MS = 5000;

function withTimeout<T>(p: Promise<T>, what: string, ms = WAIT_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

function connect(port: number): Promise<Session> {
  return withTimeout(
    new Promise<Session>((resolve, reject) => {
      const session = smpp.connect({ host: '127.0.0.1', port }, () => resolve(session));
      session.on('error', reject);
    }),
    'connect',
  );
}

function request(session: Session, command: string, fields: Record<string, unknown> = {}): Promise<PDU> {
  return withTimeout(
    new Promise<PDU>((resolve, reject) => {
      if (!session.send(new smpp.PDU(command, fields), resolve)) reject(new Error('not writable'));
    }),
    `${command} response`,
  );
}

function nextPdu(session: Session, command: string): Promise<PDU> {
  return withTimeout(new Promise<PDU>((resolve) => session.once(command, resolve)), command);
}

function closed(session: Session): Promise<void> {
  return withTimeout(new Promise<void>((resolve) => session.socket.once('close', () => resolve())), 'socket close');
}

async function bind(session: Session, command = 'bind_transceiver', systemId = 'relais', password = 'secret'): Promise<PDU> {
  return request(session, command, { system_id: systemId, password });
}

function submit(session: Session, text: string, extra: Record<string, unknown> = {}): Promise<PDU> {
  const enc = encodeMessage(text, 1);
  return request(session, 'submit_sm', {
    source_addr: 'Relais',
    destination_addr: '33612345678',
    data_coding: enc.dataCoding,
    short_message: enc.parts[0],
    ...extra,
  });
}

/** A simulator plus one bound client, torn down by the returned `close`. */
async function setup(options: SimulatorOptions = {}, bindCommand = 'bind_transceiver') {
  const sim = new SmscSimulator({ systemId: 'relais', password: 'secret', ...options });
  const { port } = await sim.start();
  const client = await connect(port);
  client.on('error', () => {});
  const resp = await bind(client, bindCommand);
  assert.equal(resp.command_status, Status.ESME_ROK);
  return {
    sim,
    client,
    port,
    close: async () => {
      client.destroy();
      await sim.stop();
    },
  };
}

// ---------------------------------------------------------------------------------------------
// tests

test('bind ok, bad password and bad system_id refused, second bind refused', async () => {
  const { sim, client, port, close } = await setup();
  try {
    const again = await bind(client);
    assert.equal(again.command_status, Status.ESME_RALYBND);

    const other = await connect(port);
    other.on('error', () => {});
    const badPw = await bind(other, 'bind_transmitter', 'relais', 'wrong');
    assert.equal(badPw.command_status, Status.ESME_RINVPASWD);
    const badId = await bind(other, 'bind_transmitter', 'someone', 'secret');
    assert.equal(badId.command_status, Status.ESME_RINVSYSID);
    other.destroy();

    assert.equal(sim.stats.bindsAccepted, 1);
    assert.equal(sim.stats.bindsRefused, 3);
    assert.equal(sim.boundSessions(), 1);
  } finally {
    await close();
  }
});

test('bind_resp carries system_id RelaisSim', async () => {
  const sim = new SmscSimulator();
  const { port } = await sim.start();
  const client = await connect(port);
  try {
    const resp = await bind(client, 'bind_transmitter', 'anyone', 'any');
    assert.equal(resp.command_status, Status.ESME_ROK);
    assert.equal(resp.system_id, 'RelaisSim');
  } finally {
    client.destroy();
    await sim.stop();
  }
});

test('submit_sm before bind is refused with ESME_RINVBNDSTS; enquire_link is answered', async () => {
  const sim = new SmscSimulator();
  const { port } = await sim.start();
  const client = await connect(port);
  try {
    const link = await request(client, 'enquire_link');
    assert.equal(link.command, 'enquire_link_resp');
    assert.equal(link.command_status, Status.ESME_ROK);
    const resp = await submit(client, 'hello');
    assert.equal(resp.command_status, Status.ESME_RINVBNDSTS);
    assert.equal(sim.stats.enquireLinks, 1);
  } finally {
    client.destroy();
    await sim.stop();
  }
});

test('accepted submit gets an id and a receipt deliver_sm with TLVs and parseable text', async () => {
  const { sim, client, close } = await setup({ receiptDelayMs: 10 });
  try {
    const receiptP = nextPdu(client, 'deliver_sm');
    const resp = await submit(client, 'Hello @ world', { registered_delivery: 1 });
    assert.equal(resp.command_status, Status.ESME_ROK);
    assert.match(resp.message_id, /^[0-9A-F]{6,}$/);

    const receipt = await receiptP;
    client.send(receipt.response());
    assert.equal(receipt.esm_class, EsmClass.RECEIPT);
    assert.equal(receipt.source_addr, '33612345678');
    assert.equal(receipt.destination_addr, 'Relais');
    assert.equal(receipt.receipted_message_id, resp.message_id);
    assert.equal(receipt.message_state, 2);
    const text = decodeShortMessage(receipt.short_message, receipt.data_coding, false).text;
    const parsed = parseReceiptText(text);
    assert.ok(parsed, `unparseable receipt: ${text}`);
    assert.equal(parsed.id, resp.message_id);
    assert.equal(parsed.stat, 'DELIVRD');
    assert.equal(parsed.err, '000');

    assert.equal(sim.received.length, 1);
    const rec = sim.received[0];
    assert.ok(rec);
    assert.equal(rec.text, 'Hello @ world');
    assert.equal(rec.messageId, resp.message_id);
    assert.equal(rec.status, Status.ESME_ROK);
    assert.equal(rec.systemId, 'relais');
    assert.equal(sim.stats.receiptsSent, 1);
  } finally {
    await close();
  }
});

test('decimal ids, receipt id in hex in the text, data_sm receipts, UNDELIV mix', async () => {
  const { client, close } = await setup({
    receiptDelayMs: 0,
    idFormat: 'decimal',
    receiptIdFormat: 'hex',
    receiptVia: 'data_sm',
    receiptMix: { UNDELIV: 1 },
  });
  try {
    const receiptP = nextPdu(client, 'data_sm');
    const resp = await submit(client, 'x', { registered_delivery: 1 });
    assert.match(resp.message_id, /^\d+$/);
    const receipt = await receiptP;
    client.send(receipt.response());
    assert.equal(receipt.receipted_message_id, resp.message_id);
    const parsed = parseReceiptText((receipt.message_payload as Buffer).toString('ascii'));
    assert.ok(parsed);
    assert.equal(BigInt(`0x${parsed.id}`), BigInt(resp.message_id));
    assert.equal(parsed.stat, 'UNDELIV');
    assert.equal(receipt.message_state, 5);
  } finally {
    await close();
  }
});

test('receiptBeforeResp: the receipt arrives before the submit_sm_resp', async () => {
  const { client, close } = await setup({ receiptBeforeResp: true });
  try {
    const order: string[] = [];
    client.on('pdu', (pdu: PDU) => {
      order.push(pdu.command);
      if (pdu.command === 'deliver_sm') client.send(pdu.response());
    });
    await submit(client, 'early', { registered_delivery: 1 });
    assert.deepEqual(order, ['deliver_sm', 'submit_sm_resp']);
  } finally {
    await close();
  }
});

test('a transmitter gets no receipt; its receipt is held until a receiver of the same system_id binds', async () => {
  const { client, port, close } = await setup({ receiptDelayMs: 20 }, 'bind_transmitter');
  const rx = await connect(port);
  rx.on('error', () => {});
  try {
    // No receiver yet: the receipt is held, as an SMSC keeps receipts for a later bind.
    const held = await submit(client, 'held', { registered_delivery: 1 });
    await new Promise((r) => setTimeout(r, 80));
    let txGotDeliver = false;
    client.on('deliver_sm', () => (txGotDeliver = true));
    const heldP = nextPdu(rx, 'deliver_sm');
    assert.equal((await bind(rx, 'bind_receiver')).command_status, Status.ESME_ROK);
    const heldReceipt = await heldP;
    rx.send(heldReceipt.response());
    assert.equal(heldReceipt.receipted_message_id, held.message_id);

    const receiptP = nextPdu(rx, 'deliver_sm');
    const resp = await submit(client, 'routed', { registered_delivery: 1 });
    const receipt = await receiptP;
    rx.send(receipt.response());
    assert.equal(receipt.receipted_message_id, resp.message_id);
    assert.equal(txGotDeliver, false);

    // A receiver cannot submit.
    const refused = await submit(rx, 'nope');
    assert.equal(refused.command_status, Status.ESME_RINVBNDSTS);
  } finally {
    rx.destroy();
    await close();
  }
});

test('throttleShare 1 answers every submit ESME_RTHROTTLED', async () => {
  const { sim, client, close } = await setup({ faults: { throttleShare: 1 } });
  try {
    const resps = await Promise.all(Array.from({ length: 10 }, (_, i) => submit(client, `m${i}`)));
    for (const r of resps) assert.equal(r.command_status, Status.ESME_RTHROTTLED);
    assert.equal(sim.stats.throttled, 10);
    assert.equal(sim.stats.accepted, 0);
    assert.ok(sim.received.every((r) => r.status === Status.ESME_RTHROTTLED && r.messageId === undefined));
  } finally {
    await close();
  }
});

test('queueFullShare 1 and rejectShare 1, then setFaults clears them', async () => {
  const { client, sim, close } = await setup({ faults: { queueFullShare: 1 } });
  try {
    assert.equal((await submit(client, 'a')).command_status, Status.ESME_RMSGQFUL);
    sim.setFaults({ rejectShare: 1 });
    assert.equal((await submit(client, 'b')).command_status, Status.ESME_RINVDSTADR);
    sim.setFaults({});
    assert.equal((await submit(client, 'c')).command_status, Status.ESME_ROK);
    assert.deepEqual(
      sim.received.map((r) => r.status),
      [Status.ESME_RMSGQFUL, Status.ESME_RINVDSTADR, Status.ESME_ROK],
    );
  } finally {
    await close();
  }
});

test('maxTps 5: 20 quick submits get some ESME_RTHROTTLED, and the window count is right', async () => {
  const { sim, client, close } = await setup({ receipts: false, faults: { maxTps: 5 } });
  try {
    const resps = await Promise.all(Array.from({ length: 20 }, (_, i) => submit(client, `burst ${i}`)));
    const ok = resps.filter((r) => r.command_status === Status.ESME_ROK).length;
    const throttled = resps.filter((r) => r.command_status === Status.ESME_RTHROTTLED).length;
    assert.equal(ok + throttled, 20);
    assert.ok(throttled > 0, 'some submits must be throttled');
    assert.ok(ok >= 5, 'the first 5 of the window are accepted');
    // Never more than 5 accepted in any 1 s window (the window is the simulator's own rule).
    assert.ok(sim.maxSubmitsInAnyWindow(1000, (r) => r.status === Status.ESME_ROK) <= 5);
    // The burst took well under a second: every received submit is in one window.
    const span = (sim.received.at(-1)?.at ?? 0) - (sim.received[0]?.at ?? 0);
    if (span < 1000) assert.equal(sim.maxSubmitsInAnyWindow(), 20);
    assert.equal(sim.maxSubmitsInAnyWindow(1000, (r) => r.text === 'burst 0'), 1);
  } finally {
    await close();
  }
});

test('maxSubmitsInAnyWindow counts over a sliding window', () => {
  const sim = new SmscSimulator();
  const base = 1_000_000;
  for (const offset of [0, 100, 900, 1000, 1500, 1999, 5000]) {
    sim.received.push({
      seq: 1, at: base + offset, systemId: 's', source: 'a', destination: 'b',
      dataCoding: 0, esmClass: 0, registeredDelivery: 0, text: '', status: 0,
    });
  }
  // [100, 1000] holds 0.1 s, 0.9 s, 1.0 s (0 falls out at exactly 1000 ms); [1000,1999] holds 3.
  assert.equal(sim.maxSubmitsInAnyWindow(1000), 3);
  assert.equal(sim.maxSubmitsInAnyWindow(10_000), 7);
  assert.equal(sim.maxSubmitsInAnyWindow(1), 1);
  assert.equal(sim.maxSubmitsInAnyWindow(1000, (r) => r.at >= base + 1000), 3);
  assert.equal(new SmscSimulator().maxSubmitsInAnyWindow(), 0);
});

test('noAnswerShare 1: the submit is recorded but never answered', async () => {
  const { sim, client, close } = await setup({ faults: { noAnswerShare: 1 } });
  try {
    let answered = false;
    client.on('submit_sm_resp', () => (answered = true));
    client.send(new smpp.PDU('submit_sm', { destination_addr: '1', short_message: Buffer.from('hi') }));
    // The enquire_link sent after it is answered, so the submit has been processed by then.
    await request(client, 'enquire_link');
    assert.equal(answered, false);
    assert.equal(sim.received.length, 1);
    assert.equal(sim.received[0]?.status, -1);
    assert.equal(sim.stats.unanswered, 1);
  } finally {
    await close();
  }
});

test('dropAfterSubmits 3: the link is destroyed at the third submit', async () => {
  const { sim, client, close } = await setup({ faults: { dropAfterSubmits: 3 } });
  try {
    const isClosed = closed(client);
    assert.equal((await submit(client, '1')).command_status, Status.ESME_ROK);
    assert.equal((await submit(client, '2')).command_status, Status.ESME_ROK);
    let third = false;
    client.send(new smpp.PDU('submit_sm', { destination_addr: '1', short_message: Buffer.from('3') }), () => (third = true));
    await isClosed;
    assert.equal(third, false);
    assert.equal(sim.received.length, 3);
    assert.equal(sim.received[2]?.status, -1);
  } finally {
    await close();
  }
});

test('refuseBinds: new binds refused (ESME_RBINDFAIL or the status given), bound sessions kept, accepted again once cleared', async () => {
  const { sim, port, client, close } = await setup();
  const other = await connect(port);
  other.on('error', () => {});
  try {
    sim.setFaults({ refuseBinds: true });
    assert.equal((await bind(other)).command_status, Status.ESME_RBINDFAIL);
    sim.setFaults({ refuseBinds: Status.ESME_RINVPASWD });
    assert.equal((await bind(other)).command_status, Status.ESME_RINVPASWD);
    assert.equal((await submit(client, 'bound before')).command_status, Status.ESME_ROK);
    sim.setFaults({});
    assert.equal((await bind(other)).command_status, Status.ESME_ROK);
    assert.deepEqual([sim.stats.bindsRefused, sim.stats.bindsAccepted], [2, 2]);
  } finally {
    other.destroy();
    await close();
  }
});

test('injectReceipt: a receipt for an id never issued, settled with the client\'s answer', async () => {
  const { sim, client, close } = await setup();
  try {
    client.on('deliver_sm', (pdu: PDU) => client.send(pdu.response({ command_status: pdu.receipted_message_id === 'NOPE42' ? 0x45 : 0 })));
    const got = nextPdu(client, 'deliver_sm');
    assert.equal(await sim.injectReceipt({ messageId: 'NOPE42', stat: 'UNDELIV' }), 0x45);
    const pdu = await got;
    assert.equal(pdu.esm_class, EsmClass.RECEIPT);
    assert.match((pdu.short_message as Buffer).toString('latin1'), /^id:NOPE42 .*stat:UNDELIV/);
    assert.equal(await sim.injectReceipt({ messageId: 'OTHER' }), 0);
  } finally {
    await close();
  }
});

test('a PDU whose body does not decode (a TLV past its end) costs that PDU only: generic_nack ESME_RINVCMDLEN, the session reads on', async () => {
  const { client, close } = await setup();
  try {
    const nackP = nextPdu(client, 'generic_nack');
    const raw = Buffer.concat([Buffer.alloc(16), Buffer.alloc(17), Buffer.from([0x04, 0x27, 0x00, 0x00])]); // submit_sm, message_state TLV of length 0
    raw.writeUInt32BE(raw.length, 0);
    raw.writeUInt32BE(0x00000004, 4);
    raw.writeUInt32BE(77, 12);
    client.socket.write(raw);
    const nack = await nackP;
    assert.deepEqual([nack.command_status, nack.sequence_number], [Status.ESME_RINVCMDLEN, 77]);
    assert.equal((await submit(client, 'next')).command_status, Status.ESME_ROK);
  } finally {
    await close();
  }
});

test('unknown command id gets generic_nack ESME_RINVCMDID with the same sequence number', async () => {
  const { sim, client, close } = await setup();
  try {
    const nackP = nextPdu(client, 'generic_nack');
    const raw = Buffer.alloc(16);
    raw.writeUInt32BE(16, 0);
    raw.writeUInt32BE(0x000000ee, 4); // no such command
    raw.writeUInt32BE(0, 8);
    raw.writeUInt32BE(4242, 12);
    client.socket.write(raw);
    const nack = await nackP;
    assert.equal(nack.command_status, Status.ESME_RINVCMDID);
    assert.equal(nack.sequence_number, 4242);
    assert.equal(sim.stats.genericNacks, 1);
    // The session still works.
    assert.equal((await request(client, 'enquire_link')).command_status, Status.ESME_ROK);
  } finally {
    await close();
  }
});

test('garbage and oversized PDUs kill that session only', async () => {
  const { sim, port, client, close } = await setup();
  const victim = await connect(port);
  victim.on('error', () => {});
  try {
    const isClosed = closed(victim);
    const huge = Buffer.alloc(16);
    huge.writeUInt32BE(100_000, 0); // over the 16 384-byte limit
    victim.socket.write(huge);
    await isClosed;
    // A truncated submit_sm body (declared length covers only a partial field).
    const other = await connect(port);
    other.on('error', () => {});
    await bind(other);
    const bad = Buffer.alloc(18);
    bad.writeUInt32BE(18, 0);
    bad.writeUInt32BE(0x00000004, 4);
    bad.writeUInt32BE(0, 8);
    bad.writeUInt32BE(7, 12);
    bad.write('ab', 16, 'ascii');
    other.socket.write(bad);
    await request(other, 'enquire_link').catch(() => undefined);
    other.destroy();
    // The first client is unaffected.
    assert.equal((await submit(client, 'still here')).command_status, Status.ESME_ROK);
    assert.ok(sim.boundSessions() >= 1);
  } finally {
    victim.destroy();
    await close();
  }
});

test('injectMo delivers the decoded text, 200 characters in 2 parts', async () => {
  const { sim, client, close } = await setup();
  try {
    const parts: PDU[] = [];
    client.on('deliver_sm', (pdu: PDU) => {
      parts.push(pdu);
      client.send(pdu.response());
    });
    await withTimeout(sim.injectMo({ from: '33611111111', to: '38200', text: 'Bonjour €' }), 'short MO');
    assert.equal(parts.length, 1);
    const one = parts[0];
    assert.ok(one);
    assert.equal(one.esm_class & EsmClass.RECEIPT, 0);
    assert.equal(one.source_addr, '33611111111');
    assert.equal(one.destination_addr, '38200');
    assert.equal(decodeShortMessage(one.short_message, one.data_coding, false).text, 'Bonjour €');

    parts.length = 0;
    const long = 'abcdefghij'.repeat(20);
    await withTimeout(sim.injectMo({ from: '33611111111', to: '38200', text: long }), 'long MO');
    assert.equal(parts.length, 2);
    const decoded = parts.map((p) => decodeShortMessage(p.short_message, p.data_coding, (p.esm_class & EsmClass.UDHI) !== 0));
    assert.deepEqual(decoded.map((d) => d.concat?.sequence), [1, 2]);
    assert.ok(decoded.every((d) => d.concat?.total === 2));
    assert.equal(decoded.map((d) => d.text).join(''), long);

    parts.length = 0;
    const unicode = 'Привет, мир! '.repeat(10);
    await withTimeout(sim.injectMo({ from: '33611111111', to: '38200', text: unicode }), 'UCS-2 MO');
    const u = parts.map((p) => decodeShortMessage(p.short_message, p.data_coding, (p.esm_class & EsmClass.UDHI) !== 0));
    assert.equal(u.map((d) => d.text).join(''), unicode);
    assert.equal(sim.stats.moSent, 3);
  } finally {
    await close();
  }
});

test('injectMo rejects when no session can receive, and when the MO is refused', async () => {
  const { sim, client, close } = await setup({}, 'bind_transmitter');
  try {
    await assert.rejects(sim.injectMo({ from: '1', to: '2', text: 'x' }));
  } finally {
    await close();
  }
  const second = await setup();
  try {
    second.client.on('deliver_sm', (pdu: PDU) => second.client.send(pdu.response({ command_status: Status.ESME_RX_P_APPN })));
    await assert.rejects(withTimeout(second.sim.injectMo({ from: '1', to: '2', text: 'x' }), 'refused MO'), /status 0x65/);
  } finally {
    await second.close();
  }
  void client;
});

test('received[] records the exact text, concatenation info and message_payload', async () => {
  const { sim, client, close } = await setup({ receipts: false });
  try {
    const long = 'Ünïcødé ✓ '.repeat(10);
    const enc = encodeMessage(long, 77);
    for (const part of enc.parts) {
      const resp = await request(client, 'submit_sm', {
        destination_addr: '33600000000',
        data_coding: enc.dataCoding,
        esm_class: enc.udhi ? EsmClass.UDHI : 0,
        short_message: part,
      });
      assert.equal(resp.command_status, Status.ESME_ROK);
    }
    assert.equal(sim.received.length, enc.parts.length);
    assert.equal(sim.received.map((r) => r.text).join(''), long);
    assert.deepEqual(sim.received[0]?.concat, { reference: 77, total: enc.parts.length, sequence: 1 });

    const payload = await request(client, 'submit_sm', {
      destination_addr: '33600000000',
      data_coding: 0,
      message_payload: encodeMessage('via payload {braces}', 0).parts[0],
    });
    assert.equal(payload.command_status, Status.ESME_ROK);
    assert.equal(sim.received.at(-1)?.text, 'via payload {braces}');
    assert.equal(new Set(sim.received.map((r) => r.messageId)).size, sim.received.length);
  } finally {
    await close();
  }
});

test('unbind from the client is answered, the SMSC can unbind us and drop us', async () => {
  const { sim, port, client, close } = await setup();
  try {
    const isClosed = closed(client);
    const resp = await request(client, 'unbind');
    assert.equal(resp.command, 'unbind_resp');
    await isClosed;
    assert.equal(sim.stats.unbinds, 1);

    const a = await connect(port);
    a.on('error', () => {});
    await bind(a);
    a.on('unbind', (pdu: PDU) => a.send(pdu.response()));
    const aClosed = closed(a);
    sim.unbindAll();
    await aClosed;

    const b = await connect(port);
    b.on('error', () => {});
    await bind(b);
    const bClosed = closed(b);
    sim.dropAll();
    await bClosed;
    assert.equal(sim.boundSessions(), 0);
  } finally {
    await close();
  }
});

test('sendRaw writes bytes to the bound session', async () => {
  const { sim, client, close } = await setup();
  try {
    const got = nextPdu(client, 'deliver_sm');
    sim.sendRaw(new smpp.PDU('deliver_sm', { sequence_number: 99, source_addr: '1', destination_addr: '2', short_message: Buffer.from('raw') }).toBuffer());
    const pdu = await got;
    assert.equal(pdu.sequence_number, 99);
    assert.equal((pdu.short_message as Buffer).toString('ascii'), 'raw');
  } finally {
    await close();
  }
});

test('hand-encoded receipt PDUs are byte-identical to the smpp package encoder', () => {
  const fields = {
    sourceTon: 1, sourceNpi: 1, source: '33612345678',
    destTon: 5, destNpi: 0, destination: 'Relais',
    text: 'id:1A2B sub:001 dlvrd:001 submit date:2401011200 done date:2401011200 stat:DELIVRD err:000 text:hi',
    receiptedMessageId: '1A2B', messageState: 2,
  };
  const common = {
    sequence_number: 42,
    source_addr_ton: 1, source_addr_npi: 1, source_addr: '33612345678',
    dest_addr_ton: 5, dest_addr_npi: 0, destination_addr: 'Relais',
    esm_class: EsmClass.RECEIPT, data_coding: 0,
  };
  const body = Buffer.from(fields.text, 'ascii');
  const libDeliver = new smpp.PDU('deliver_sm', { ...common, short_message: body, receipted_message_id: '1A2B', message_state: 2 }).toBuffer();
  assert.deepEqual(encodeReceiptPdu('deliver_sm', 42, fields), libDeliver);
  const libData = new smpp.PDU('data_sm', { ...common, message_payload: body, receipted_message_id: '1A2B', message_state: 2 }).toBuffer();
  assert.deepEqual(encodeReceiptPdu('data_sm', 42, fields), libData);
  const bare = { ...fields, receiptedMessageId: undefined, messageState: undefined };
  const libBare = new smpp.PDU('deliver_sm', { ...common, short_message: body }).toBuffer();
  assert.deepEqual(encodeReceiptPdu('deliver_sm', 42, bare), libBare);
});

test('receiptTlvs false: no receipted_message_id / message_state', async () => {
  const { client, close } = await setup({ receiptDelayMs: 0, receiptTlvs: false });
  try {
    const receiptP = nextPdu(client, 'deliver_sm');
    await submit(client, 'x', { registered_delivery: 1 });
    const receipt = await receiptP;
    client.send(receipt.response());
    assert.equal(receipt.receipted_message_id, undefined);
    assert.equal(receipt.message_state, undefined);
    assert.ok(parseReceiptText((receipt.short_message as Buffer).toString('ascii')));
  } finally {
    await close();
  }
});
