/** Where the installed project is: the same from sources (tsx) and from dist/ (node). */
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The folder holding package.json, config/ and dist/. */
export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', ...(import.meta.url.includes('/dist/') ? ['..'] : []));
