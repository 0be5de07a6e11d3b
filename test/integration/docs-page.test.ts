/**
 * The API reference at /api/integration/documentation/ (built by scripts/build-docs.mjs from docs/
 * into dist/web/docs/): served by a real daemon, every dialect's page rendered with its headings'
 * anchors and a Copy button on every code block, the files it loads answered with their types, no
 * inline script or style (the CSP allows neither), every in-site link and anchor leading somewhere,
 * and the Markdown renderer passing no raw HTML through.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import GithubSlugger from 'github-slugger';
import { startGateway, type Gateway } from '../support/harness.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const BASE = '/api/integration/documentation/';
const PAGES = [
  { md: 'api-sendwave.md', html: 'api-sendwave.html' },
  { md: 'api-mifumo.md', html: 'api-mifumo.html' },
  { md: 'api-flow.md', html: 'api-flow.html' },
  { md: 'compatibility.md', html: 'compatibility.html' },
];

/** dist/web/docs from docs/ and web/docs/ when it is missing or older than a source (`npm test` builds it already). */
function ensureDocsBuilt(): void {
  const built = join(ROOT, 'dist', 'web', 'docs', 'index.html');
  const sources = [
    ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => join(ROOT, 'docs', f)),
    ...readdirSync(join(ROOT, 'web', 'docs')).map((f) => join(ROOT, 'web', 'docs', f)),
    join(ROOT, 'scripts', 'build-docs.mjs'), join(ROOT, 'README.md'),
  ];
  const newest = Math.max(...sources.map((f) => statSync(f).mtimeMs));
  if (existsSync(built) && existsSync(join(ROOT, 'dist', 'web', 'docs', 'operations.js')) && statSync(built).mtimeMs >= newest) return;
  try {
    execFileSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(ROOT, 'web', 'tsconfig.json')], { stdio: 'inherit' });
  } catch {
    // tsc still writes the .js of files without errors; what is missing shows below.
  }
  execFileSync(process.execPath, [join(ROOT, 'scripts', 'copy-web-assets.mjs')], { stdio: 'inherit' });
  execFileSync(process.execPath, [join(ROOT, 'scripts', 'build-docs.mjs')], { stdio: 'inherit' });
}

async function get(gw: Gateway, path: string) {
  const res = await fetch(new URL(path, gw.url));
  return { status: res.status, type: res.headers.get('content-type') ?? '', csp: res.headers.get('content-security-policy') ?? '', text: await res.text() };
}

