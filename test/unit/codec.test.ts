import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  analyze,
  DATA_CODING,
  decodeGsm7,
  decodeShortMessage,
  decodeUcs2,
  encodeGsm7,
  encodeMessage,
  encodeUcs2,
  isGsm7,
  type EncodedMessage,
} from '../../src/smpp/codec.js';

const EXTENSION = ['€', '[', ']', '{', '}', '~', '^', '|', '\\', '\f'];
const EMOJI = '😀'; // U+1F600: one surrogate pair, 2 UTF-16 code units

/** Decode every part of an encoded message, checking UDH consistency on the way. */
function decodeParts(encoded: EncodedMessage): string[] {
  return encoded.parts.map((part, i) => {
    const decoded = decodeShortMessage(part, encoded.dataCoding, encoded.udhi);
    if (encoded.udhi) assert.deepEqual(decoded.concat?.sequence, i + 1);
    return decoded.text;
  });
}

function hasLoneSurrogate(s: string): boolean {
  return /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(s);
}

test('GSM 7-bit is chosen when every character is in the basic or extension table', () => {
  const basic = '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCXYZÄÖÑÜ§¿abcxyzäöñüà';
  assert.equal(isGsm7(basic), true);
  assert.equal(analyze(basic).encoding, 'gsm7');
  assert.equal(analyze(basic + EXTENSION.join('')).encoding, 'gsm7');
  assert.equal(decodeGsm7(encodeGsm7(basic)), basic);
});

test('UCS-2 is chosen for characters outside GSM 03.38 (ç is not in the table, only Ç)', () => {
  for (const text of ['ça va', 'Привет', 'hello 😀', 'naïve', '`backtick`', 'a\u001bb']) {
    assert.equal(isGsm7(text), false, text);
    const shape = analyze(text);
    assert.equal(shape.encoding, 'ucs2', text);
    assert.equal(shape.units, text.length);
    assert.equal(encodeMessage(text, 0).dataCoding, DATA_CODING.ucs2);
  }
  assert.equal(DATA_CODING.gsm7, 0x00);
  assert.throws(() => encodeGsm7('ç'), RangeError);
});

test('basic table positions are exact', () => {
  const expect: Array<[string, number]> = [
    ['@', 0x00], ['£', 0x01], ['$', 0x02], ['¥', 0x03], ['Ç', 0x09], ['_', 0x11], ['Ξ', 0x1a],
    ['É', 0x1f], ['¤', 0x24], ['¡', 0x40], ['§', 0x5f], ['¿', 0x60], ['à', 0x7f],
  ];
  for (const [ch, septet] of expect) assert.deepEqual([...encodeGsm7(ch)], [septet], ch);
});

test('every extension character costs 2 septets (escape + code)', () => {
  const codes: Record<string, number> = {
    '€': 0x65, '[': 0x3c, ']': 0x3e, '{': 0x28, '}': 0x29, '~': 0x3d, '^': 0x14, '|': 0x40, '\\': 0x2f, '\f': 0x0a,
  };
  for (const ch of EXTENSION) {
    assert.deepEqual(analyze(ch), { encoding: 'gsm7', parts: 1, units: 2, unitsPerPart: 160 }, ch);
    assert.deepEqual([...encodeGsm7(ch)], [0x1b, codes[ch]], ch);
    assert.equal(decodeGsm7(encodeGsm7(ch)), ch);
  }
});

test('empty text is one part', () => {
  assert.deepEqual(analyze(''), { encoding: 'gsm7', parts: 1, units: 0, unitsPerPart: 160 });
  const encoded = encodeMessage('', 0);
  assert.equal(encoded.parts.length, 1);
  assert.equal(encoded.udhi, false);
});

test('GSM part counts at 160/161 and 306/307 septets', () => {
  const cases: Array<[number, number]> = [[160, 1], [161, 2], [306, 2], [307, 3]];
  for (const [length, parts] of cases) {
    const text = 'a'.repeat(length);
    const shape = analyze(text);
    assert.equal(shape.parts, parts, `${length} chars`);
    assert.equal(shape.units, length);
    assert.equal(shape.unitsPerPart, parts === 1 ? 160 : 153);
    assert.equal(encodeMessage(text, 1).parts.length, parts);
  }
});

