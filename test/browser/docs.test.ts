/**
 * The API reference in a real browser (Debian's chromium through playwright-core, never a
 * downloaded one): the Operations page builds its list from /api/openapi.json, filters it, and its
 * Copy buttons put the curl example on the clipboard; the index shows the base URLs with this
 * server's address; no page logs an error (a CSP violation would). Skipped without
 * /usr/bin/chromium outside CI, like the console's test.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { chromium, type Browser } from 'playwright-core';
import { startGateway } from '../support/harness.js';
import { ARGS, assertChromium, CHROMIUM, skipWithoutChromium, watchProblems } from './support.js';

const skip = skipWithoutChromium('the reference\'s browser test');
const BASE = '/api/integration/documentation/';

test('API reference in chromium: the Operations page lists and filters every operation, Copy puts the curl example on the clipboard', { skip, timeout: 60_000 }, async () => {
  assertChromium();
  const gw = await startGateway([{ name: 'airtel', binds: [{ port: 1 }] }]);
  let browser: Browser | null = null;
  try {
    const doc = (await (await fetch(`${gw.url}/api/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
    const total = Object.values(doc.paths).reduce((n, item) => n + Object.keys(item).length, 0);

    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS });
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: gw.url });
    const page = await context.newPage();
    page.setDefaultTimeout(10_000);
    const problems = watchProblems(page);
    const clipboard = () => page.evaluate('navigator.clipboard.readText()') as Promise<string>;

    // Operations: one row per operation of the document, grouped by dialect.
    await page.goto(`${gw.url}${BASE}operations.html`);
    await page.waitForSelector('details.op');
    assert.equal(await page.locator('details.op').count(), total);
    for (const tag of ['sendwave', 'mifumo', 'flow']) assert.ok(await page.locator(`#tag-${tag} details.op`).count() > 0, tag);
    const send = page.locator('#op-post-api-messages-send');
    assert.match((await send.locator(':scope > summary').textContent()) ?? '', /POST\s*\/api\/messages\/send.*send_sms/s);

    // The filter keeps the matching rows only.
    await page.fill('#op-filter', 'sms/send');
    const visible = await page.locator('details.op:visible').count();
    assert.ok(visible >= 2 && visible < total, `${visible} rows for "sms/send"`);
    await page.fill('#op-filter', '');

    // Copy puts the example on the clipboard: the path on this origin, the credential, an example body.
    await send.locator(':scope > summary').click();
    const example = send.locator(':scope > .op-body > .code-block');
    await example.locator('button.copy').click();
    await page.waitForSelector('#op-post-api-messages-send > .op-body > .code-block button.copied');
    const curl = await clipboard();
    assert.equal(curl, (await example.locator('pre').textContent()) ?? '');
    assert.ok(curl.startsWith(`curl -X POST "${gw.url}/api/messages/send"`), curl);
    assert.match(curl, /Authorization: Bearer \$TOKEN/);
    assert.match(curl, /"recipients":\s*\[\s*"\+\d+"\s*\]/);
    assert.equal(await send.locator('a', { hasText: 'this operation in the reference' }).getAttribute('href'), 'api-sendwave.html#post-apimessagessend');

    // The index: the base URLs on the address the browser used, each copyable.
    await page.goto(`${gw.url}${BASE}`);
    const sendwave = page.locator('code.base-url[data-base-path="/api"]');
    await page.waitForFunction((origin) => (globalThis as unknown as { document: { querySelector(s: string): { textContent: string } | null } }).document.querySelector('code.base-url')?.textContent.startsWith(origin), gw.url);
    assert.equal(await sendwave.textContent(), `${gw.url}/api`);
    await page.locator('code.base-url[data-base-path="/api"] + button.copy').click();
    await page.waitForSelector('code.base-url[data-base-path="/api"] + button.copied');
    assert.equal(await clipboard(), `${gw.url}/api`);

    // A dialect's page: an anchor, and a code block copied as its text.
    await page.goto(`${gw.url}${BASE}api-flow.html#post-campaignsapisend-sms`);
    assert.equal(await page.locator('h2#post-campaignsapisend-sms').count(), 1);
    const block = page.locator('.code-block').first();
    await block.locator('button.copy').click();
    await page.waitForSelector('.code-block button.copied');
    assert.equal(await clipboard(), (await block.locator('pre').textContent()) ?? '');

    assert.deepEqual(problems, []);
  } finally {
    await browser?.close();
    await gw.cleanup();
  }
});
