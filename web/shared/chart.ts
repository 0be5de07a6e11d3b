/**
 * Small inline-SVG charts (no library): a sparkline with an optional reference line, stacked bars
 * with axes, a gauge, and hover titles. Colours come from CSS classes (chart-line, chart-area, chart-ref,
 * chart-bar-ok, chart-bar-bad, chart-bar-wait, chart-axis, chart-grid…), so a page's stylesheet decides them.
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

export interface BarSegment {
  value: number;
  /** The CSS class of this segment (chart-bar-ok, chart-bar-bad, chart-bar-wait…). */
  class: string;
}

export interface Bar {
  /** Under the bar (a day: "12/01"); left out where labels would crowd. */
  label: string;
  /** Shown when hovering the bar's column. */
  title: string;
  /** Stacked from the bottom, in order. */
  segments: readonly BarSegment[];
}

/**
 * Stacked bars with a baseline, the top value on the y axis and a label under each bar (every
 * other one when there are many): delivered / failed / pending per day.
 */
export function bars(items: readonly Bar[], opts: { width?: number; height?: number; label?: string } = {}): SVGSVGElement {
  const width = opts.width ?? 560;
  const height = opts.height ?? 180;
  const left = 34;
  const bottom = 20;
  const top = 10;
  const plotH = height - bottom - top;
  const totals = items.map((b) => b.segments.reduce((n, sg) => n + Math.max(0, sg.value), 0));
  const peak = Math.max(0, ...totals);
  const max = niceMax(peak);
  const slot = (width - left - 4) / Math.max(1, items.length);
  const bw = Math.max(3, Math.min(28, slot * 0.62));
  const y = (v: number) => round(top + plotH - (v / max) * plotH);

  const svg = s('svg', { class: 'chart bars', width, height, viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': opts.label ?? 'chart' });
  // Grid: 0, half and the top, labelled on the left.
  for (const v of [0, max / 2, max]) {
    svg.appendChild(s('line', { class: v === 0 ? 'chart-axis' : 'chart-grid', x1: left, x2: width, y1: y(v), y2: y(v) }));
    svg.appendChild(s('text', { class: 'chart-tick', x: left - 6, y: y(v) + 4, 'text-anchor': 'end' }, formatTick(v)));
  }
  const every = items.length > 16 ? Math.ceil(items.length / 8) : items.length > 8 ? 2 : 1;
  items.forEach((b, i) => {
    const cx = left + slot * (i + 0.5);
    let acc = 0;
    for (const sg of b.segments) {
      if (sg.value <= 0) continue;
      const y0 = y(acc);
      acc += sg.value;
      const y1 = y(acc);
      svg.appendChild(s('rect', { class: sg.class, x: round(cx - bw / 2), y: y1, width: round(bw), height: Math.max(1, round(y0 - y1)) }));
    }
    // Labels from the right end (today always labelled).
    if ((items.length - 1 - i) % every === 0) svg.appendChild(s('text', { class: 'chart-label', x: round(cx), y: height - 5, 'text-anchor': 'middle' }, b.label));
    svg.appendChild(s('rect', { class: 'chart-hit', x: round(cx - slot / 2), y: 0, width: round(slot), height: height - bottom }, s('title', null, b.title)));
  });
  return svg;
}

/** 1, 2, 5, 10, 20, 50… at or above n (at least 4, so a quiet chart is not all bar). */
function niceMax(n: number): number {
  if (n <= 4) return 4;
  const p = 10 ** Math.floor(Math.log10(n));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= n) return m * p;
  return 10 * p;
}

function formatTick(v: number): string {
  if (v >= 1_000_000) return `${round(v / 1_000_000)}M`;
  if (v >= 10_000) return `${round(v / 1000)}k`;
  return String(Math.round(v * 10) / 10);
}
