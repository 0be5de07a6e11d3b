/**
 * The integrators' dashboard in a real browser: Debian's chromium (never a downloaded one) driven by
 * playwright-core, against a real daemon with two simulated operators. An integrator signs up and
 * logs in in the page; the operator funds the account; the integrator creates an API key in the
 * page, and the test sends with that key through Mifumo's /api/integration/v1/sms/send/, then sees
 * the message delivered in the dashboard's history with its parts; creates a webhook to a receiver
 * the test runs and sees the test delivery land in its log; imports contacts (the bad row shown by
 * line) and follows a campaign to its delivery rate; creates a viewer sub-account, which sees the
 * history but no key or send control; a second account sees none of the first one's messages or
 * keys. Writes the screenshots the README shows (docs/screenshots/dashboard-*.png).
 *
 * Without /usr/bin/chromium the test is skipped, saying why, except under CI where it fails
 * (.ci/run installs the package).
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { BrowserContext } from 'playwright-core';
import { accountIdOf, adminToken, call, fund, PASSWORD, registerAndLogin } from '../support/api.js';
import { startGateway, waitFor } from '../support/harness.js';
import { fillLogin, flashOf, launchPage, navOf, receiver, SHOTS, skipWithoutChromium, startBrowserTest, stepRunner } from './support.js';

/** The page's globals, in page.evaluate callbacks (this project compiles without the DOM lib). */
declare const document: { cookie: string; querySelector(sel: string): { textContent: string | null } | null };
declare const navigator: { clipboard: { readText(): Promise<string> } };

const skip = skipWithoutChromium('the dashboard\'s browser test');