const attr = (tag: string, name: string): string | null => new RegExp(`\\s${name}="([^"]*)"`).exec(tag)?.[1] ?? null;
const unescape = (s: string): string => s.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
const idsOf = (html: string): Set<string> => new Set([...html.matchAll(/\sid="([^"]*)"/g)].map((m) => unescape(m[1]!)));

/** What the CSP (script-src 'self'; style-src 'self') would block, or what should never be in a page. */
function assertNoInline(name: string, html: string): void {
  for (const m of html.matchAll(/<script\b[^>]*>([\s\S]*?)<\/script>/gi)) {
    assert.ok(attr(m[0], 'src'), `${name}: a <script> without src (inline script): ${m[0].slice(0, 120)}`);
    assert.equal(m[1]!.trim(), '', `${name}: a <script src> with a body`);
  }
  assert.doesNotMatch(html, /<style\b/i, `${name}: a <style> element`);
  assert.doesNotMatch(html, /<[a-z][^>]*\sstyle\s*=/i, `${name}: a style attribute`);
  assert.doesNotMatch(html, /<[a-z][^>]*\son[a-z]+\s*=/i, `${name}: an event-handler attribute`);
  assert.doesNotMatch(html, /(href|src)\s*=\s*"\s*javascript:/i, `${name}: a javascript: URL`);
}

test('the API reference: index, every dialect\'s page with anchors and Copy buttons, assets with their types, no inline script or style', { timeout: 60_000 }, async () => {
  ensureDocsBuilt();
  const gw = await startGateway([{ name: 'airtel', binds: [{ port: 1 }] }]);
  try {
    // The bare path leads to the index.
    const bare = await fetch(`${gw.url}${BASE.slice(0, -1)}`, { redirect: 'manual' });
    assert.equal(bare.status, 302);
    assert.equal(new URL(bare.headers.get('location')!, gw.url).pathname, BASE);

    const index = await get(gw, BASE);
    assert.equal(index.status, 200);
    assert.match(index.type, /^text\/html/);
    assert.match(index.csp, /script-src 'self'/);
    assert.match(index.text, /Relais API reference/);
    for (const page of [...PAGES.map((p) => p.html), 'operations.html']) {
      assert.match(index.text, new RegExp(`<a href="${page.replace('.', '\\.')}"`), `the index links to ${page}`);
    }
    // The base URL each existing client sets (README's table), each with a Copy button.
    for (const path of ['/api', '/campaigns/api/', '/api/integration/v1/', '/api/']) {
      assert.match(index.text, new RegExp(`<code class="base-url" data-base-path="${path}">https://HOST${path}</code>\\s*<button[^>]*data-copy-from="previous"`), `base URL ${path}`);
    }

    const pages = new Map<string, string>([['index.html', index.text]]);
    const slugger = new GithubSlugger();
    for (const { md, html } of PAGES) {
      const res = await get(gw, `${BASE}${html}`);
      assert.equal(res.status, 200, html);
      assert.match(res.type, /^text\/html/);
      pages.set(html, res.text);
      // Its first heading and its first second-level one, with GitHub's id.
      const source = readFileSync(join(ROOT, 'docs', md), 'utf8');
      const h1 = /^# (.+)$/m.exec(source)![1]!;
      assert.ok(res.text.includes(`<title>${h1.replace(/&/g, '&amp;')} · Relais API reference</title>`), `${html}: title from "# ${h1}"`);
      const h2 = /^## (.+)$/m.exec(source)![1]!;
      slugger.reset();
      const id = slugger.slug(h2.replace(/`/g, ''));
      assert.match(res.text, new RegExp(`<h2 id="${id}">`), `${html}: "## ${h2}" as <h2 id="${id}">`);
      // Every code block has its Copy button, and there is at least one.
      const pres = res.text.match(/<pre>/g)?.length ?? 0;
      const blocks = [...res.text.matchAll(/<div class="code-block"><div class="code-bar"><span class="code-lang">[^<]*<\/span><button type="button" class="copy" data-copy[\s>]/g)].length;
      assert.ok(pres >= 1, `${html}: at least one code block`);
      assert.equal(blocks, pres, `${html}: a Copy button on each of its ${pres} code blocks`);
      // The left navigation, this page marked.
      assert.match(res.text, new RegExp(`<a href="${html.replace('.', '\\.')}" aria-current="page">`));
    }
    const ops = await get(gw, `${BASE}operations.html`);
    assert.equal(ops.status, 200);
    assert.match(ops.text, /id="operations-list"/);
    pages.set('operations.html', ops.text);

    // No inline script or style anywhere; every script, stylesheet and image it loads is served with its type.
    const assets = new Set<string>();
    for (const [name, html] of pages) {
      assertNoInline(name, html);
      for (const m of html.matchAll(/<(script|link|img)\b[^>]*>/g)) {
        const ref = attr(m[0], m[1] === 'link' ? 'href' : 'src');
        if (ref) assets.add(new URL(ref, `${gw.url}${BASE}`).pathname);
      }
    }
    assert.ok(assets.has(`${BASE}docs.js`) && assets.has(`${BASE}docs.css`) && assets.has(`${BASE}operations.js`), [...assets].join(', '));
    const TYPES: Record<string, RegExp> = { '.js': /^text\/javascript/, '.css': /^text\/css/, '.svg': /^image\/svg\+xml/ };
    // The modules those scripts import (the shared helpers under /web/) are served too.
    const queue = [...assets];
    while (queue.length) {
      const path = queue.shift()!;
      const res = await get(gw, path);
      assert.equal(res.status, 200, path);
      const ext = /\.[a-z]+$/.exec(path)?.[0] ?? '';
      assert.match(res.type, TYPES[ext] ?? /./, `${path}: ${res.type}`);
      if (ext === '.js') {
        for (const m of res.text.matchAll(/^\s*import\s+(?:[^'"]*?\s+from\s+)?['"]([^'"]+)['"]/gm)) {
          const dep = new URL(m[1]!, `${gw.url}${path}`).pathname;
          if (!assets.has(dep)) {
            assets.add(dep);
            queue.push(dep);
          }
        }
      }
    }
    assert.ok(assets.has('/web/dom.js'), 'operations.js imports the shared DOM helpers');

    // Every link inside the site leads to a page that exists, and to an anchor that page has.
    const ids = new Map([...pages].map(([name, html]) => [name, idsOf(html)]));
    for (const [name, html] of pages) {
      for (const m of html.matchAll(/<a\b[^>]*\shref="([^"]*)"/g)) {
        const href = unescape(m[1]!);
        if (/^(https?:|mailto:|\/)/.test(href)) continue;
        const [file, frag] = href.startsWith('#') ? [name, href.slice(1)] : href.split('#', 2) as [string, string | undefined];
        const target = file === './' || file === '' ? 'index.html' : file;
        assert.ok(ids.has(target), `${name} links to ${href}: no such page`);
        if (frag) assert.ok(ids.get(target)!.has(decodeURIComponent(frag)), `${name} links to ${href}: ${target} has no id "${frag}"`);
      }
    }
    // Links between the .md files became links between the pages.
    assert.match(pages.get('api-mifumo.html')!, /<a href="api-sendwave\.html#webhooks">/);
    assert.match(pages.get('api-flow.html')!, /<a href="compatibility\.html#flow-sms-campaignsapi">/);
    assert.doesNotMatch([...pages.values()].join('\n'), /href="[^"]*\.md(#[^"]*)?"/, 'no link to a .md file is left');

    // The Operations page's links into the reference name real headings.
    const endpoints = await get(gw, `${BASE}endpoints.json`);
    assert.equal(endpoints.status, 200);
    assert.match(endpoints.type, /^application\/json/);
    const map = JSON.parse(endpoints.text) as Record<string, string>;
    assert.equal(map['POST /api/messages/send'], 'api-sendwave.html#post-apimessagessend');
    assert.equal(map['POST /api/integration/v1/sms/send/'], 'api-mifumo.html#post-apiintegrationv1smssend');
    assert.equal(map['GET /api/integration/v1/sms/status/{}/'], 'api-mifumo.html#get-apiintegrationv1smsstatusmessage_id');
    for (const [key, link] of Object.entries(map)) {
      const [file, frag] = link.split('#') as [string, string];
      assert.ok(ids.get(file)?.has(frag), `${key} → ${link}: no such heading`);
    }

    // The document the Operations page reads is still there, every operation tagged with its dialect.
    const openapi = await get(gw, '/api/openapi.json');
    assert.equal(openapi.status, 200);
    const doc = JSON.parse(openapi.text) as { paths: Record<string, Record<string, { tags?: string[] }>> };
    const tags = new Set(Object.values(doc.paths).flatMap((item) => Object.values(item).map((op) => op.tags?.[0])));
    assert.ok(!tags.has(undefined), 'every operation has a tag');
    for (const dialect of ['sendwave', 'mifumo', 'flow']) assert.ok(tags.has(dialect), dialect);
  } finally {
    await gw.cleanup();
  }
});

test('the Markdown renderer: raw HTML shown as text, no javascript: link, .md links rewritten, headings with GitHub ids, code escaped', async () => {
  const { render } = (await import(pathToFileURL(join(ROOT, 'scripts', 'build-docs.mjs')).href)) as {
    render(src: string, md: string): { html: string; headings: { depth: number; id: string; text: string }[] };
  };
  const { html, headings } = render('docs/x.md', [
    '# A & B',
    '## POST /api/messages/send',
    '## POST /api/messages/send',
    'Text <script>alert(1)</script> <img src=x onerror=alert(1)> [bad](javascript:alert(1)) [flow](api-flow.md#errors) [readme](../README.md) [ext](https://example.com/)',
    '',
    '<div onclick="steal()">raw block</div>',
    '',
    '![pic](https://example.com/tracker.png)',
    '',
    '| a | b |',
    '|---|---|',
    '| `x` | y |',
    '',
    '```json',
    '{"text": "<b>bold</b>"}',
    '```',
  ].join('\n'));
  assert.deepEqual(headings.map((hd) => hd.id), ['a--b', 'post-apimessagessend', 'post-apimessagessend-1']);
  assert.ok(!/<script|<img|<div onclick|javascript:/i.test(html), html);
  assert.match(html, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
  assert.match(html, /&lt;div onclick=&quot;steal\(\)&quot;&gt;raw block&lt;\/div&gt;/);
  assert.match(html, /<a href="api-flow\.html#errors">flow<\/a>/);
  assert.match(html, /<span class="outside-link"[^>]*>readme<\/span>/);
  assert.match(html, /<a href="https:\/\/example\.com\/" rel="noopener noreferrer">ext<\/a>/);
  assert.match(html, /<div class="table-wrap"><table>/);
  assert.match(html, /<code class="language-json">\{&quot;text&quot;: &quot;&lt;b&gt;bold&lt;\/b&gt;&quot;\}<\/code>/);
  assert.match(html, /<button type="button" class="copy" data-copy/);
});
