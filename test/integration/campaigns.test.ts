/**
 * Campaigns over real HTTP, a real daemon and the SMSC simulator: audiences from groups and
 * numbers with exact counts, pause/resume/cancel with refunds, schedules on an injected clock,
 * A/B splits, a 402 that changes nothing, and one-off sends ahead of a campaign's backlog.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { accountIdOf, approveSender, call, fund, PASSWORD, registerAndLogin } from '../support/api.js';
import { numbers, startGateway, startSimulator, waitFor, type Gateway } from '../support/harness.js';
import type { SmscSimulator } from '../../src/smpp/simulator/simulator.js';

interface Ctx { gw: Gateway; sim: SmscSimulator; token: string; id: number }

async function withCampaigns(opts: { tps?: number; window?: number; credits?: number; clock?: () => number; dbPath?: string }, fn: (c: Ctx) => Promise<void>): Promise<void> {
  const sim = await startSimulator({ systemId: 'airtel', password: 'pw', receiptDelayMs: 5 });
  let gw: Gateway | undefined;
  try {
    gw = await startGateway([{ name: 'airtel', binds: [{ port: sim.port, tps: opts.tps ?? 2000, window: opts.window ?? 50 }] }],
      { webhooks: { allow_private_networks: true }, rate_limits: { send_per_minute: 10_000, default_per_minute: 10_000, auth_per_minute: 1000 } },
      opts.dbPath, undefined, opts.clock ? { clock: opts.clock } : {});
    // A restart on the same database logs the account in again.
    const token = opts.dbPath && (await gw.store.db.selectFrom('accounts').select('id').where('email', '=', 'marketing@example.com').executeTakeFirst())
      ? (await call(gw, 'POST', '/api/auth/login', { body: { email: 'marketing@example.com', password: PASSWORD } })).json.data.token as string
      : await registerAndLogin(gw, 'marketing@example.com', 'Marketing');
    const id = await accountIdOf(gw, token);
    if (opts.credits) await fund(gw, id, opts.credits);
    await fn({ gw, sim, token, id });
  } finally {
    await gw?.cleanup();
    await sim.stop();
  }
}

const create = async (c: Ctx, body: Record<string, unknown>) => {
  const r = await call(c.gw, 'POST', '/api/campaigns', { token: c.token, body });
  assert.equal(r.status, 201, r.text);
  return r.json.data as { id: number; status: string };
};
const get = async (c: Ctx, id: number) => (await call(c.gw, 'GET', `/api/campaigns/${id}`, { token: c.token })).json.data;
const act = (c: Ctx, id: number, action: string, body?: unknown) => call(c.gw, 'POST', `/api/campaigns/${id}/${action}`, { token: c.token, body: body ?? {} });
const waitStatus = (c: Ctx, id: number, status: string, ms = 20_000) => waitFor(async () => (await get(c, id)).status === status, ms, `campaign ${id} ${status}`);
const messageCount = async (gw: Gateway, campaignId: number, statuses?: string[]) => {
  let q = gw.store.db.selectFrom('messages').select((eb) => eb.fn.countAll<number>().as('n')).where('campaign_id', '=', campaignId);
  if (statuses) q = q.where('status', 'in', statuses as never[]);
  return Number((await q.executeTakeFirstOrThrow()).n);
};

test('a campaign to a group plus numbers: duplicates, blacklisted, opted-out and invalid numbers removed and counted; it completes with every receipt counted', async () => {
  await withCampaigns({ credits: 10_000 }, async (c) => {
    const hits: { event: string }[] = [];
    const receiver = (await import('node:http')).createServer((req, res) => {
      let raw = '';
      req.on('data', (d: Buffer) => (raw += d.toString()));
      req.on('end', () => {
        hits.push(JSON.parse(raw) as { event: string });
        res.end('ok');
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', () => r()));
    const port = (receiver.address() as { port: number }).port;
    try {
      await call(c.gw, 'POST', '/api/webhooks', { token: c.token, body: { name: 'campaigns', url: `http://127.0.0.1:${port}/`, events: ['campaign.started', 'campaign.completed'] } });
      for (let i = 1; i <= 5; i++) {
        const r = await call(c.gw, 'POST', '/api/contacts', { token: c.token, body: { name: `Client ${i}`, phone: `+2416200000${i}`, group: 'VIP', status: i === 5 ? 'unsubscribed' : 'active' } });
        assert.equal(r.status, 201, r.text);
      }
      const group = (await call(c.gw, 'GET', '/api/contact-groups', { token: c.token })).json.data[0];
      assert.equal((await call(c.gw, 'POST', '/api/blacklist', { token: c.token, body: { phone_number: '+24162000012' } })).status, 201);
      const campaign = await create(c, {
        name: 'Black Friday', message_content: 'Bonjour {nom}, -50% ce week-end', group_ids: [group.id],
        recipients: ['+24162000001', '062000002', '+24162000010', '+24162000011', '+24162000012', '123'],
      });
      assert.equal(campaign.status, 'draft');
      const started = await act(c, campaign.id, 'send');
      assert.equal(started.status, 200, started.text);
      assert.deepEqual(
        [started.json.data.stats.total_recipients, started.json.data.stats.removed, started.json.data.stats.duplicates],
        [6, 3, 2], 'kept 1,2,3,4 (group) + 10,11; removed the opted-out 5, blacklisted 12, invalid "123"; 1 and 2 twice',
      );
      assert.equal(await c.gw.credits.balanceOf(c.id), 10_000 - 6 * 20, 'the whole cost reserved at start');
      await waitStatus(c, campaign.id, 'completed');
      await waitFor(async () => (await get(c, campaign.id)).stats.delivered === 6, 10_000, 'six receipts');
      const done = await get(c, campaign.id);
      assert.deepEqual([done.stats.total_recipients, done.stats.queued, done.stats.sent, done.stats.delivered, done.stats.failed, done.delivery_rate], [6, 0, 6, 6, 0, 100]);
      const bodies = await c.gw.store.db.selectFrom('messages').select(['recipient', 'body']).where('campaign_id', '=', campaign.id).orderBy('recipient').execute();
      assert.deepEqual(bodies.map((b) => b.recipient), ['+24162000001', '+24162000002', '+24162000003', '+24162000004', '+24162000010', '+24162000011']);
      assert.equal(bodies[0]!.body, 'Bonjour Client 1, -50% ce week-end', 'personalized per recipient');
      assert.equal(bodies[4]!.body, 'Bonjour {nom}, -50% ce week-end', 'a number with no contact keeps the variable');
      await waitFor(() => hits.length >= 2, 5000, 'campaign webhooks');
      assert.deepEqual(hits.map((h) => h.event), ['campaign.started', 'campaign.completed']);
      assert.equal(await c.gw.credits.balanceOf(c.id), 10_000 - 6 * 20, 'nothing refunded: all six were sent');
      const audit = (await call(c.gw, 'GET', `/api/audit-logs?model_type=Campaign&model_id=${campaign.id}`, { token: c.token })).json.data.map((a: { action: string }) => a.action);
      assert.deepEqual(audit.reverse(), ['campaign.created', 'campaign.started', 'campaign.completed']);
    } finally {
      receiver.close();
    }
  });
});

test('pause stops new submits within a second, resume finishes the campaign', async () => {
  await withCampaigns({ credits: 1_000_000, tps: 300, window: 10 }, async (c) => {
    const campaign = await create(c, { name: 'Slow', message_content: 'Promo', recipients: numbers(1500) });
    assert.equal((await act(c, campaign.id, 'send')).status, 200);
    await waitFor(() => c.sim.received.length >= 200, 10_000, 'some submits');
    const paused = await act(c, campaign.id, 'pause');
    assert.equal(paused.status, 200, paused.text);
    assert.equal(paused.json.data.status, 'paused');
    await new Promise((r) => setTimeout(r, 1000));
    const atOneSecond = c.sim.received.length;
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(c.sim.received.length, atOneSecond, 'nothing submitted after the window drained');
    assert.ok(atOneSecond < 1500);
    assert.equal(await messageCount(c.gw, campaign.id, ['queued']), 0, 'the waiting messages are set aside');
    assert.ok((await messageCount(c.gw, campaign.id, ['paused'])) > 0);
    assert.equal((await act(c, campaign.id, 'pause')).status, 409, 'a paused campaign cannot be paused');
    assert.equal((await call(c.gw, 'DELETE', `/api/campaigns/${campaign.id}`, { token: c.token })).status, 409, 'nor deleted');
    const resumed = await act(c, campaign.id, 'resume');
    assert.equal(resumed.json.data.status, 'running');
    await waitStatus(c, campaign.id, 'completed', 30_000);
    await waitFor(async () => (await get(c, campaign.id)).stats.delivered === 1500, 10_000, 'all delivered');
    assert.equal(new Set(c.sim.received.map((r) => r.destination)).size, 1500);
  });
});

test('cancel leaves nothing queued and refunds what was never submitted', async () => {
  const credits = 100_000;
  await withCampaigns({ credits, tps: 200, window: 10 }, async (c) => {
    const campaign = await create(c, { name: 'Stopped', message_content: 'Promo', recipients: numbers(2000) });
    assert.equal((await act(c, campaign.id, 'send')).status, 200);
    await waitFor(() => c.sim.received.length >= 100, 10_000, 'some submits');
    const cancelled = await act(c, campaign.id, 'cancel');
    assert.equal(cancelled.status, 200, cancelled.text);
    assert.equal(cancelled.json.data.status, 'cancelled');
    assert.equal(await messageCount(c.gw, campaign.id, ['queued', 'paused']), 0);
    await waitFor(async () => (await messageCount(c.gw, campaign.id, ['submitting'])) === 0, 10_000, 'window drained');
    const submitted = await messageCount(c.gw, campaign.id) - (await messageCount(c.gw, campaign.id, ['cancelled']));
    assert.ok(submitted >= 100 && submitted < 2000, `submitted ${submitted}`);
    assert.equal(await c.gw.credits.balanceOf(c.id), credits - submitted * 20, 'refunded every message never submitted, and the unexpanded rest');
    assert.equal((await act(c, campaign.id, 'resume')).status, 409);
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(c.sim.received.length, submitted, 'the SMSC saw exactly the submitted ones');
  });
});

test('a daily schedule fires on an injected clock in the account time zone; a run missed while down fires once at start', async () => {
  const { tempDir } = await import('../support/harness.js');
  const tmp = tempDir();
  let now = Date.parse('2026-12-02T07:59:00Z'); // 08:59 in Libreville (UTC+1)
  const clock = () => now;
  const dbPath = `${tmp.dir}/relais.db`;
  let campaignId = 0;
  const runsOf = async (gw: Gateway) => (await gw.store.db.selectFrom('campaign_runs').select('slot').where('campaign_id', '=', campaignId).orderBy('id').execute()).map((r) => r.slot);
  try {
    await withCampaigns({ credits: 10_000, clock, dbPath }, async (c) => {
      const campaign = await create(c, { name: 'Daily', message_content: 'Bonjour', recipients: ['+24162000001', '+24162000002'] });
      campaignId = campaign.id;
      const scheduled = await act(c, campaign.id, 'schedule', { frequency: 'daily', time: '09:00', timezone: 'Africa/Libreville' });
      assert.equal(scheduled.status, 200, scheduled.text);
      assert.equal(scheduled.json.data.status, 'scheduled');
      await c.gw.background.scheduler.check();
      assert.deepEqual(await runsOf(c.gw), [], 'not yet 09:00 local');
      now = Date.parse('2026-12-02T08:00:20Z');
      await c.gw.background.scheduler.check();
      await c.gw.background.scheduler.check();
      assert.deepEqual(await runsOf(c.gw), [Date.parse('2026-12-02T08:00:00Z')], 'one run at 09:00 local, however often checked');
      await waitStatus(c, campaign.id, 'scheduled');
      now = Date.parse('2026-12-03T08:00:05Z');
      await c.gw.background.scheduler.check();
      assert.equal((await runsOf(c.gw)).length, 2, 'the next day');
      await waitStatus(c, campaign.id, 'scheduled');
    });
    // Down through the 4th at 09:00; up again at 11:30 local: the day's run fires once.
    now = Date.parse('2026-12-04T10:30:00Z');
    await withCampaigns({ clock, dbPath }, async (c) => {
      assert.deepEqual((await runsOf(c.gw)).slice(2), [Date.parse('2026-12-04T08:00:00Z')], 'caught up at start');
      await waitStatus(c, campaignId, 'scheduled');
    });
    await withCampaigns({ clock, dbPath }, async (c) => {
      assert.equal((await runsOf(c.gw)).length, 3, 'never twice');
      await waitFor(async () => (await get(c, campaignId)).stats.delivered === 6, 10_000, 'three runs of two');
    });
  } finally {
    tmp.cleanup();
  }
});

test('A/B variants: 1 000 recipients at 30/70 split exactly 300/700, counted per variant; percentages must add up to 100', async () => {
  await withCampaigns({ credits: 100_000, tps: 5000, window: 100 }, async (c) => {
    const campaign = await create(c, { name: 'AB', message_content: 'Base', recipients: numbers(1000) });
    const bad = await act(c, campaign.id, 'variants', { variants: [{ variant_name: 'A', message: 'a', percentage: 50 }, { variant_name: 'B', message: 'b', percentage: 40 }] });
    assert.equal(bad.status, 422);
    assert.deepEqual(bad.json.errors, { variants: ['The variant percentages must add up to 100 (they add up to 90).'] });
    const ok = await act(c, campaign.id, 'variants', { variants: [{ variant_name: 'Version A', message: 'Get 20% OFF now!', percentage: 30 }, { variant_name: 'Version B', message: 'Limited time: 20% discount!', percentage: 70 }] });
    assert.equal(ok.status, 200, ok.text);
    assert.equal((await act(c, campaign.id, 'send')).status, 200);
    await waitStatus(c, campaign.id, 'completed', 30_000);
    await waitFor(async () => (await get(c, campaign.id)).stats.delivered === 1000, 15_000, 'all delivered');
    const d = await get(c, campaign.id);
    assert.deepEqual(d.variants.map((v: { variant_name: string; stats: { total_recipients: number; delivered: number; delivery_rate: number } }) => [v.variant_name, v.stats.total_recipients, v.stats.delivered, v.stats.delivery_rate]), [['Version A', 300, 300, 100], ['Version B', 700, 700, 100]]);
    const texts = await c.gw.store.db.selectFrom('messages').select(['body', (eb) => eb.fn.countAll<number>().as('n')]).where('campaign_id', '=', campaign.id).groupBy('body').orderBy('body').execute();
    assert.deepEqual(texts.map((t) => [t.body, Number(t.n)]), [['Get 20% OFF now!', 300], ['Limited time: 20% discount!', 700]]);
  });
});

test('a campaign the balance cannot cover is refused with 402 and changes nothing', async () => {
  await withCampaigns({ credits: 100 }, async (c) => {
    const campaign = await create(c, { name: 'Too big', message_content: 'Promo', recipients: numbers(10) });
    const r = await act(c, campaign.id, 'send');
    assert.equal(r.status, 402, r.text);
    assert.deepEqual([r.json.required, r.json.balance], [200, 100]);
    assert.equal((await get(c, campaign.id)).status, 'draft');
    assert.equal(await c.gw.credits.balanceOf(c.id), 100);
    assert.equal(await messageCount(c.gw, campaign.id), 0);
    for (const table of ['campaign_runs', 'campaign_recipients'] as const) {
      assert.equal((await c.gw.store.db.selectFrom(table).selectAll().execute()).length, 0, `${table} empty`);
    }
    assert.equal((await c.gw.credits.transactions(c.id)).length, 1, 'only the top-up');
  });
});

test('an API send made while a 100 000-recipient campaign runs on the same operator goes ahead of the campaign backlog', async () => {
  await withCampaigns({ credits: 10_000_000, tps: 1000, window: 50 }, async (c) => {
    await approveSender(c.gw, c.token, 'OTP');
    const campaign = await create(c, { name: 'Huge', message_content: 'Promo', recipients: numbers(100_000) });
    const started = await act(c, campaign.id, 'send');
    assert.equal(started.status, 200, started.text);
    await waitFor(async () => (await messageCount(c.gw, campaign.id, ['sent', 'delivered'])) >= 500, 20_000, 'the campaign is flowing');
    const otp = await call(c.gw, 'POST', '/api/messages/send', { token: c.token, body: { recipients: ['+24162999999'], message: 'Code 4242', sender_id: 'OTP' } });
    assert.equal(otp.status, 200, otp.text);
    const [otpId] = otp.json.data.message_ids as number[];
    await waitFor(async () => ['sent', 'delivered'].includes((await c.gw.rows([otpId!]))[0]!.status), 3000, 'the one-off submitted');
    const backlog = await messageCount(c.gw, campaign.id, ['queued']);
    const expanding = (await get(c, campaign.id)).stats.queued;
    assert.ok(expanding > 90_000 && backlog > 0, `submitted ahead of a backlog of ${expanding} (${backlog} already in the queue)`);
    await act(c, campaign.id, 'cancel');
  });
});