test('integrators\' dashboard in chromium: sign-up, package order, API key used from outside, delivered message, webhook test, contacts and a campaign, a viewer sub-account, another account\'s isolation', { skip, timeout: 150_000 }, async (t) => {
  const run = await startBrowserTest('dashboard');
  const { operators } = run;
  // Webhooks to the test's receiver on 127.0.0.1 need the private-network switch.
  const gw = await startGateway(operators, { webhooks: { allow_private_networks: true, retry_initial: 0.1, retry_max: 0.5 }});
  const hook = await receiver('/hooks/sms');
  const state = mkdtempSync(join(tmpdir(), 'relais-dashboard-'));
  let context: BrowserContext | null = null;
  try {
    // The operator's side: a package on sale (for the page to offer).
    const admin = await adminToken(gw);
    const pkg = await call(gw, 'POST', '/api/admin/packages', { token: admin, body: { name: 'Starter 1 000', sms_count: 1000, bonus_sms: 100, price: 15000, currency: 'XAF', validity_days: 90 } });
    assert.equal(pkg.status, 201, pkg.text);

    const launched = await launchPage(join(state, 'profile'), { height: 860, origin: gw.url, clipboard: true });
    context = launched.context;
    const { page, problems } = launched;
    const step = stepRunner(t);
    const flash = flashOf(page);
    const nav = navOf(page);
    const login = async (email: string, password = PASSWORD) => {
      await fillLogin(page, '#login-form', email, password);
      await page.waitForSelector('.shell');
    };
    const logout = async () => {
      await page.click('#logout');
      await page.waitForSelector('#login-email');
    };

    const email = 'dev@acme.test';
    let token = '';
    let apiKey = '';
    let messageId = 0;

    await step('sign up in the page (registration is open), then log out and log in: an HttpOnly, SameSite=Strict cookie', async () => {
      await page.goto(`${gw.url}/api/integration/dashboard/`);
      await page.click('#to-signup');
      await page.fill('#signup-name', 'Acme Shop');
      await page.fill('#signup-email', email);
      await page.fill('#signup-password', PASSWORD);
      await page.fill('#signup-password2', PASSWORD);
      await page.click('#signup-form button[type="submit"]');
      await page.waitForSelector('.shell');
      assert.equal((await page.locator('.who strong').textContent())?.trim(), 'Acme Shop');
      await logout();
      await login(email);
      const cookie = (await context!.cookies()).find((c) => c.name === 'relais_session');
      assert.ok(cookie, 'session cookie set');
      assert.equal(cookie.httpOnly, true);
      assert.equal(cookie.sameSite, 'Strict');
      assert.equal(await page.evaluate(() => document.cookie.includes('relais_session')), false, 'not readable by scripts');
      // A new account: nothing sent, a balance of 0.
      await page.locator('#last-sends .getting-started').waitFor();
      assert.match((await page.locator('#balance').textContent()) ?? '', /^0 XAF$/);
    });

    await step('the operator funds the account: the balance and the movement show in the page', async () => {
      token = (await call(gw, 'POST', '/api/auth/login', { body: { email, password: PASSWORD } })).json.data.token as string;
      await fund(gw, await accountIdOf(gw, token), 5000);
      await page.reload();
      await page.waitForFunction(() => document.querySelector('#balance')?.textContent === '5,000 XAF');
      await page.locator('#last-movements tr[data-reason="topup"]').waitFor();
    });

    await step('a package ordered in the page is a pending order; a sender ID requested is pending', async () => {
      await nav('credits');
      const pkgRow = page.locator('tr[data-package]', { hasText: 'Starter 1 000' });
      await pkgRow.getByRole('button', { name: 'Buy' }).click();
      const buy = page.locator('tr[data-buy] form');
      await buy.locator('input[name="provider"]').fill('Airtel Money');
      await buy.getByRole('button', { name: 'Order' }).click();
      await flash(/Order #\d+ for Starter 1 000 is pending/).waitFor();
      await page.locator('#orders tr.match .pill[data-state="pending"]').waitFor();
      const pending = await call(gw, 'GET', '/api/admin/orders?status=pending', { token: admin });
      assert.equal(pending.json.data.length, 1, 'the operator sees the order waiting');
      assert.equal(pending.json.data[0].credits, 22000, '(1 000 + 100 bonus) x 20 credits');
      await page.locator('#movements tr[data-reason="topup"]').waitFor();
      await page.screenshot({ path: join(SHOTS, 'dashboard-credits.png') });
      await nav('sender-ids');
      await page.fill('#sender-name', 'ACMESHOP');
      await page.click('#sender-request button[type="submit"]');
      await page.locator('tr[data-name="ACMESHOP"] .pill[data-state="pending"]').waitFor();
    });

    await step('an API key created in the page is shown once, with a copy button; the base URLs are those of this host', async () => {
      await nav('settings/api');
      assert.equal(await page.locator('tr[data-path="/api/integration/v1/"] input').inputValue(), `${gw.url}/api/integration/v1/`);
      assert.equal(await page.locator('tr[data-path="/api"] input').inputValue(), `${gw.url}/api`);
      await page.fill('#key-name', 'backend');
      await page.click('#key-create button[type="submit"]');
      const input = page.locator('#new-key input[name="api-key"]');
      await input.waitFor();
      apiKey = await input.inputValue();
      assert.match(apiKey, /^rk_[A-Za-z0-9_-]{43}$/);
      await page.locator('#new-key button.copy').click();
      await page.locator('#new-key button.copy', { hasText: /Copied|Selected/ }).waitFor();
      if ((await page.locator('#new-key button.copy').textContent())?.startsWith('Copied')) assert.equal(await page.evaluate(() => navigator.clipboard.readText()), apiKey, 'the key is on the clipboard');
      const row = page.locator('tr[data-name="backend"]');
      await row.waitFor();
      assert.equal((await row.locator('code').textContent())?.replace('…', ''), apiKey.slice(0, 10), 'the list shows the prefix only');
      assert.equal(await page.locator('#api-keys table').getByText(apiKey).count(), 0, 'never the key itself');
    });

    await step('the key sends through Mifumo\'s /api/integration/v1/sms/send/, and the message shows delivered in the history, with its parts', async () => {
      const res = await fetch(`${gw.url}/api/integration/v1/sms/send/`, {
        method: 'POST', headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify({ message: 'Your order 4711 has shipped <b>today</b>', recipients: ['+24162000001'] }),
      });
      const body = await res.json() as { success: boolean; data: { message_id: string; sent: number } };
      assert.equal(res.status, 200, JSON.stringify(body));
      assert.equal(body.success, true);
      assert.equal(body.data.sent, 1);
      // A few more for the chart (one refused by the SMSC would need a fault: all deliver here).
      for (const to of ['+24177000002', '+24162000003']) assert.equal((await call(gw, 'POST', '/api/messages/send', { token, body: { recipients: [to], message: 'Rendez-vous demain 9h' } })).status, 200);
      await nav('messages');
      await page.fill('#history-search input[name="phone"]', '62000001');
      await page.click('#history-search button[type="submit"]');
      const tr = page.locator('tr[data-recipient="+24162000001"]');
      await tr.locator('.pill[data-state="delivered"]').waitFor({ timeout: 15_000 });
      assert.equal(await page.locator('#history tr[data-message]').count(), 1, 'only that number');
      messageId = Number(await tr.getAttribute('data-message'));
      await tr.click();
      const story = page.locator(`[data-story="${messageId}"]`);
      await story.locator('.part .pill[data-state="DELIVRD"]').waitFor();
      const [row] = await gw.rows([messageId]);
      assert.equal((await story.locator('.part .smsc-id').first().textContent())?.trim(), row!.smsc_id, 'the SMSC id of the part');
      assert.equal(await story.locator('.body-text').textContent(), 'Your order 4711 has shipped <b>today</b>', 'the text, as text');
      assert.equal(await story.locator('.body-text b').count(), 0, 'markup in a message stays text');
      await page.screenshot({ path: join(SHOTS, 'dashboard-messages.png') });
      await page.keyboard.press('Escape');
      await story.waitFor({ state: 'detached' });
    });

    await step('home: the balance after the sends, the chart of the last 14 days, the last sends', async () => {
      await gw.waitFinal((await gw.store.db.selectFrom('messages').select('id').execute()).map((r) => r.id));
      await nav('home');
      await page.locator('#daily-chart svg.bars rect.chart-bar-ok').first().waitFor();
      assert.equal(await page.locator('#daily-chart text.chart-label').count() > 0, true, 'day labels');
      await page.waitForFunction(() => document.querySelector('[data-stat="delivered"] .stat-value')?.textContent === '3');
      assert.equal(await page.locator('#last-sends tr[data-message]').count(), 3);
      assert.equal(await page.locator('[data-stat="balance"] .stat-value').textContent(), '4,940 XAF');
      await page.waitForFunction(() => document.querySelector('#balance')?.textContent === '4,940 XAF');
      await page.screenshot({ path: join(SHOTS, 'dashboard-home.png') });
    });

    await step('a webhook created in the page: Test, and the test delivery appears in its log', async () => {
      await nav('settings/api');
      await page.fill('#webhook-name', 'Acme backend');
      await page.fill('#webhook-url', hook.url);
      await page.click('#webhook-create button[type="submit"]');
      assert.match(await page.locator('#new-webhook-secret input').inputValue(), /^\S{16,}$/, 'its secret, shown once');
      const card = page.locator('.webhook[data-name="Acme backend"]');
      await card.getByRole('button', { name: 'Test' }).click();
      await card.locator('tr[data-event="webhook.test"] .pill[data-state="success"]').waitFor({ timeout: 15_000 });
      assert.match((await card.locator('tr[data-event="webhook.test"]').textContent()) ?? '', /HTTP 200/);
      assert.ok(hook.hits.some((h) => h.event === 'webhook.test'), 'the receiver got the test');
      await flash(/Test delivered to Acme backend: HTTP 200/).waitFor();
      // The signing secret: masked until revealed.
      await page.click('#secret-reveal');
      assert.match(await page.locator('#signing-secret input').inputValue(), /^\S{32}$/);
      // The whole page in one picture: a taller window, not a full-page capture (the navigation is sticky).
      await page.setViewportSize({ width: 1280, height: 1700 });
      await page.screenshot({ path: join(SHOTS, 'dashboard-api.png') });
      await page.setViewportSize({ width: 1280, height: 860 });
    });

    await step('contacts: a CSV import lists its bad rows by line; a campaign to the group is followed to its delivery rate', async () => {
      await nav('contacts');
      await page.click('#contact-import-open');
      const csv = 'name,email,phone,group,status\nJohn Doe,john@example.com,+24162000011,Clients,active\nJane Smith,,077000012,Clients,\nBad Number,,12345,Clients,\nAnn Lee,ann@example.com,+24162000013,Clients,\n';
      await page.setInputFiles('#import-file', { name: 'contacts.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
      await page.click('#contact-import button[type="submit"]');
      await page.locator('#import-result .import-counts', { hasText: '3 created, 0 updated' }).waitFor();
      assert.equal(await page.locator('#import-result tr[data-row]').count(), 1);
      assert.match((await page.locator('#import-result tr[data-row="4"]').textContent()) ?? '', /phone.*12345/);
      await page.locator('tr[data-phone="+24177000012"]').waitFor();
      await page.screenshot({ path: join(SHOTS, 'dashboard-contacts.png') });
      await page.click('.tabs a[data-tab="groups"]');
      assert.equal(await page.locator('tr[data-name="Clients"] td.num').textContent(), '3');
      await page.click('.tabs a[data-tab="segments"]');
      await page.fill('#segment-name', 'Libreville VIP');
      await page.fill('#segment-create input[name="tags"]', 'vip');
      await page.click('#segment-create button[type="submit"]');
      await page.locator('tr[data-name="Libreville VIP"]', { hasText: 'vip' }).waitFor();
      assert.equal(await page.locator('tr[data-name="Libreville VIP"] td.num').textContent(), '0', 'no contact has the tag');

      await nav('campaigns');
      await page.click('#campaign-new');
      await page.fill('#campaign-name', 'Welcome offer');
      await page.fill('#campaign-message', 'Bonjour {prenom}, -20% this week with FRIDAY');
      await page.locator('.audience-groups label.check', { hasText: 'Clients' }).locator('input').check();
      await page.click('#campaign-create button[type="submit"]');
      const detail = page.locator('[data-campaign-detail]');
      await detail.locator('.pill[data-state="completed"]').waitFor({ timeout: 20_000 });
      await page.waitForFunction(() => document.querySelector('[data-counter="delivered"] .stat-value')?.textContent === '3', null, { timeout: 15_000 });
      assert.match((await detail.locator('.delivery-rate').textContent()) ?? '', /100 %/);
      await page.screenshot({ path: join(SHOTS, 'dashboard-campaign.png') });
    });

    const viewer = 'analyst@acme.test';
    await step('a viewer sub-account created in Settings → Sub-accounts', async () => {
      await nav('settings/sub-accounts');
      const form = page.locator('#sub-account-create');
      await form.locator('input[name="name"]').fill('Analyst');
      await form.locator('input[name="email"]').fill(viewer);
      await form.locator('input[name="password"]').fill(PASSWORD);
      await form.locator('select[name="role"]').selectOption('viewer');
      await form.locator('button[type="submit"]').click();
      await page.locator(`tr[data-email="${viewer}"]`).waitFor();
      // Its permissions changed in the page: no analytics (so no chart), the history stays.
      const row = page.locator(`tr[data-email="${viewer}"]`);
      await row.getByRole('button', { name: 'Permissions' }).click();
      const perms = page.locator('tr[data-permissions-of] form');
      await perms.locator('label.check', { hasText: 'analytics' }).locator('input').uncheck();
      await perms.getByRole('button', { name: 'Save' }).click();
      await flash('Permissions of Analyst saved').waitFor();
      const list = await call(gw, 'GET', '/api/sub-accounts', { token });
      const sub = list.json.data.find((x: { email: string }) => x.email === viewer);
      assert.equal(sub?.role, 'viewer');
      assert.deepEqual(sub?.permissions, ['view_history']);
    });

    await step('the viewer logs in: it sees the history, and no API key, webhook or send control', async () => {
      await logout();
      await login(viewer);
      assert.match((await page.locator('.who').textContent()) ?? '', /viewer · sub-account of Acme Shop/);
      for (const id of ['settings/api', 'settings/sub-accounts', 'campaigns', 'contacts', 'sender-ids']) assert.equal(await page.locator(`nav a[data-nav="${id}"]`).count(), 0, `no ${id} in the navigation`);
      await nav('messages');
      await page.locator(`tr[data-message="${messageId}"] .pill[data-state="delivered"]`).waitFor();
      assert.equal(await page.locator('.send-controls').count(), 0, 'no send control');
      // Typed in the address bar: the page says no, and no key or webhook is read.
      await page.goto(`${gw.url}/api/integration/dashboard/#/settings/api`);
      await page.locator('[data-forbidden]').waitFor();
      assert.equal(await page.locator('#api-keys, #webhooks').count(), 0);
      // A refusal by the API itself (what a stale page would meet) is said plainly too.
      const status = await page.evaluate(async () => (await fetch('/api/api-keys')).status);
      assert.equal(status, 403);
      await page.goto(`${gw.url}/api/integration/dashboard/#/home`);
      await page.locator('#last-sends tr[data-message]').first().waitFor();
      assert.equal(await page.locator('#daily-chart').count(), 0, 'no analytics: no chart');
    });

    await step('another account (at /dashboard/) never sees the first one\'s messages, keys or webhooks', async () => {
      await logout();
      await registerAndLogin(gw, 'ops@other.test', 'Other Co');
      await page.goto(`${gw.url}/dashboard/`);
      await login('ops@other.test');
      await nav('messages');
      await page.locator('#history tr.empty', { hasText: 'No message yet.' }).waitFor();
      assert.equal(await page.locator('#history tr[data-message]').count(), 0);
      await nav('settings/api');
      await page.locator('#api-keys tr.empty', { hasText: 'No API key yet.' }).waitFor();
      await page.locator('#webhooks .empty-note').waitFor();
      assert.equal(await page.locator('tr[data-name="backend"]').count(), 0);
      // Not by id either: the first account's message is a 404 for this one.
      const status = await page.evaluate(async (id) => (await fetch(`/api/messages/${id}`)).status, messageId);
      assert.equal(status, 404);
      await logout();
      assert.equal((await context!.cookies()).filter((c) => c.name === 'relais_session' && c.value).length, 0, 'the cookie is gone');
    });

    run.done(t, problems);
  } finally {
    await run.stop({ context, gateway: gw, state, hook });
  }
});
