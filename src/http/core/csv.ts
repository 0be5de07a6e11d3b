/**
 * Every CSV the product answers goes through here: a header line, RFC 4180 quoting (a cell with
 * `,`, `"`, CR or LF is quoted, `"` doubled), and formula injection defused as OWASP recommends
 * (https://owasp.org/www-community/attacks/CSV_Injection): a text cell that begins with `=`, `+`,
 * `-`, `@`, tab or CR — or their full-width forms `＝ ＋ － ＠`, which some spreadsheets also read
 * as formulas — is written with a `'` before it, so a spreadsheet shows it as text instead of
 * running it. A text that already begins with `'` gets one more, so that the escape can be undone
 * without guessing: every text cell that begins with `'` was escaped, and dropping that one `'`
 * gives the stored text back (a spreadsheet shows the same). Numbers are written as they are (a
 * negative count is not a formula). Texts include what users wrote (message bodies, contact names
 * filled into them), hence every text cell, E.164 numbers included (docs/api-sendwave.md, export).
 */
import { Readable } from 'node:stream';
import { stringify } from 'csv-stringify';
import type Koa from 'koa';

const FORMULA_OR_QUOTE_START = /^[=+\-@\t\r\uFF1D\uFF0B\uFF0D\uFF20']/;

/** One text cell as written to a CSV, before quoting. */
const defuseCell = (text: string): string => (FORMULA_OR_QUOTE_START.test(text) ? `'${text}` : text);

/** Answers `rows` as a CSV attachment named `filename`, streamed, with `columns` in that order. */
export function sendCsv(ctx: Koa.Context, filename: string, columns: string[], rows: AsyncIterable<Record<string, unknown>>): void {
  ctx.type = 'text/csv; charset=utf-8';
  ctx.attachment(filename);
  ctx.body = Readable.from(rows).pipe(stringify({
    header: true,
    columns,
    cast: { string: defuseCell, boolean: (b) => (b ? 'true' : 'false') },
  }));
}
