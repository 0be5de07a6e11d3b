/**
 * The operator console in a real browser: Debian's chromium (never a downloaded one) driven by
 * playwright-core, against a real daemon with two simulated operators. Logs in as an admin, sees
 * both operators bound, finds a delivered message and its story, approves a sender ID and tops up
 * credits in the page (checked through the API), and checks that a non-admin cannot log in.
 * Writes the screenshots the README shows (docs/screenshots/console-*.png).
 *
 * Without /usr/bin/chromium the test is skipped, saying why, except under CI where it fails
 * (.ci/run installs the package).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { BrowserContext } from 'playwright-core';
import { accountIdOf, call, fund, PASSWORD, registerAndLogin } from '../support/api.js';
import { startGateway, testConfig, waitFor } from '../support/harness.js';
import { fillLogin, flashOf, launchPage, navOf, receiver, SHOTS, skipWithoutChromium, startBrowserTest, stepRunner } from './support.js';

/** The page's document, in page.evaluate / waitForFunction callbacks (this project compiles without the DOM lib). */
declare const document: {
  cookie: string;
  querySelector(sel: string): { textContent: string | null } | null;
  querySelectorAll(sel: string): Iterable<{ children: ArrayLike<{ textContent: string | null } | undefined> }>;
};

const skip = skipWithoutChromium('the console\'s browser test');