test('UCS-2 part counts at 70/71 code units', () => {
  assert.equal(analyze('ж'.repeat(70)).parts, 1);
  assert.deepEqual(analyze('ж'.repeat(71)), { encoding: 'ucs2', parts: 2, units: 71, unitsPerPart: 67 });
  assert.equal(encodeMessage('ж'.repeat(71), 1).parts.length, 2);
});

test('emoji count as 2 code units: 35 fit one part, 36 need two', () => {
  assert.deepEqual(analyze(EMOJI.repeat(35)), { encoding: 'ucs2', parts: 1, units: 70, unitsPerPart: 70 });
  assert.equal(analyze(EMOJI.repeat(36)).parts, 2);
});

test('no part boundary splits a surrogate pair', () => {
  // Offsets put a pair across the 67-unit boundary for both parities.
  for (const text of ['x' + EMOJI.repeat(40), EMOJI.repeat(100), 'ab' + EMOJI.repeat(70) + 'c']) {
    const encoded = encodeMessage(text, 7);
    const decoded = decodeParts(encoded);
    assert.equal(decoded.length, analyze(text).parts);
    for (const part of decoded) {
      assert.equal(hasLoneSurrogate(part), false);
      assert.ok(part.length <= 67);
    }
    assert.equal(decoded.join(''), text);
  }
  // Pairs at even offsets: the pair at units 66..67 straddles the boundary and moves whole.
  assert.equal(decodeParts(encodeMessage(EMOJI.repeat(100), 0))[0], EMOJI.repeat(33));
  // Shifted by one: 'x' + 33 emoji fills the 67 units exactly, nothing to move.
  assert.equal(decodeParts(encodeMessage('x' + EMOJI.repeat(40), 0))[0], 'x' + EMOJI.repeat(33));
});

test('an escape pair straddling the 153-septet boundary moves whole to the next part', () => {
  const text = 'a'.repeat(152) + '€' + 'b'.repeat(20);
  const encoded = encodeMessage(text, 3);
  assert.equal(encoded.parts.length, 2);
  const first = encoded.parts[0] as Buffer;
  const second = encoded.parts[1] as Buffer;
  assert.equal(first.length, 6 + 152);
  assert.deepEqual([...second.subarray(6, 8)], [0x1b, 0x65]);
  assert.deepEqual(decodeParts(encoded), ['a'.repeat(152), '€' + 'b'.repeat(20)]);
  assert.equal(analyze(text).parts, 2);

  // 306 septets with the escape pair pushed over: 152 + 153 + 2 = 3 parts, where a naive split says 2.
  const pushed = 'a'.repeat(152) + '€' + 'b'.repeat(152);
  assert.equal(analyze(pushed).units, 306);
  assert.equal(analyze(pushed).parts, 3);
  assert.equal(encodeMessage(pushed, 0).parts.length, 3);
});

test('UDH bytes are exact: 05 00 03 ref total seq', () => {
  const encoded = encodeMessage('a'.repeat(307), 0xab);
  assert.equal(encoded.udhi, true);
  encoded.parts.forEach((part, i) => {
    assert.deepEqual([...part.subarray(0, 6)], [0x05, 0x00, 0x03, 0xab, 3, i + 1]);
  });
  assert.deepEqual(encoded.parts.map((p) => p.length), [6 + 153, 6 + 153, 6 + 1]);
});

test('round trip: single-part GSM and UCS-2', () => {
  for (const text of ['Hello {world} €5 @home', 'Привет, мир! 😀']) {
    const encoded = encodeMessage(text, 0);
    assert.equal(encoded.udhi, false);
    assert.deepEqual(decodeShortMessage(encoded.parts[0] as Buffer, encoded.dataCoding, false), { text });
  }
  assert.deepEqual([...encodeUcs2('A€')], [0x00, 0x41, 0x20, 0xac]);
  assert.equal(decodeUcs2(Buffer.from([0x00, 0x41, 0x20, 0xac])), 'A€');
});

