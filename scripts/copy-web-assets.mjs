#!/usr/bin/env node
// Copies the web pages' static files (.html, .css, .svg) from web/ to dist/web/, keeping their
// folders; tsc -p web/tsconfig.json compiles the .ts next to them. Part of `npm run build`.
import { copyFileSync, mkdirSync, readdirSync } from 'node:fs';
import { dirname, extname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'web');
const out = join(root, 'dist', 'web');
const KINDS = new Set(['.html', '.css', '.svg']);

let copied = 0;
const walk = (dir) => {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) walk(path);
    else if (entry.isFile() && KINDS.has(extname(entry.name))) {
      const target = join(out, relative(src, path));
      mkdirSync(dirname(target), { recursive: true });
      copyFileSync(path, target);
      copied++;
    }
  }
};
walk(src);
if (process.argv.includes('--verbose')) console.log(`copied ${copied} web asset(s) to ${relative(root, out)}`);
