/**
 * The web pages' files, from dist/web (built by `npm run build` from web/): the operator console
 * at /console/, the integrators' dashboard at /dashboard/ and /api/integration/dashboard/, the API
 * reference at /api/integration/documentation/, shared scripts and styles at /web/<file>. Only files under that folder, no
 * dotfiles, GET and HEAD only; strict headers (same-origin scripts only, no framing), and an
 * ETag so a reload costs a 304.
 */
import { createReadStream, statSync } from 'node:fs';
import { extname, join, normalize, sep } from 'node:path';
import type Koa from 'koa';
import { PROJECT_ROOT } from '../../paths.js';

export const WEB_ROOT = join(PROJECT_ROOT, 'dist', 'web');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml', '.png': 'image/png', '.ico': 'image/x-icon', '.json': 'application/json', '.map': 'application/json',
};

const HEADERS = {
  'Content-Security-Policy': "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
};

/** A URL prefix and the folder of dist/web it serves; `index` answers the prefix itself. */
interface Mount {
  prefix: string;
  folder: string;
  index?: string;
}

const MOUNTS: Mount[] = [
  { prefix: '/console/', folder: 'console', index: 'index.html' },
  // The integrators' dashboard, also where the Mifumo documents send users, and its API reference.
  { prefix: '/dashboard/', folder: 'dashboard', index: 'index.html' },
  { prefix: '/api/integration/dashboard/', folder: 'dashboard', index: 'index.html' },
  { prefix: '/api/integration/documentation/', folder: 'docs', index: 'index.html' },
  { prefix: '/web/', folder: 'shared' },
];

export function webPages(root = WEB_ROOT): Koa.Middleware {
  return async (ctx, next) => {
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') return next();
    const bare = MOUNTS.find((m) => m.index && ctx.path === m.prefix.slice(0, -1));
    if (bare) return ctx.redirect(bare.prefix);
    const mount = MOUNTS.find((m) => ctx.path.startsWith(m.prefix));
    if (!mount) return next();
    const rest = ctx.path.slice(mount.prefix.length) || mount.index;
    // /web/session and other extension-less paths under /web/ are API routes, not files.
    if (!rest || !extname(rest)) return next();
    const file = resolveInside(join(root, mount.folder), rest);
    const stat = file ? statOrNull(file) : null;
    if (!file || !stat?.isFile()) return next();
    const etag = `W/"${stat.size.toString(16)}-${Math.floor(stat.mtimeMs).toString(16)}"`;
    ctx.set(HEADERS);
    ctx.set('ETag', etag);
    ctx.set('Cache-Control', 'no-cache');
    if (ctx.get('if-none-match') === etag) {
      ctx.status = 304;
      return;
    }
    ctx.type = TYPES[extname(file)] ?? 'application/octet-stream';
    ctx.length = stat.size;
    ctx.body = ctx.method === 'HEAD' ? null : createReadStream(file);
  };
}

/** The file `rel` names inside `base`, or null when it would leave it or names a dotfile. */
function resolveInside(base: string, rel: string): string | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(rel);
  } catch {
    return null;
  }
  if (decoded.includes('\0')) return null;
  const full = normalize(join(base, decoded));
  if (!full.startsWith(base + sep)) return null;
  if (full.slice(base.length).split(sep).some((seg) => seg.startsWith('.'))) return null;
  return full;
}

function statOrNull(file: string) {
  try {
    return statSync(file);
  } catch {
    return null;
  }
}