test('round trip: multi-part GSM and UCS-2 with concat info', () => {
  for (const text of ['The quick brown fox [] '.repeat(20), 'Съешь же ещё этих мягких булок 😀 '.repeat(8)]) {
    const encoded = encodeMessage(text, 42);
    assert.equal(encoded.parts.length, analyze(text).parts);
    assert.ok(encoded.parts.length > 1);
    const decoded = encoded.parts.map((p) => decodeShortMessage(p, encoded.dataCoding, true));
    decoded.forEach((d, i) => assert.deepEqual(d.concat, { reference: 42, total: encoded.parts.length, sequence: i + 1 }));
    assert.equal(decoded.map((d) => d.text).join(''), text);
  }
});

test('decodeShortMessage: 16-bit concat reference (IEI 0x08)', () => {
  const buf = Buffer.concat([Buffer.from([0x06, 0x08, 0x04, 0x12, 0x34, 0x02, 0x01]), encodeGsm7('hi')]);
  assert.deepEqual(decodeShortMessage(buf, 0, true), { text: 'hi', concat: { reference: 0x1234, total: 2, sequence: 1 } });
});

test('decodeShortMessage: data_coding 0 follows the configured default alphabet', () => {
  const latin1 = Buffer.from('café ñ', 'latin1');
  assert.equal(decodeShortMessage(latin1, 0, false, 'latin1').text, 'café ñ');
  assert.equal(decodeShortMessage(Buffer.from('plain'), 0, false, 'ascii').text, 'plain');
  assert.equal(decodeShortMessage(encodeGsm7('@£$'), 0, false).text, '@£$');
});

test('decodeShortMessage: other data_coding values', () => {
  assert.equal(decodeShortMessage(Buffer.from('hello'), 1, false).text, 'hello');
  assert.equal(decodeShortMessage(Buffer.from('déjà', 'latin1'), 3, false).text, 'déjà');
  assert.equal(decodeShortMessage(encodeUcs2('ж😀'), 8, false).text, 'ж😀');
  assert.equal(decodeShortMessage(Buffer.from([0xff, 0x00]), 4, false).text, '\u00ff\u0000');
  for (const dc of [0xf0, 0xf1, 0xf2, 0xf3]) assert.equal(decodeShortMessage(encodeGsm7('_€'), dc, false).text, '_€');
});

test('decodeShortMessage never throws on malformed input', () => {
  const inputs: Buffer[] = [
    Buffer.alloc(0),
    Buffer.from([0x05]),
    Buffer.from([0x05, 0x00, 0x03]), // UDH length past the end
    Buffer.from([0xff, 0x41, 0x42]),
    Buffer.from([0x03, 0x00, 0x09, 0x01, 0x41]), // IE length past the header
    Buffer.from([0x05, 0x00, 0x03, 0x01, 0x00, 0x00, 0x41]), // total 0: concat ignored
    Buffer.from([0x1b]), // dangling escape
    Buffer.from([0x00, 0x41, 0x00]), // odd UCS-2 length
  ];
  for (const buf of inputs) {
    for (const dc of [0, 3, 8, 0xf0, 0x99]) {
      for (const udhi of [true, false]) {
        assert.doesNotThrow(() => decodeShortMessage(buf, dc, udhi), `${buf.toString('hex')} dc=${dc} udhi=${udhi}`);
        assert.equal(typeof decodeShortMessage(buf, dc, udhi).text, 'string');
      }
    }
  }
  assert.equal(decodeShortMessage(Buffer.from([0x05, 0x00, 0x03, 0x01, 0x00, 0x00, 0x41]), 0, true).concat, undefined);
});

test('analyze agrees with encodeMessage on mixed texts', () => {
  const samples = ['€'.repeat(80), '€'.repeat(77) + 'a', 'a' + '€'.repeat(200), EMOJI.repeat(67) + 'x', 'x'.repeat(1000)];
  for (const text of samples) assert.equal(encodeMessage(text, 0).parts.length, analyze(text).parts, text.slice(0, 10));
});
