/**
 * An SMSC that never sends the receipts it was asked for: after dispatcher.receipt_wait the
 * messages end `unconfirmed` (history, metrics, webhook event), not `sent` forever; a receipt
 * that comes later still tells the truth; operators not asked for receipts keep `sent`.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { accountIdOf, call, fund, registerAndLogin } from '../support/api.js';
import { numbers, startGateway, startSimulator, waitFor } from '../support/harness.js';
import { accountingHolds } from './accounting.js';

test('receipts that never come end messages unconfirmed after the wait; a late receipt still ends them delivered', async () => {
  const silent = await startSimulator({ systemId: 'airtel', password: 'pw', receipts: false });
  const late = await startSimulator({ systemId: 'moov', password: 'pw', receiptDelayMs: 9000 });
  const quiet = await startSimulator({ systemId: 'libertis', password: 'pw', receipts: false });
  const gw = await startGateway(
    [{ name: 'airtel', binds: [{ port: silent.port }] }, { name: 'moov', binds: [{ port: late.port }] }, { name: 'libertis', registered_delivery: false, binds: [{ port: quiet.port }] }],
    { dispatcher: { poll_interval_ms: 10, receipt_wait: 1 }, routes: [{ prefix: '+24162', operator: 'airtel' }, { prefix: '+24177', operator: 'moov' }, { prefix: '+24166', operator: 'libertis' }] },
  );
  try {
    await waitFor(() => gw.binds.every((b) => b.state === 'bound'));
    const token = await registerAndLogin(gw, 'receipts@example.com');
    await fund(gw, await accountIdOf(gw, token), 100_000);
    const send = async (to: string[]) => (await call(gw, 'POST', '/api/messages/send', { token, body: { recipients: to, message: 'receipt?' } })).json.data.message_ids as number[];
    const [silentIds, lateIds, quietIds] = [await send(numbers(3, '+24162')), await send(numbers(2, '+24177')), await send(numbers(2, '+24166'))];
    await waitFor(async () => (await gw.rows([...silentIds, ...lateIds])).every((r) => r.status === 'unconfirmed'), 12_000, 'unconfirmed after the wait');
    const history = await call(gw, 'GET', '/api/messages/history?status=unconfirmed', { token });
    assert.equal(history.json.total ?? history.json.data.length, 5);
    assert.match((await gw.rows(silentIds))[0]!.error ?? '', /no delivery receipt within/);
    assert.match(await (await fetch(`${gw.url}/metrics`)).text(), /relais_messages_total\{state="unconfirmed"\} 5/);
    assert.deepEqual((await gw.rows(quietIds)).map((r) => r.status), ['sent', 'sent'], 'no receipt was asked for: sent is their end');
    await waitFor(async () => (await gw.rows(lateIds)).every((r) => r.status === 'delivered'), 12_000, 'the late receipts land');
    await accountingHolds(gw, { smscs: [silent, late, quiet], accepted: [...silentIds, ...lateIds, ...quietIds], pending: ['sent'], ready: true });
  } finally {
    await gw.cleanup();
    await Promise.all([silent.stop(), late.stop(), quiet.stop()]);
  }
});
