/**
 * `npm audit --omit=dev`, as CI runs it (.ci/run, after the tests): exits 1 on a high or critical
 * advisory against a production dependency unless README.md's "Security advisories" section
 * explains it (naming its GHSA id, its advisory URL or the package); exits 0, saying it skipped,
 * when the registry's audit endpoint cannot be reached (offline builds, proxies that refuse it).
 *
 *   node --import tsx test/attack/npm-audit.ts
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface Verdict {
  outcome: 'clean' | 'explained' | 'failing' | 'unreachable';
  lines: string[];
}

interface Advisory {
  name: string;
  severity: string;
  title: string;
  url: string;
}

const SERIOUS = new Set(['high', 'critical']);

/** The README's "Security advisories" section (empty when there is none). */
export function explanations(readme: string): string {
  const m = /^#{2,} Security advisories\s*$([\s\S]*?)(?=^#+ |(?![\s\S]))/m.exec(readme);
  return m?.[1] ?? '';
}

/** What an `npm audit --json` report means for CI, given the README. */
export function auditVerdict(report: unknown, readme: string): Verdict {
  const r = report as { auditReportVersion?: number; vulnerabilities?: Record<string, { name: string; severity: string; via: unknown[] }>; message?: string; error?: { summary?: string; code?: string } } | null;
  if (!r || typeof r !== 'object' || r.auditReportVersion === undefined || typeof r.vulnerabilities !== 'object') {
    const why = r?.message ?? r?.error?.summary ?? r?.error?.code ?? 'no audit report';
    return { outcome: 'unreachable', lines: [`npm audit skipped: the registry's audit endpoint could not be used (${why}).`] };
  }
  const advisories: Advisory[] = [];
  for (const v of Object.values(r.vulnerabilities)) {
    if (!SERIOUS.has(v.severity)) continue;
    // `via` holds the advisory itself, or the names of the packages it comes through (listed on their own).
    for (const via of v.via) if (typeof via === 'object' && via !== null) {
      const a = via as { name?: string; severity?: string; title?: string; url?: string };
      if (SERIOUS.has(a.severity ?? '')) advisories.push({ name: a.name ?? v.name, severity: a.severity!, title: a.title ?? '', url: a.url ?? '' });
    }
  }
  if (!advisories.length) return { outcome: 'clean', lines: ['npm audit --omit=dev: no high or critical advisory.'] };
  const notes = explanations(readme);
  const ghsa = (url: string) => /GHSA-[\w-]+/.exec(url)?.[0] ?? url;
  const explained = (a: Advisory) => notes.includes(ghsa(a.url)) || (a.url !== '' && notes.includes(a.url)) || new RegExp(`\`${a.name.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}\``).test(notes);
  const lines = advisories.map((a) => `${explained(a) ? 'explained' : 'NOT EXPLAINED'}: ${a.severity} ${a.name}: ${a.title} ${a.url}`);
  const open = advisories.filter((a) => !explained(a));
  if (!open.length) return { outcome: 'explained', lines: [...lines, 'npm audit --omit=dev: every high or critical advisory is explained in README.md.'] };
  return { outcome: 'failing', lines: [...lines, `npm audit --omit=dev: ${open.length} high or critical advisor${open.length > 1 ? 'ies' : 'y'} not explained in README.md ("Security advisories"): upgrade, or explain why it does not apply.`] };
}

function main(): number {
  const root = fileURLToPath(new URL('../..', import.meta.url));
  const run = spawnSync('npm', ['audit', '--omit=dev', '--json'], { cwd: root, encoding: 'utf8', timeout: 120_000 });
  let report: unknown = null;
  try {
    report = JSON.parse(run.stdout);
  } catch {
    report = { message: (run.error?.message ?? run.stderr.trim().split('\n').pop()) || `npm exited ${run.status}` };
  }
  const verdict = auditVerdict(report, readFileSync(`${root}/README.md`, 'utf8'));
  for (const line of verdict.lines) console.log(line);
  return verdict.outcome === 'failing' ? 1 : 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) process.exitCode = main();