test('operator console in chromium: login, traffic, message story, sender ID approval, top-up, routes; a non-admin is refused', { skip, timeout: 120_000 }, async (t) => {
  const run = await startBrowserTest('console');
  const { operators } = run;
  // The daemon runs from a config file, so that "Reload config" has a file to re-read.
  const state = mkdtempSync(join(tmpdir(), 'relais-console-'));
  const extra = { webhooks: { allow_private_networks: true, retry_initial: 0.1, retry_max: 0.5 } };
  const dbPath = join(state, 'relais.db');
  const configPath = join(state, 'relais.json');
  const config = testConfig(dbPath, operators, extra);
  writeFileSync(configPath, JSON.stringify(config));
  const gw = await startGateway(operators, extra, dbPath, undefined, { configPath });
  const hook = await receiver('/hooks/relais');
  const profile = join(state, 'chromium-profile');
  let context: BrowserContext | null = null;
  try {
    // The people: the operator's admin, and an integrator with credits and a webhook.
    const adminEmail = 'ops@relais.test';
    await gw.accounts.create({ name: 'Operations', email: adminEmail, password: PASSWORD, role: 'admin' });
    const userEmail = 'dev@acme.test';
    const user = await registerAndLogin(gw, userEmail, 'Acme Shop');
    const userId = await accountIdOf(gw, user);
    await fund(gw, userId, 5000);
    const webhook = await call(gw, 'POST', '/api/webhooks', { token: user, body: { name: 'Acme backend', url: hook.url, events: ['message.sent', 'message.delivered'] } });
    assert.equal(webhook.status, 201, webhook.text);

    const launched = await launchPage(profile, { height: 800, origin: gw.url });
    context = launched.context;
    const { page, problems } = launched;
    const step = stepRunner(t);
    const flash = flashOf(page);
    const nav = navOf(page);
    const login = (email: string, password: string) => fillLogin(page, 'form.login-card', email, password);

    await step('a non-admin cannot log in: the API\'s refusal is shown, no session cookie', async () => {
      await page.goto(`${gw.url}/console/`);
      await login(userEmail, PASSWORD);
      const error = page.locator('.login-error');
      await error.waitFor({ state: 'visible' });
      const text = (await error.textContent())?.trim() ?? '';
      assert.ok(text.length > 0, 'an error message is shown');
      assert.equal(await page.locator('.shell').count(), 0, 'no console for a non-admin');
      assert.equal((await context!.cookies()).filter((c) => c.name === 'relais_session').length, 0, 'no session cookie');
      // A wrong password is refused too, with the API's message.
      await login(adminEmail, 'not-the-password');
      await page.waitForFunction((before) => document.querySelector('.login-error')?.textContent !== before, text);
      assert.match((await error.textContent()) ?? '', /\S/);
    });

    await step('an admin logs in (HttpOnly, SameSite=Strict cookie) and sees both simulated operators bound', async () => {
      await login(adminEmail, PASSWORD);
      await page.waitForSelector('.shell');
      const cookie = (await context!.cookies()).find((c) => c.name === 'relais_session');
      assert.ok(cookie, 'session cookie set');
      assert.equal(cookie.httpOnly, true);
      assert.equal(cookie.sameSite, 'Strict');
      assert.equal(await page.evaluate(() => document.cookie.includes('relais_session')), false, 'not readable by scripts');
      for (const [op, bind] of [['airtel', 'airtel-1'], ['moov', 'moov-1']]) {
        await page.waitForSelector(`section[data-operator="${op}"] tr[data-bind="${bind}"][data-state="bound"]`);
      }
      assert.equal(await page.locator('tr[data-bind] .pill[data-state="bound"]').count(), 2);
      // Without the CSRF header, the cookie alone cannot change anything.
      const status = await page.evaluate(async (id) => (await fetch(`/api/admin/accounts/${id}/credits`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"amount":1}' })).status, userId);
      assert.equal(status, 403, 'a POST without X-CSRF-Token is refused');
    });

    // Traffic for the screenshots and the search: one message to find, a few more for the chart.
    const text = 'Bonjour <b>Relais</b> €: your code is 4821';
    const sent = await call(gw, 'POST', '/api/messages/send', { token: user, body: { recipients: ['+24162000001'], message: text } });
    assert.equal(sent.status, 200, sent.text);
    const id = sent.json.data.message_ids[0] as number;
    const more = await call(gw, 'POST', '/api/messages/send', { token: user, body: { recipients: Array.from({ length: 12 }, (_, i) => (i % 2 ? `+24177${String(100 + i).padStart(6, '0')}` : `+24162${String(100 + i).padStart(6, '0')}`)), message: 'Your parcel is on its way' } });
    assert.equal(more.status, 200, more.text);
    const [row] = await gw.waitFinal([id, ...(more.json.data.message_ids as number[])]).then((rows) => rows.filter((r) => r.id === id));
    assert.equal(row?.status, 'delivered');
    await waitFor(() => hook.hits.filter((h) => h.body.includes(`"message_id":${id}`)).length >= 2, 10_000, 'the webhook deliveries of the message');

    await step('traffic shows the last minute\'s submits and a chart per bind', async () => {
      await page.waitForFunction(() => [...document.querySelectorAll('tr[data-bind]')].reduce((n, tr) => n + Number(tr.children[6]?.textContent?.replace(/\D/g, '') || 0), 0) >= 13, null, { timeout: 8000 });
      assert.ok(await page.locator('tr[data-bind="airtel-1"] svg.chart').count(), 'a chart of the last minutes');
      await page.screenshot({ path: join(SHOTS, 'console-traffic.png') });
    });

    await step('the message is found delivered in the search, with its story (parts, SMSC id, timeline, receipt, webhooks)', async () => {
      await nav('messages');
      await page.fill('form.search input[name="phone"]', '+24162000001');
      await page.click('form.search button[type="submit"]');
      const tr = page.locator(`tr[data-message="${id}"]`);
      await tr.locator('.pill[data-state="delivered"]').waitFor();
      assert.equal(await page.locator('tr[data-message]').count(), 1, 'only that number');
      await tr.click();
      const story = page.locator(`[data-story="${id}"]`);
      await story.locator('.smsc-id').first().waitFor();
      assert.equal((await story.locator('.smsc-id').first().textContent())?.trim(), row!.smsc_id, 'the SMSC id of the part');
      assert.equal(await story.locator('.body-text').textContent(), text, 'the text, shown as text');
      assert.equal(await story.locator('.body-text b').count(), 0, 'markup in a message stays text');
      for (const st of ['queued', 'sent', 'delivered']) assert.ok(await story.locator(`.timeline .pill[data-state="${st}"]`).count(), `timeline has ${st}`);
      assert.match((await story.locator('pre.receipt').first().textContent()) ?? '', /stat:DELIVRD/);
      await story.locator('table tr', { hasText: 'message.delivered' }).waitFor();
      assert.ok(await story.locator('table tr', { hasText: 'message.sent' }).count(), 'webhook deliveries listed');
      await page.screenshot({ path: join(SHOTS, 'console-messages.png') });
      await page.keyboard.press('Escape');
      await story.waitFor({ state: 'detached' });
    });

    await step('a pending sender ID approved in the page lets the account send with it', async () => {
      const req = await call(gw, 'POST', '/api/sender-ids', { token: user, body: { name: 'ACME' } });
      assert.equal(req.status, 201, req.text);
      const before = await call(gw, 'POST', '/api/messages/send', { token: user, body: { recipients: ['+24162000002'], message: 'x', sender_id: 'ACME' } });
      assert.equal(before.status, 422, 'not yet approved');
      await nav('sender-ids');
      const tr = page.locator('tr[data-name="ACME"]');
      await tr.getByRole('button', { name: 'Approve' }).click();
      await flash('Sender ID ACME approved').waitFor();
      await tr.waitFor({ state: 'detached' });
      const after = await call(gw, 'POST', '/api/messages/send', { token: user, body: { recipients: ['+24162000002'], message: 'From ACME', sender_id: 'ACME' } });
      assert.equal(after.status, 200, after.text);
      assert.equal(after.json.data.sender_id, 'ACME');
    });

    await step('a top-up in the page reaches the balance (checked through the API)', async () => {
      const before = (await call(gw, 'GET', '/api/balance', { token: user })).json.data.balance as number;
      await nav('accounts');
      const tr = page.locator(`tr[data-email="${userEmail}"]`);
      await tr.getByRole('button', { name: 'Top up' }).click();
      const form = page.locator(`tr[data-topup="${userId}"] form`);
      await form.locator('input[name="amount"]').fill('2500');
      await form.locator('input[name="reference"]').fill('INV-2026-118');
      await form.getByRole('button', { name: 'Add credits' }).click();
      await flash(/2,500 credits added to dev@acme\.test/).waitFor();
      const balance = (await call(gw, 'GET', '/api/balance', { token: user })).json.data.balance as number;
      assert.equal(balance, before + 2500);
      await page.waitForFunction(([email, b]) => document.querySelector(`tr[data-email="${email}"] .balance`)?.textContent === b, [userEmail, new Intl.NumberFormat('en-US').format(balance)] as const);
      await page.screenshot({ path: join(SHOTS, 'console-accounts.png') });
    });

    await step('routes: the prefix table, a route added by "Reload config", which operator gets a number', async () => {
      await nav('routes');
      await page.waitForSelector('tr[data-prefix="+24177"]');
      assert.equal(await page.locator('tr[data-prefix="+24166"]').count(), 0);
      writeFileSync(configPath, JSON.stringify({ ...config, routes: [...config.routes, { prefix: '+24166', operator: 'moov' }] }));
      await page.getByRole('button', { name: 'Reload config' }).click();
      await flash('Configuration reloaded').locator('li', { hasText: 'Applied: routes' }).waitFor();
      await nav('traffic');
      await nav('routes');
      await page.waitForSelector('tr[data-prefix="+24166"]');
      await page.fill('#lookup-number', '0777000003');
      await page.click('form.lookup button[type="submit"]');
      await page.waitForSelector('.lookup-answer[data-operator="moov"]');
      assert.equal(await page.locator('tr.match[data-prefix="+24177"]').count(), 1, 'the matching prefix is highlighted');
      await page.screenshot({ path: join(SHOTS, 'console-routes.png') });
    });

    await step('log out: the login page, and the cookie is gone', async () => {
      await page.getByRole('button', { name: 'Log out' }).click();
      await page.waitForSelector('#login-email');
      assert.equal((await context!.cookies()).filter((c) => c.name === 'relais_session' && c.value).length, 0);
      await page.reload();
      await page.waitForSelector('#login-email');
    });

    run.done(t, problems);
  } finally {
    await run.stop({ context, gateway: gw, state, hook });
  }
});
