/**
 * An SMSC that sends what it should not, while traffic flows on two binds:
 * - PDUs that keep the framing (unknown command ids, PDUs an ESME never gets or cannot answer,
 *   stray responses, bodies cut short or with a TLV running past the end, receipts for message
 *   ids nobody issued): the bind answers what it must and stays bound on the same session;
 * - bytes that lose the framing (a command_length shorter than a header, over the maximum, or
 *   that never completes; random garbage): the bind reconnects once per loss, never in a storm.
 * Nothing is lost; the accounting holds.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { numbers, waitFor } from '../support/harness.js';
import { accountingHolds, countStatus } from './accounting.js';
import { pause, prng, SEED, twoBinds } from './support.js';

/** A PDU as bytes: header (command_length = 16 + body, unless told) and body. */
function pdu(commandId: number, seq: number, body: Buffer = Buffer.alloc(0), o: { status?: number; length?: number } = {}): Buffer {
  const head = Buffer.alloc(16);
  head.writeUInt32BE(o.length ?? 16 + body.length, 0);
  head.writeUInt32BE(commandId >>> 0, 4);
  head.writeUInt32BE(o.status ?? 0, 8);
  head.writeUInt32BE(seq, 12);
  return Buffer.concat([head, body]);
}

const DELIVER_SM = 0x00000005;
/** A receipt deliver_sm's body up to sm_default_msg_id, then `tail` (from sm_length on). */
const receiptBody = (tail: Buffer) =>
  Buffer.concat([Buffer.from('\0\x01\x0124162000001\0\x05\x00Relais\0\x04\x00\x00\0\0\x00\x00\x00\x00', 'latin1'), tail]);

test('PDUs that keep the framing never cost a bind its session: unknown ids, alert_notification, outbind, stray answers, bodies cut short, receipts for unknown ids', async () => {
  const { sim, gw } = await twoBinds({ tps: 150 });
  try {
    const ids = await gw.send(numbers(3000), 'malformed but framed');
    await waitFor(() => sim.received.length >= 300, 10_000, 'traffic flowing');
    const sessions = sim.stats.sessions;
    const reconnects = gw.binds.map((b) => b.counters.reconnects);
    const nacks = sim.stats.genericNacks;

    const framed: [string, Buffer][] = [
      ['unknown command id', pdu(0x00000077, 4242)],
      ['unknown command id with a body', pdu(0x0000ffff, 4243, Buffer.alloc(40, 0x41))],
      ['unknown response id', pdu(0x80000077, 4244)],
      ['generic_nack for nothing', pdu(0x80000000, 0, Buffer.alloc(0), { status: 0x03 })],
      ['alert_notification (no response exists)', pdu(0x00000102, 4245, Buffer.from('\x01\x0124162000001\0\x01\x0124162000002\0', 'latin1'))],
      ['outbind (no response exists)', pdu(0x0000000b, 4246, Buffer.from('airtel\0pw\0', 'latin1'))],
      ['submit_sm_resp for a sequence never sent', pdu(0x80000004, 0x7ffffff0, Buffer.from('DEADBEEF\0', 'latin1'))],
      ['bind_transceiver_resp out of the blue', pdu(0x80000009, 4247, Buffer.from('x\0', 'latin1'))],
      ['enquire_link with a body', pdu(0x00000015, 4248, Buffer.alloc(10, 1))],
      ['deliver_sm cut after one byte', pdu(DELIVER_SM, 4249, Buffer.from([0x41]))],
      ['deliver_sm with a TLV running past the end', pdu(DELIVER_SM, 4250, receiptBody(Buffer.from([0x00, 0x04, 0x27, 0x00, 0x00])))],
      ['deliver_sm whose sm_length runs past the end', pdu(DELIVER_SM, 4251, receiptBody(Buffer.from([200, 0x41, 0x41])))],
    ];
    for (const [what, bytes] of framed) {
      sim.sendRaw(bytes);
      await pause(50);
      assert.ok(gw.binds.every((b) => b.state === 'bound'), `${what}: both binds still bound`);
      assert.equal(sim.stats.sessions, sessions, `${what}: the session was kept`);
    }
    // Receipts for ids this SMSC never issued: acknowledged (the SMSC would resend them forever otherwise), kept aside, nothing changes.
    const stray = await Promise.all(['DEAD0001', 'DEAD0002', 'dead0003', 'not-an-id', '0'].map((messageId) => sim.injectReceipt({ messageId })));
    assert.deepEqual(stray, [0, 0, 0, 0, 0], 'receipts for unknown ids acknowledged');
    assert.ok(sim.stats.genericNacks === nacks, 'the gateway sent nothing the SMSC found malformed');

    const rows = await gw.waitFinal(ids, 60_000);
    assert.ok(rows.every((r) => r.status === 'delivered'), JSON.stringify(rows.filter((r) => r.status !== 'delivered').slice(0, 3)));
    assert.equal(sim.stats.sessions, sessions, 'no reconnect at all');
    assert.deepEqual(gw.binds.map((b) => b.counters.reconnects), reconnects);
    assert.equal(await gw.store.db.selectFrom('mo_messages').select('id').execute().then((r) => r.length), 0, 'no garbage stored as an MO');
    const report = await accountingHolds(gw, { smscs: [sim], accepted: ids, ready: true });
    assert.equal(report.duplicates, 0);
  } finally {
    await gw.cleanup();
    await sim.stop();
  }
});

