/** Statistics over the benchmark's samples: timestamps (ms) and latencies, sorted ascending. */

/** Largest number of (sorted) timestamps inside any window of `windowMs` (t - windowMs, t]. */
export function maxInWindow(sortedTimes: readonly number[], windowMs = 1000): number {
  let max = 0;
  let i = 0;
  for (let j = 0; j < sortedTimes.length; j++) {
    const t = sortedTimes[j] as number;
    while ((sortedTimes[i] as number) <= t - windowMs) i++;
    if (j - i + 1 > max) max = j - i + 1;
  }
  return max;
}

/** Nearest-rank percentile of an ascending array (p in 0..100); NaN when empty. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))] as number;
}

export function rate(count: number, ms: number): number {
  return ms > 0 ? (count * 1000) / ms : NaN;
}

/** Timestamps counted per whole second after t0 ([0] = the first second). */
export function perSecond(sortedTimes: readonly number[], t0: number): number[] {
  const out: number[] = [];
  for (const t of sortedTimes) {
    const i = Math.max(0, Math.floor((t - t0) / 1000));
    while (out.length <= i) out.push(0);
    out[i] = (out[i] as number) + 1;
  }
  return out;
}

/** CPU seconds over wall milliseconds, as a percentage of one core. */
export function cpuPercent(cpuSeconds: number, wallMs: number): number {
  return ((cpuSeconds * 1000) / wallMs) * 100;
}

/** This process's CPU (a process.cpuUsage() delta, µs) over wall milliseconds, as a percentage of one core. */
export function ownCpuPercent(usage: NodeJS.CpuUsage, wallMs: number): number {
  return ((usage.user + usage.system) / 1000 / wallMs) * 100;
}
