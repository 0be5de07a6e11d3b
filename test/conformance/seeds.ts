/**
 * Reading the seed documents (copied verbatim from ../shared/seeds into ./seeds, so a clean clone
 * has them): the endpoints each one documents, in any of its notations, and the examples it gives
 * for each — request bodies, documented answers and their status, code samples. The conformance
 * tests replay what this finds, so a document's examples are taken as written, not retyped.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const DIR = join(import.meta.dirname, 'seeds');

export const SEEDS = {
  flow: '000_f65dc57dcd8206cc.txt',
  sendwave: '001_1253d6d1d51f52d6.txt',
  mifumoQuick: '002_518b8fd067bfe07b.txt',
  mifumoReference: '003_63a507c5a8965da6.txt',
  mifumoIndex: '004_c511b0a69df8dfd9.txt',
} as const;

export const readSeed = (file: string): string => readFileSync(join(DIR, file), 'utf8');

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface Endpoint {
  method: Method;
  /** Full path as served, `{id}`-style placeholders kept, no query. */
  path: string;
  /** Line (1-based) where the document names it. */
  line: number;
}

export interface Example extends Endpoint {
  /** The query string the document's example carries (`?status=sent…`), without `?`. */
  query: string;
  /** The example's request body, parsed; undefined when it has none. */
  body?: unknown;
  /** A multipart example (`file: contacts.csv`). */
  multipart: boolean;
  /** Documented answers that follow it, with their status when the document says one. */
  responses: { status: number | null; json: unknown }[];
}

const METHOD = '(GET|POST|PUT|PATCH|DELETE)';
const joinPath = (base: string, path: string) => `${base.replace(/\/$/, '')}/${path.replace(/^\//, '')}`;
/** Without its query; every placeholder (`{message_id}`, `MESSAGE_ID`) written `{id}`. */
const pathOnly = (p: string) => p.split('?')[0]!.replace(/\{\w+\}|\b[A-Z][A-Z_]+[A-Z]\b/g, '{id}');
/** Whether a path the document writes is already a full path (else relative to its base URL). */
const isFull = (p: string) => p.startsWith('/api/') || p.startsWith('/campaigns/api/');

/** Where a relative path of the document starts: its stated base URL, or the default given. */
function baseAt(lines: readonly string[], i: number, fallback: string): string {
  for (let j = i; j >= 0; j--) {
    const m = /\*\*Base URL:\*\*\s*`?(?:https?:\/\/[^/\s`]+)?(\/[^\s`]*)`?/.exec(lines[j]!);
    if (m) return m[1]!;
  }
  return fallback;
}

/**
 * Every endpoint the document names: `METHOD /path` lines (http blocks, plain blocks),
 * `**METHOD** \`/path\``, endpoint tables in either column order, and curl commands. Relative
 * paths are resolved against the nearest preceding "Base URL", else `base`.
 */
export function documentedEndpoints(doc: string, base: string): Endpoint[] {
  const lines = doc.split('\n');
  const found = new Map<string, Endpoint>();
  const add = (method: string, raw: string, i: number, relative: boolean) => {
    const path = pathOnly(relative ? joinPath(baseAt(lines, i, base), raw) : raw);
    const key = `${method} ${path}`;
    if (!found.has(key)) found.set(key, { method: method as Method, path, line: i + 1 });
  };
  lines.forEach((line, i) => {
    let m: RegExpExecArray | null;
    if ((m = new RegExp(`^${METHOD} (/\\S*)`).exec(line))) add(m[1]!, m[2]!, i, !isFull(m[2]!));
    else if ((m = new RegExp(`^\\*\\*${METHOD}\\*\\* \`([^\`]+)\``).exec(line))) add(m[1]!, m[2]!, i, false);
    else if ((m = new RegExp(`^\\|\\s*\`(/[^\`]+)\`\\s*\\|\\s*${METHOD}\\s*\\|`).exec(line))) add(m[2]!, m[1]!, i, true);
    else if ((m = new RegExp(`^\\|\\s*\`${METHOD}\`\\s*\\|\\s*\`(/[^\`]+)\`\\s*\\|`).exec(line))) add(m[1]!, m[2]!, i, true);
    for (const c of line.matchAll(new RegExp(`curl -X ${METHOD} "https?://[^/"]+(/[^"]*)"`, 'g'))) add(c[1]!, c[2]!, i, false);
  });
  return [...found.values()];
}

