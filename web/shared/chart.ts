/**
 * Small inline-SVG charts (no library): a sparkline with an optional reference line, bars, and
 * hover titles per point. Colours come from CSS classes (chart-line, chart-area, chart-ref,
 * chart-bar, chart-bar-bad), so a page's stylesheet decides them.
 */
import { s } from './dom.js';

export interface Point {
  value: number | null;
  /** Shown when hovering the point's column. */
  title?: string;
  /** A second value drawn as a bar from the bottom (errors, say), in its own scale. */
  bar?: number;
}

export interface ChartOptions {
  width?: number;
  height?: number;
  /** The y axis' top; default: the largest value (or the reference) plus 10 %. */
  max?: number;
  /** A dashed horizontal line (a configured limit). */
  reference?: number | null;
  /** Number of slots; points are right-aligned (the latest at the right edge). */
  slots?: number;
  label?: string;
}

const round = (n: number) => Math.round(n * 10) / 10;

/** A line-and-area chart of `points`, newest last, with bars for each point's `bar` value. */
export function sparkline(points: readonly Point[], opts: ChartOptions = {}): SVGSVGElement {
  const width = opts.width ?? 180;
  const height = opts.height ?? 44;
  const slots = Math.max(opts.slots ?? points.length, points.length, 2);
  const pad = 2;
  const values = points.map((p) => p.value ?? 0);
  const top = opts.max ?? Math.max(1, ...values, opts.reference ?? 0) * 1.1;
  const step = (width - pad * 2) / (slots - 1);
  const offset = slots - points.length;
  const x = (i: number) => round(pad + (i + offset) * step);
  const y = (v: number) => round(height - pad - (Math.min(v, top) / top) * (height - pad * 2));

  const svg = s('svg', { class: 'chart', width, height, viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': opts.label ?? 'chart' });
  svg.appendChild(s('rect', { class: 'chart-bg', x: 0, y: 0, width, height, rx: 3 }));

  // Bars (errors, say), scaled to at most 40 % of the height.
  const barMax = Math.max(0, ...points.map((p) => p.bar ?? 0));
  if (barMax > 0) {
    const bw = Math.max(2, step * 0.5);
    points.forEach((p, i) => {
      if (!p.bar) return;
      const bh = Math.max(2, (p.bar / barMax) * (height * 0.4));
      svg.appendChild(s('rect', { class: 'chart-bar-bad', x: round(x(i) - bw / 2), y: round(height - bh), width: round(bw), height: round(bh) }));
    });
  }

  if (opts.reference !== undefined && opts.reference !== null && opts.reference > 0) {
    const ry = y(opts.reference);
    svg.appendChild(s('line', { class: 'chart-ref', x1: 0, x2: width, y1: ry, y2: ry }));
  }

  const known = points.map((p, i) => [i, p.value] as const).filter((p): p is readonly [number, number] => p[1] !== null);
  if (known.length > 0) {
    const line = known.map(([i, v]) => `${x(i)},${y(v)}`).join(' ');
    const first = known[0]!;
    const last = known[known.length - 1]!;
    svg.appendChild(s('polygon', { class: 'chart-area', points: `${x(first[0])},${height - pad} ${line} ${x(last[0])},${height - pad}` }));
    svg.appendChild(s('polyline', { class: 'chart-line', points: line }));
    svg.appendChild(s('circle', { class: 'chart-dot', cx: x(last[0]), cy: y(last[1]), r: 2 }));
  }

  // Hover columns with their titles.
  points.forEach((p, i) => {
    if (!p.title) return;
    svg.appendChild(s('rect', { class: 'chart-hit', x: round(x(i) - step / 2), y: 0, width: round(step), height }, s('title', null, p.title)));
  });
  return svg;
}

/** A horizontal gauge: used of size (a bind's window). */
export function gauge(used: number, size: number, opts: { width?: number; height?: number } = {}): SVGSVGElement {
  const width = opts.width ?? 60;
  const height = opts.height ?? 8;
  const frac = size > 0 ? Math.min(1, Math.max(0, used / size)) : 0;
  const svg = s('svg', { class: 'gauge', width, height, viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': `${used} of ${size}` });
  svg.appendChild(s('rect', { class: 'gauge-bg', x: 0, y: 0, width, height, rx: 2 }));
  if (frac > 0) svg.appendChild(s('rect', { class: frac >= 1 ? 'gauge-full' : 'gauge-fill', x: 0, y: 0, width: round(width * frac), height, rx: 2 }));
  return svg;
}
