import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  formatReceiptText,
  isFinalStat,
  messageStateFromStat,
  normalizeReceiptId,
  normalizeSmscId,
  parseReceiptText,
  statFromMessageState,
  type ReceiptStat,
} from '../../src/smpp/receipt.js';

test('parses a standard SMPP 3.4 Appendix B receipt', () => {
  const text = 'id:1715004 sub:001 dlvrd:001 submit date:2401151230 done date:2401151231 stat:DELIVRD err:000 text:Hello world';
  assert.deepEqual(parseReceiptText(text), {
    id: '1715004',
    stat: 'DELIVRD',
    err: '000',
    submitDate: '2401151230',
    doneDate: '2401151231',
    text: 'Hello world',
  });
});

test('tolerates missing err, lowercase/uppercase keys, extra spaces and underscore dates', () => {
  assert.deepEqual(parseReceiptText('ID:abc  SUB:001 DLVRD:000 Submit_Date:2401151230 done_date:2401151231 STAT:undeliv'), {
    id: 'abc',
    stat: 'UNDELIV',
    submitDate: '2401151230',
    doneDate: '2401151231',
  });
  assert.deepEqual(parseReceiptText('id: 42   stat: EXPIRED   err: 012'), { id: '42', stat: 'EXPIRED', err: '012' });
});

test('text: keeps its spaces and anything that looks like a key', () => {
  const r = parseReceiptText('id:7 stat:DELIVRD err:000 text:see you at 5 stat:ok id:9');
  assert.equal(r?.id, '7');
  assert.equal(r?.stat, 'DELIVRD');
  assert.equal(r?.text, 'see you at 5 stat:ok id:9');
});

test('unknown vendor fields do not leak into known ones', () => {
  const r = parseReceiptText('id:7 sub:001 dlvrd:001 stat:DELIVRD err:000 mccmnc:20801 text:');
  assert.equal(r?.err, '000');
  assert.equal(r?.text, '');
});

test('returns null without id or stat; maps spelled-out and unknown stats', () => {
  assert.equal(parseReceiptText('sub:001 dlvrd:001 stat:DELIVRD'), null);
  assert.equal(parseReceiptText('id:1 sub:001 dlvrd:001 err:000'), null);
  assert.equal(parseReceiptText(''), null);
  assert.equal(parseReceiptText('id:1 stat:DELIVERED')?.stat, 'DELIVRD');
  assert.equal(parseReceiptText('id:1 stat:WHATEVER')?.stat, 'UNKNOWN');
});

test('formatReceiptText produces parseable Appendix B text (UTC dates, text cut to 20)', () => {
  const text = formatReceiptText({
    id: '1a2b3c',
    stat: 'DELIVRD',
    submitDate: new Date(Date.UTC(2024, 0, 5, 9, 7)),
    doneDate: new Date(Date.UTC(2024, 11, 31, 23, 59)),
    text: 'This message is longer than twenty characters',
  });
  assert.equal(
    text,
    'id:1a2b3c sub:001 dlvrd:001 submit date:2401050907 done date:2412312359 stat:DELIVRD err:000 text:This message is long',
  );
  assert.deepEqual(parseReceiptText(text), {
    id: '1a2b3c',
    stat: 'DELIVRD',
    err: '000',
    submitDate: '2401050907',
    doneDate: '2412312359',
    text: 'This message is long',
  });
});

test('message_state TLV mapping both ways', () => {
  const expected: Array<[number, ReceiptStat]> = [
    [1, 'ENROUTE'], [2, 'DELIVRD'], [3, 'EXPIRED'], [4, 'DELETED'],
    [5, 'UNDELIV'], [6, 'ACCEPTD'], [7, 'UNKNOWN'], [8, 'REJECTD'],
  ];
  for (const [state, stat] of expected) {
    assert.equal(statFromMessageState(state), stat);
    assert.equal(messageStateFromStat(stat), state);
  }
  assert.equal(statFromMessageState(0), null);
  assert.equal(statFromMessageState(9), null);
});

test('isFinalStat: only ENROUTE and ACCEPTD are intermediate', () => {
  assert.equal(isFinalStat('ENROUTE'), false);
  assert.equal(isFinalStat('ACCEPTD'), false);
  for (const stat of ['DELIVRD', 'UNDELIV', 'EXPIRED', 'REJECTD', 'DELETED', 'UNKNOWN'] as const) assert.equal(isFinalStat(stat), true);
});

test('id normalization: hex resp id matches decimal receipt id', () => {
  const resp = normalizeSmscId('1A2B3C', 'hex');
  assert.equal(resp, '1a2b3c');
  assert.equal(normalizeReceiptId('1715004', 'hex', 'decimal'), resp);
  assert.equal(normalizeReceiptId('0001715004', 'hex', 'decimal'), resp);
  assert.equal(normalizeReceiptId('001a2b3c', 'hex', 'hex'), resp);
  assert.equal(normalizeSmscId(' 1a2b3c ', 'hex'), normalizeSmscId('001A2B3C', 'hex'));
  // Same digits, different numbers: hex 1715004 is not decimal 1715004.
  assert.notEqual(normalizeReceiptId('1715004', 'hex', 'hex'), resp);
});

test('id normalization: decimal format and ids beyond 2^53', () => {
  assert.equal(normalizeSmscId('00042', 'decimal'), normalizeReceiptId('42', 'decimal', 'decimal'));
  const big = '18446744073709551615123'; // 23 digits
  assert.equal(normalizeSmscId(big, 'decimal'), BigInt(big).toString(16));
  assert.equal(normalizeReceiptId('000' + big, 'hex', 'decimal'), normalizeSmscId(BigInt(big).toString(16).toUpperCase(), 'hex'));
});

test('id normalization: non-numeric ids fall back to lowercase-trim and only match themselves', () => {
  const uuid = '3F2504E0-4F89-11D3-9A0C-0305E82C3301';
  assert.equal(normalizeSmscId(uuid, 'hex'), uuid.toLowerCase());
  assert.equal(normalizeReceiptId(` ${uuid.toLowerCase()} `, 'hex', 'decimal'), normalizeSmscId(uuid, 'hex'));
  assert.notEqual(normalizeSmscId('3F2504E0-4F89-11D3-9A0C-0305E82C3302', 'hex'), normalizeSmscId(uuid, 'hex'));
  assert.notEqual(normalizeSmscId(uuid, 'decimal'), normalizeSmscId('3f2504e0', 'hex'));
  assert.equal(normalizeSmscId('msg-ABC', 'decimal'), 'msg-abc');
  assert.equal(normalizeSmscId('0', 'decimal'), '0');
});
