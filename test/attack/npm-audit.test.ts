/**
 * The CI step `node --import tsx test/attack/npm-audit.ts` (.ci/run): what it makes of npm audit's
 * reports. The real audit needs the registry, so CI runs it as its own step; here, its verdicts on
 * reports of each kind, offline.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { auditVerdict, explanations } from './npm-audit.js';

const advisory = (name: string, severity: string, id: string) => ({
  name, severity, isDirect: false, effects: [], range: '<9', nodes: [`node_modules/${name}`], fixAvailable: true,
  via: [{ source: 1, name, dependency: name, title: `${name} is broken`, url: `https://github.com/advisories/${id}`, severity, cwe: [], cvss: {}, range: '<9' }],
});
const report = (vulnerabilities: Record<string, unknown>) => ({ auditReportVersion: 2, vulnerabilities, metadata: {} });
const README = '# Relais\n\n## Security advisories\n\n- `tar-fs` (GHSA-aaaa-bbbb-cccc): build-time only.\n\n## Layout\n\n`koa`\n';

test('npm audit: a clean report and moderate advisories pass', () => {
  assert.equal(auditVerdict(report({}), '').outcome, 'clean');
  assert.equal(auditVerdict(report({ ms: advisory('ms', 'moderate', 'GHSA-1111-2222-3333') }), '').outcome, 'clean');
});

test('npm audit: a high or critical advisory fails unless the README\'s section explains it (by id, URL or package)', () => {
  const high = report({ koa: advisory('koa', 'high', 'GHSA-9999-8888-7777'), 'koa-jwt': { name: 'koa-jwt', severity: 'critical', via: ['koa'] } });
  const failing = auditVerdict(high, README);
  assert.equal(failing.outcome, 'failing', 'koa is named in the README, but outside the section');
  assert.match(failing.lines.join('\n'), /NOT EXPLAINED: high koa: koa is broken https:\/\/github.com\/advisories\/GHSA-9999-8888-7777/);
  assert.equal(auditVerdict(report({ 'tar-fs': advisory('tar-fs', 'critical', 'GHSA-aaaa-bbbb-cccc') }), README).outcome, 'explained');
  assert.equal(auditVerdict(report({ 'tar-fs': advisory('tar-fs', 'high', 'GHSA-dddd-eeee-ffff') }), README).outcome, 'explained', 'by package name');
  assert.equal(auditVerdict(report({ other: advisory('other', 'high', 'GHSA-aaaa-bbbb-cccc') }), README).outcome, 'explained', 'by advisory id');
});

test('npm audit: a registry that cannot be reached skips, saying why', () => {
  const refused = auditVerdict({ message: '405 Method Not Allowed - POST https://registry.npmjs.org/-/npm/v1/security/advisories/bulk', statusCode: 405 }, README);
  assert.equal(refused.outcome, 'unreachable');
  assert.match(refused.lines[0]!, /skipped.*405 Method Not Allowed/);
  assert.equal(auditVerdict({ error: { code: 'ENOTFOUND', summary: 'request to https://registry.npmjs.org failed' } }, README).outcome, 'unreachable');
  assert.equal(auditVerdict(null, README).outcome, 'unreachable');
});

test('the README has the section the CI step reads', () => {
  assert.notEqual(explanations(readFileSync(new URL('../../README.md', import.meta.url), 'utf8')).trim(), '');
});
