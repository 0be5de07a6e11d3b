#!/usr/bin/env node
// Renders the API reference served at /api/integration/documentation/: docs/*.md (docs/README.md as
// the index) to HTML pages in dist/web/docs/, in one layout (header, left navigation, the page),
// plus the Operations page whose list web/docs/operations.ts builds in the browser from
// GET /api/openapi.json. Part of `npm run build`, after tsc -p web/tsconfig.json and
// copy-web-assets.mjs (which bring web/docs/*.js, docs.css and favicon.svg).
//
// The daemon's CSP allows same-origin scripts and styles only, so a page carries no inline script
// or style: behaviour lives in docs.js / operations.js, looks in docs.css. Markdown goes through
// marked (GFM, tables); raw HTML in a .md file is shown as text, never passed through, and links
// keep http(s), mailto, in-page anchors and the rendered pages only. Headings get GitHub's ids
// (github-slugger), so the anchors the .md files use between sections and files keep working;
// links to another .md become links to its .html.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, posix, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import GithubSlugger from 'github-slugger';
import { Marked } from 'marked';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist', 'web', 'docs');
const version = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version;

/** The pages, in navigation order; `src` is relative to the repository root. */
const PAGES = [
  { src: 'docs/README.md', out: 'index.html', nav: 'Overview' },
  { src: 'docs/api-sendwave.md', out: 'api-sendwave.html', nav: 'SendWave Pro v2.1 and admin' },
  { src: 'docs/api-mifumo.md', out: 'api-mifumo.html', nav: 'Mifumo SMS' },
  { src: 'docs/api-flow.md', out: 'api-flow.html', nav: 'FLOW SMS' },
  { src: 'docs/compatibility.md', out: 'compatibility.html', nav: 'Compatibility' },
];
const OPERATIONS = { out: 'operations.html', nav: 'Operations (OpenAPI)' };
const PAGE_OF = new Map(PAGES.map((p) => [p.src, p.out]));

const escapeHtml = (s) => String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);

/** Where a link in `fromSrc` goes in the rendered site: an href, or null to keep its text only. */
function rewriteHref(href, fromSrc) {
  const h = String(href ?? '').trim();
  if (h.startsWith('#')) return h;
  if (/^(https?:|mailto:)/i.test(h)) return h;
  if (/^[a-z][a-z0-9+.-]*:/i.test(h) || h.startsWith('//')) return null; // javascript:, data:, other schemes
  const [file, frag] = h.split('#', 2);
  const target = posix.normalize(posix.join(posix.dirname(fromSrc), file));
  const page = PAGE_OF.get(target);
  if (!page) return null; // a file of the source tree that the site does not serve (../README.md)
  return frag === undefined ? page : `${page}#${frag}`;
}

/**
 * One .md file (`src`, relative to the repository root) to HTML, with its headings (for the
 * navigation and the Operations page's links) and the links it keeps.
 */
export function render(src, markdown) {
  const slugger = new GithubSlugger();
  const headings = [];
  const links = [];
  const marked = new Marked({ gfm: true, breaks: false });
  marked.use({
    renderer: {
      heading({ tokens, depth }) {
        const text = this.parser.parseInline(tokens, this.parser.textRenderer);
        const id = slugger.slug(text);
        headings.push({ depth, id, text });
        const inner = this.parser.parseInline(tokens);
        return `<h${depth} id="${escapeHtml(id)}">${inner} <a class="anchor" href="#${escapeHtml(id)}" aria-label="Link to this section">#</a></h${depth}>\n`;
      },
      code({ text, lang }) {
        const language = (lang ?? '').match(/^\S*/)?.[0] ?? '';
        const cls = language ? ` class="language-${escapeHtml(language)}"` : '';
        return `<div class="code-block">${codeBar(language)}<pre><code${cls}>${escapeHtml(text.replace(/\n$/, ''))}</code></pre></div>\n`;
      },
      // Raw HTML in the Markdown is shown as the text it is.
      html({ text, block }) {
        return block ? `<p>${escapeHtml(text.trim())}</p>\n` : escapeHtml(text);
      },
      link({ href, title, tokens }) {
        const inner = this.parser.parseInline(tokens);
        const target = rewriteHref(href, src);
        if (target === null) {
          // A file of the source tree the site does not serve keeps its name as a hint; another scheme, nothing.
          return /^[a-z][a-z0-9+.-]*:|^\/\//i.test(String(href).trim())
            ? `<span>${inner}</span>`
            : `<span class="outside-link" title="${escapeHtml(`${href}, in Relais's source tree`)}">${inner}</span>`;
        }
        links.push(target);
        const ext = /^(https?:|mailto:)/i.test(target);
        const t = title ? ` title="${escapeHtml(title)}"` : '';
        return `<a href="${escapeHtml(target)}"${t}${ext ? ' rel="noopener noreferrer"' : ''}>${inner}</a>`;
      },
      // No image is loaded from anywhere: its text stands in for it.
      image({ text }) {
        return `<span class="image-alt">${escapeHtml(text)}</span>`;
      },
    },
  });
  const html = marked.parse(markdown, { async: false })
    .replaceAll('<table>', '<div class="table-wrap"><table>')
    .replaceAll('</table>', '</table></div>');
  return { html, headings, links, marked };
}

