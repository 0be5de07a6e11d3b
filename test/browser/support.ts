/**
 * What the browser tests share: Debian's chromium (never a downloaded one) and its flags, the skip
 * reason without it, the web build they need, a webhook receiver, a launched page that collects
 * script errors, the step runner, and the helpers every page of the console and the dashboard
 * answers to (flash messages, the left navigation).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { dirname, join } from 'node:path';
import type { TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { startSimulator, type OperatorInput } from '../support/harness.js';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CHROMIUM = process.env.RELAIS_CHROMIUM ?? '/usr/bin/chromium';
export const SHOTS = join(ROOT, 'docs', 'screenshots');
export const haveChromium = existsSync(CHROMIUM);
export const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** The test's skip option: skipped without chromium, saying why, except under CI (where it must run). */
export function skipWithoutChromium(what: string): string | false {
  return !haveChromium && !process.env.CI
    ? `no browser at ${CHROMIUM}: ${what} needs Debian's chromium (apt-get install -y --no-install-recommends chromium); skipped outside CI`
    : false;
}

/** Under CI the browser must be there (a skipped test would hide a broken page). */
export function assertChromium(): void {
  assert.ok(haveChromium, `CI=${process.env.CI}: ${CHROMIUM} is missing (.ci/run installs Debian's chromium package when it is absent)`);
}

/** dist/web from web/ when it is missing or older than a source (`npm test` builds it already; a lone run may not have). */
export function ensureWebBuilt(app: 'console' | 'dashboard'): void {
  const newest = (dir: string): number => readdirSync(dir, { withFileTypes: true }).reduce((m, e) => {
    const p = join(dir, e.name);
    return Math.max(m, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }, 0);
  const built = join(ROOT, 'dist', 'web', app, 'main.js');
  const shared = join(ROOT, 'dist', 'web', 'shared', 'base.css');
  if (existsSync(built) && existsSync(shared) && existsSync(join(ROOT, 'dist', 'web', app, 'index.html')) && Math.min(statSync(built).mtimeMs, statSync(shared).mtimeMs) >= newest(join(ROOT, 'web'))) return;
  execFileSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(ROOT, 'web', 'tsconfig.json')], { stdio: 'inherit' });
  execFileSync(process.execPath, [join(ROOT, 'scripts', 'copy-web-assets.mjs')], { stdio: 'inherit' });
}

export interface BrowserTest {
  /** The two simulators, for the gateway's config. */
  operators: OperatorInput[];
  /** In the test's finally: the browser, the gateway, the state folder, the simulators and the receiver. */
  stop(left: { context: BrowserContext | null; gateway: { cleanup(): Promise<void> }; state: string; hook: { close(): Promise<void> } }): Promise<void>;
  /** At the end of the steps: no problem logged by the page; the time taken, as a diagnostic. */
  done(t: TestContext, problems: readonly string[]): void;
}

/**
 * The start of a console or dashboard test: chromium there (under CI), the pages built, the
 * screenshots' folder, and two simulated operators (airtel and moov) to bind to.
 */
export async function startBrowserTest(app: 'console' | 'dashboard'): Promise<BrowserTest> {
  assertChromium();
  const started = Date.now();
  ensureWebBuilt(app);
  mkdirSync(SHOTS, { recursive: true });
  const airtel = await startSimulator({ systemId: 'airtel', password: 'pw' });
  const moov = await startSimulator({ systemId: 'moov', password: 'pw' });
  return {
    operators: [{ name: 'airtel', binds: [{ port: airtel.port }] }, { name: 'moov', binds: [{ port: moov.port }] }],
    stop: async (left) => {
      await left.context?.close();
      await left.gateway.cleanup();
      rmSync(left.state, { recursive: true, force: true });
      await Promise.all([airtel.stop(), moov.stop(), left.hook.close()]);
    },
    done: (t, problems) => {
      assert.deepEqual(problems, [], 'no script error, no refused script or style (CSP)');
      t.diagnostic(`browser test took ${((Date.now() - started) / 1000).toFixed(1)} s`);
    },
  };
}

export interface Hit {
  /** The X-Webhook-Event header. */
  event: string;
  body: string;
}

/** A webhook receiver on 127.0.0.1 at `path`: answers 200 and keeps what it got. */
export async function receiver(path: string): Promise<{ url: string; hits: Hit[]; close(): Promise<void> }> {
  const hits: Hit[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      hits.push({ event: String(req.headers['x-webhook-event'] ?? ''), body });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return { url: `http://127.0.0.1:${port}${path}`, hits, close: () => new Promise((r) => server.close(() => r())) };
}

/**
 * Collects what the page logs as an error and every uncaught script error (a CSP violation is
 * one). With `ignoreFailedLoads`, chromium's "Failed to load resource" lines are let through: a
 * 401 or 403 answer the test expects (a refused login, the session check before one) logs one.
 */
export function watchProblems(page: Page, opts: { ignoreFailedLoads?: boolean } = {}): string[] {
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && !(opts.ignoreFailedLoads && m.text().startsWith('Failed to load resource'))) problems.push(`console: ${m.text()}`);
  });
  return problems;
}

/**
 * Chromium with its own profile in `profileDir`, in a fixed window, time zone and locale (the
 * screenshots do not move), and its one page: dialogs accepted, and its problems collected.
 */
export async function launchPage(profileDir: string, opts: { height: number; origin: string; clipboard?: boolean }): Promise<{ context: BrowserContext; page: Page; problems: string[] }> {
  const context = await chromium.launchPersistentContext(profileDir, {
    executablePath: CHROMIUM, headless: true, args: ARGS, viewport: { width: 1280, height: opts.height }, deviceScaleFactor: 1, timezoneId: 'Africa/Libreville', locale: 'en-US',
  });
  try {
    if (opts.clipboard) await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: opts.origin });
    const page: Page = context.pages()[0] ?? (await context.newPage());
    page.setDefaultTimeout(10_000);
    page.on('dialog', (d) => void d.accept());
    if (process.env.RELAIS_BROWSER_DEBUG) page.on('response', (r) => console.log('resp', r.status(), r.url()));
    return { context, page, problems: watchProblems(page, { ignoreFailedLoads: true }) };
  } catch (e) {
    await context.close();
    throw e;
  }
}

/**
 * The test's steps as subtests. Each step needs the ones before it (a session, a page): after a
 * failure the rest are skipped instead of each waiting out its timeouts.
 */
export function stepRunner(t: TestContext): (name: string, fn: () => Promise<void>) => Promise<void> {
  let failed: string | null = null;
  return (name, fn) => t.test(name, { skip: failed ? `skipped: "${failed}" failed` : false }, async () => {
    try {
      await fn();
    } catch (e) {
      failed = name;
      throw e;
    }
  });
}

/** A success message in the page's flash area. */
export const flashOf = (page: Page) => (text: string | RegExp) => page.locator('.flash-success', { hasText: text });

/** Clicks a link of the left navigation and waits for it to be the current page. */
export const navOf = (page: Page) => async (id: string) => {
  await page.click(`nav a[data-nav="${id}"]`);
  await page.waitForSelector(`nav a[data-nav="${id}"][aria-current="page"]`);
};

/** The login form: email, password, submit (`form`: the form's selector). */
export async function fillLogin(page: Page, form: string, email: string, password: string): Promise<void> {
  await page.fill('#login-email', email);
  await page.fill('#login-password', password);
  await page.click(`${form} button[type="submit"]`);
}
