import assert from 'node:assert/strict';
import { test } from 'node:test';
import { normalizeNumber } from '../../src/routing/number.js';
import { Router } from '../../src/routing/router.js';

const plan = { country_code: '241', national_prefix: '0', international_prefix: '00' };
const e164 = (s: string) => {
  const n = normalizeNumber(s, plan);
  return n.ok ? n.e164 : `!${n.reason}`;
};

test('normalization: international, 00, national 0, bare country code, separators', () => {
  assert.equal(e164('+24162000001'), '+24162000001');
  assert.equal(e164('0024162000001'), '+24162000001');
  assert.equal(e164('0777000003'), '+241777000003');
  assert.equal(e164('24162000001'), '+24162000001');
  assert.equal(e164(' +241 62-00.00 (01) '), '+24162000001');
  assert.equal(e164('+33612345678'), '+33612345678');
});

test('normalization refuses what is not a number', () => {
  for (const bad of ['', '   ', 'abc', '+2416200000a', '+1234567', '+1234567890123456', '+0123456789', '12345']) {
    assert.match(e164(bad), /^!/, `accepted ${JSON.stringify(bad)}`);
  }
});

test('a country without a national prefix', () => {
  const n = normalizeNumber('612345678', { country_code: '33', national_prefix: '', international_prefix: '00' });
  assert.equal(n.ok, false);
});

test('longest prefix wins; priority breaks ties; failover is carried; default route otherwise', () => {
  const r = new Router([
    { prefix: '+241', operator: 'national', priority: 0 },
    { prefix: '+24162', operator: 'airtel', failover: 'moov', priority: 0 },
    { prefix: '+241620', operator: 'special', priority: 0 },
    { prefix: '+24177', operator: 'moov', priority: 0 },
    { prefix: '+24177', operator: 'moov2', priority: 5 },
  ]);
  assert.deepEqual(r.route('+24162100000'), { operator: 'airtel', failover: 'moov', prefix: '+24162' });
  assert.equal(r.route('+24162000001')?.operator, 'special');
  assert.equal(r.route('+24177000001')?.operator, 'moov2');
  assert.equal(r.route('+24155000000')?.operator, 'national');
  assert.equal(r.route('+33612345678'), null);
  const withDefault = new Router([{ prefix: '+24162', operator: 'airtel', priority: 0 }], 'moov');
  assert.deepEqual(withDefault.route('+33612345678'), { operator: 'moov', failover: null, prefix: null });
});