/** The bar above a code block: its language and the Copy button (docs.js makes it work). */
function codeBar(language) {
  return `<div class="code-bar"><span class="code-lang">${escapeHtml(language)}</span><button type="button" class="copy" data-copy aria-label="Copy this example">Copy</button></div>`;
}

/**
 * The base URL an existing client of each platform sets: the table under README.md's "API
 * overview" (client, `https://HOST/...`, reference). The page shows HOST as the address the
 * browser used (docs.js fills it in).
 */
function baseUrlSection() {
  const tokens = new Marked({ gfm: true }).lexer(readFileSync(join(root, 'README.md'), 'utf8'));
  const at = tokens.findIndex((t) => t.type === 'heading' && t.depth === 2 && t.text.trim() === 'API overview');
  const table = at >= 0 ? tokens.slice(at + 1).find((t) => t.type === 'table' || (t.type === 'heading' && t.depth <= 2)) : undefined;
  if (!table || table.type !== 'table' || !/base URL/i.test(table.header[1]?.text ?? '')) {
    throw new Error('build-docs: README.md has no base-URL table under "## API overview" (client | base URL it sets | reference)');
  }
  const inline = render('README.md', '').marked; // its links resolve from the repository root
  const rows = table.rows.map((cells) => {
    const url = /`?(https?:\/\/HOST)(\/[^`\s]*)`?/.exec(cells[1]?.text ?? '');
    if (!url) throw new Error(`build-docs: README.md base-URL row without https://HOST/…: ${cells[1]?.text}`);
    const path = url[2];
    return `<tr><td>${inline.parseInline(cells[0].text)}</td>`
      + `<td class="base-url-cell"><code class="base-url" data-base-path="${escapeHtml(path)}">https://HOST${escapeHtml(path)}</code>`
      + ` <button type="button" class="copy small" data-copy-from="previous" aria-label="Copy this base URL">Copy</button></td>`
      + `<td>${inline.parseInline(cells[2]?.text ?? '')}</td></tr>`;
  });
  return `<h2 id="base-urls">Base URLs for existing clients <a class="anchor" href="#base-urls" aria-label="Link to this section">#</a></h2>
<p>An existing client written for one of these platforms changes only its base URL. <code>HOST</code> is this
server; the addresses below use the one your browser reached it at.</p>
<div class="table-wrap"><table class="base-urls">
<thead><tr><th>existing client written for</th><th>base URL it sets</th><th>reference</th></tr></thead>
<tbody>
${rows.join('\n')}
</tbody></table></div>
<p><a href="compatibility.html">Compatibility</a> lists every endpoint each platform's document names, the test
that replays it, and every place where Relais deliberately answers differently.</p>
<h2 id="operations">Every operation <a class="anchor" href="#operations" aria-label="Link to this section">#</a></h2>
<p><a href="${OPERATIONS.out}">Operations</a> lists every operation of every dialect from this server's
<a href="/api/openapi.json">OpenAPI document</a> (<code>GET /api/openapi.json</code>): method and path, whether it needs a
credential and which permission, its parameters and body, and a curl example to copy.</p>
`;
}

/**
 * The endpoints a page documents under their own heading ("POST /api/messages/send",
 * "GET · PUT · DELETE /api/contacts/{id}", "POST /api/campaigns/{id}/pause · /resume · /cancel"),
 * keyed "METHOD /path" with path parameters as {} (the Operations page links each operation there).
 */
function endpointsOf(page, headings, into) {
  for (const hd of headings) {
    let pending = [];
    let last = null;
    let lastMethods = [];
    for (const part of hd.text.split('·').map((p) => p.trim())) {
      const m = /^(GET|POST|PUT|PATCH|DELETE)(?:\s+(\/\S*))?$/.exec(part);
      let path = null;
      if (m) {
        pending.push(m[1]);
        path = m[2] ?? null;
      } else if (/^\/\S*$/.test(part) && last) {
        path = /^\/(api|campaigns|web)\//.test(part) ? part : last.replace(/\/[^/]+(\/?)$/, '') + part;
        if (!pending.length) pending = lastMethods;
      } else break;
      if (!path) continue;
      path = path.replace(/\?.*$/, '');
      for (const method of pending) into[`${method} ${path.replace(/\{[^}]*\}/g, '{}')}`] ??= `${page}#${hd.id}`;
      last = path;
      lastMethods = pending;
      pending = [];
    }
  }
}