test('bytes that lose the framing: one reconnect per loss, not a storm, and nothing lost', async () => {
  const { sim, gw } = await twoBinds({ tps: 150 });
  const random = prng(SEED);
  console.log(`# malformed: seed ${SEED} (RELAIS_FAULT_SEED)`);
  try {
    const ids = await gw.send(numbers(3000), 'framing lost');
    await waitFor(() => sim.received.length >= 300, 10_000, 'traffic flowing');
    const garbage = Buffer.from(Array.from({ length: 64 }, () => Math.floor(random() * 256)));
    garbage[0] = 0x80 | garbage[0]!; // a command_length far over the maximum, whatever the seed
    const losses: [string, Buffer][] = [
      ['command_length shorter than a header', pdu(DELIVER_SM, 4300, Buffer.alloc(0), { length: 8 })],
      ['command_length over the maximum', pdu(DELIVER_SM, 4301, Buffer.alloc(0), { length: 0x7fffffff })],
      ['random garbage', garbage],
      ['command_length that can never complete', pdu(DELIVER_SM, 4302, Buffer.alloc(0), { length: 2 })],
      ['command_length that swallows the next PDUs', pdu(DELIVER_SM, 4303, Buffer.alloc(8, 0x41), { length: 600 })],
    ];
    for (const [what, bytes] of losses) {
      const sessions = sim.stats.sessions;
      const binds = sim.stats.bindsAccepted;
      const started = Date.now();
      sim.sendRaw(bytes);
      await waitFor(() => sim.stats.sessions > sessions && sim.boundSessions() === 2, 10_000, `${what}: the bind back`);
      const took = Date.now() - started;
      await pause(1000);
      assert.equal(sim.stats.sessions - sessions, 1, `${what}: exactly one reconnect`);
      assert.equal(sim.stats.bindsAccepted - binds, 1, `${what}: exactly one bind`);
      console.log(`# malformed: ${what}: rebound in ${took} ms`);
    }
    assert.equal(sim.stats.bindsRefused, 0);
    const rows = await gw.waitFinal(ids, 60_000);
    assert.ok(rows.every((r) => r.status === 'delivered'), JSON.stringify(rows.filter((r) => r.status !== 'delivered').slice(0, 3)));
    assert.equal(await countStatus(gw, 'delivered'), 3000);
    await accountingHolds(gw, { smscs: [sim], accepted: ids, ready: true });
  } finally {
    await gw.cleanup();
    await sim.stop();
  }
});
