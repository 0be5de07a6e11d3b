/** How the report writes numbers and tables (markdown, ready to paste). */

export function fmtInt(n: number): string {
  if (!Number.isFinite(n)) return '–';
  return Math.round(n).toLocaleString('en-US');
}

export function fmtNum(n: number, digits = 1): string {
  if (!Number.isFinite(n)) return '–';
  return n.toFixed(digits);
}

/** Milliseconds: one decimal under 10 ms (one-recipient requests answer in a few ms). */
export function fmtLatency(ms: number): string {
  return Number.isFinite(ms) && ms < 10 ? fmtNum(ms, 1) : fmtInt(ms);
}

export function mb(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes <= 0) return '–';
  return `${(bytes / 1024 / 1024).toFixed(0)}`;
}

/** A markdown table with right-aligned numeric columns (every column but the first `left`). */
export function table(header: readonly string[], rows: readonly (readonly string[])[], left = 1): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const cell = (s: string, i: number) => (i < left ? s.padEnd(widths[i] as number) : s.padStart(widths[i] as number));
  const line = (cells: readonly string[]) => `| ${cells.map(cell).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (i < left ? `${'-'.repeat(w + 1)}-` : `${'-'.repeat(w + 1)}:`)).join('|')}|`;
  return [line(header), rule, ...rows.map(line)].join('\n');
}