function layout({ title, current, toc, main, scripts }) {
  const nav = [...PAGES, OPERATIONS].map((p) => {
    const here = p.out === current;
    const sub = here && toc.length
      ? `\n<ul class="toc">${toc.map((hd) => `<li><a href="#${escapeHtml(hd.id)}">${escapeHtml(hd.text)}</a></li>`).join('')}</ul>`
      : '';
    return `<li${here ? ' class="current"' : ''}><a href="${p.out === 'index.html' ? './' : p.out}"${here ? ' aria-current="page"' : ''}>${escapeHtml(p.nav)}</a>${sub}</li>`;
  }).join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${escapeHtml(title)} · Relais API reference</title>
<link rel="icon" href="favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="docs.css">
${scripts.map((s) => `<script type="module" src="${s}"></script>`).join('\n')}
</head>
<body>
<a class="skip" href="#content">Skip to the page</a>
<header class="top">
<a class="brand" href="./"><img src="favicon.svg" alt="" width="24" height="24"><span>Relais API reference</span></a>
<span class="version">v${escapeHtml(version)}</span>
<nav class="top-links" aria-label="Elsewhere"><a href="/api/openapi.json">OpenAPI JSON</a></nav>
</header>
<div class="layout">
<nav class="side" aria-label="Documentation">
<ul>
${nav}
</ul>
</nav>
<main id="content" class="doc">
${main}
</main>
</div>
</body>
</html>
`;
}

/** The Operations page's own content: operations.js fills the list in. */
const OPERATIONS_MAIN = `<h1 id="operations">Operations</h1>
<p class="lead">Every operation this server answers, read from its <a href="/api/openapi.json">OpenAPI document</a>
when this page opens, grouped by dialect. <code>$TOKEN</code> in the examples is an access token from a
login endpoint or an API key; <code>$ID</code> and the like are the path's parameters.</p>
<div id="operations-list" class="operations" aria-live="polite">
<p class="muted">Loading <code>/api/openapi.json</code>…</p>
<noscript><p>This list is built by a script from <a href="/api/openapi.json">/api/openapi.json</a>; without JavaScript, read that document directly.</p></noscript>
</div>`;

/** Every page, endpoints.json, and a warning for each link to an anchor that no heading has. */
function build() {
  mkdirSync(out, { recursive: true });
  const endpoints = {};
  const rendered = [];
  for (const page of PAGES) {
    const md = readFileSync(join(root, page.src), 'utf8');
    const { html, headings, links } = render(page.src, md);
    const title = headings.find((hd) => hd.depth === 1)?.text ?? page.nav;
    const main = page.out === 'index.html' ? html + baseUrlSection() : html;
    const toc = page.out === 'index.html' ? [] : headings.filter((hd) => hd.depth === 2);
    writeFileSync(join(out, page.out), layout({ title, current: page.out, toc, main, scripts: ['docs.js'] }));
    endpointsOf(page.out, headings, endpoints);
    rendered.push({ page, headings, links });
  }
  writeFileSync(join(out, 'endpoints.json'), JSON.stringify(endpoints, null, 1) + '\n');
  writeFileSync(join(out, OPERATIONS.out), layout({ title: 'Operations', current: OPERATIONS.out, toc: [], main: OPERATIONS_MAIN, scripts: ['docs.js', 'operations.js'] }));

  // Anchors that lead nowhere are reported; the build goes on (the text is still right).
  const ids = new Map(rendered.map((r) => [r.page.out, new Set(r.headings.map((hd) => hd.id))]));
  ids.get('index.html')?.add('base-urls').add('operations');
  for (const r of rendered) {
    for (const link of r.links) {
      if (/^(https?:|mailto:)/i.test(link)) continue;
      const [file, frag] = link.startsWith('#') ? [r.page.out, link.slice(1)] : link.split('#', 2);
      if (frag !== undefined && !ids.get(file)?.has(decodeURIComponent(frag))) {
        console.warn(`build-docs: ${r.page.src} links to ${link}, which no heading of ${file} has`);
      }
    }
  }
  if (process.argv.includes('--verbose')) {
    console.log(`rendered ${PAGES.length + 1} page(s) and ${Object.keys(endpoints).length} endpoint anchor(s) to ${relative(root, out)}`);
  }
}

// Run as a script (npm run build); imported by a test, it only provides render().
if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) build();