/** JSON as the documents write it: `//` comments, `/* … *\/` placeholders and `{ ... }` stand-ins emptied. */
export function parseDocJson(text: string): unknown {
  const clean = text
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/("(?:[^"\\]|\\.)*")|\/\/[^\n]*/g, (_, str: string | undefined) => str ?? '')
    .replace(/\{\s*\.\.\.\s*\}/g, '{}');
  return JSON.parse(clean);
}

/**
 * The examples of every `METHOD /path` the document shows with a body or an answer: the body in
 * an http block after its headers, or the next non-answer JSON block; answers are the JSON
 * blocks labelled Response/Réponse before the next endpoint.
 */
export function examples(doc: string, base: string): Example[] {
  const lines = doc.split('\n');
  const out: Example[] = [];
  let current = null as Example | null;
  let fence: { lang: string; start: number } | null = null;
  lines.forEach((line, i) => {
    const open = /^```(\w*)\s*$/.exec(line);
    if (fence) {
      if (/^```\s*$/.test(line)) {
        const text = lines.slice(fence.start + 1, i).join('\n');
        current = onBlock(fence.lang, text, fence.start, current);
        fence = null;
      }
      return;
    }
    if (open) {
      fence = { lang: open[1]!, start: i };
      return;
    }
    if (/^#/.test(line)) current = null; // a new section: what follows belongs to its own endpoint
    const m = new RegExp(`^\\*\\*${METHOD}\\*\\* \`([^\`]+)\``).exec(line);
    if (m) current = push({ method: m[1] as Method, path: pathOnly(m[2]!), line: i + 1, query: '', multipart: false, responses: [] });
  });
  return out;

  function push(e: Example): Example {
    out.push(e);
    return e;
  }

  function onBlock(lang: string, text: string, start: number, cur: Example | null): Example | null {
    const first = text.split('\n')[0] ?? '';
    const endpoint = new RegExp(`^${METHOD} (/\\S*)`).exec(first);
    if (endpoint) {
      const raw = endpoint[2]!;
      const full = isFull(raw) ? raw : joinPath(base, raw);
      const e = push({ method: endpoint[1] as Method, path: pathOnly(full), line: start + 2, query: raw.split('?')[1] ?? '', multipart: /multipart\/form-data/.test(text), responses: [] });
      const blank = text.indexOf('\n\n');
      const rest = blank >= 0 ? text.slice(blank + 2).trim() : '';
      if (rest.startsWith('{')) e.body = parseDocJson(rest);
      return e;
    }
    if (lang !== 'json' || !cur) return cur;
    const label = lines.slice(Math.max(0, start - 3), start).reverse().find((l) => l.trim() !== '') ?? '';
    const json = parseDocJson(text);
    if (/R[ée]ponse|Response/i.test(label)) cur.responses.push({ status: Number(/\b([1-5]\d\d)\b/.exec(label)?.[1] ?? NaN) || null, json });
    else if (cur.body === undefined && cur.method !== 'GET' && /Corps|Request Body|Body/i.test(label)) cur.body = json;
    return cur;
  }
}

/** The code samples of one language (```python, ```javascript, ```bash…), in order. */
export function codeBlocks(doc: string, lang: string): string[] {
  return [...doc.matchAll(new RegExp('```' + lang + '\\s*\\n([\\s\\S]*?)\\n```', 'g'))].map((m) => m[1]!);
}

/** A documented path with its placeholders filled: `/contacts/{id}` → `/contacts/12`. */
export const fillPath = (path: string, values: Record<string, string | number>): string =>
  path.replace(/\{(\w+)\}/g, (_, k: string) => String(values[k] ?? values.id ?? `{${k}}`));
