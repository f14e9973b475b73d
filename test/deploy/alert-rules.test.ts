import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';

/*
 * The shipped Prometheus alert rules (deploy/prometheus/switchyard-rules.yml) checked by the real
 * promtool: the rules are valid, their unit tests pass, and every alert is guarded — with each
 * alert's expression replaced by one that never fires, its cases must fail (a rule broken or
 * left untested fails this test). The metric names they use are checked against a real node in
 * test/integration/metrics-promtool.test.ts.
 */

const DIR = fileURLToPath(new URL('../../../deploy/prometheus/', import.meta.url));
const RULES = 'switchyard-rules.yml';
const TESTS = 'switchyard-rules.test.yml';

interface Rules { groups: { name: string; rules: { alert?: string; expr: string }[] }[] }

function promtool(args: string[], cwd: string): { status: number | null; out: string } {
  const r = spawnSync('promtool', args, { cwd, encoding: 'utf8', timeout: 120_000 });
  if (r.error !== undefined) throw new Error(`promtool: ${r.error.message} (the Debian package prometheus ships it: scripts/install-test-deps.sh)`);
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

const alerts = (): string[] => (parse(readFileSync(join(DIR, RULES), 'utf8')) as Rules).groups.flatMap((g) => g.rules.map((r) => r.alert)).filter((a): a is string => a !== undefined);

test('promtool check rules accepts the shipped rules', () => {
  const r = promtool(['check', 'rules', RULES], DIR);
  assert.equal(r.status, 0, r.out);
  assert.match(r.out, new RegExp(`SUCCESS: ${alerts().length} rules found`));
});

test('promtool test rules: every case passes', { timeout: 180_000 }, () => {
  const r = promtool(['test', 'rules', TESTS], DIR);
  assert.equal(r.status, 0, r.out);
});

test('every alert is guarded: with its expression never firing, its cases fail', { timeout: 180_000 }, () => {
  const names = alerts();
  assert.ok(names.length >= 12, `${names.length} alerts`);
  const tmp = mkdtempSync(join(tmpdir(), 'swy-rules-'));
  const rules = parse(readFileSync(join(DIR, RULES), 'utf8')) as Rules;
  for (const g of rules.groups) for (const r of g.rules) if (r.alert !== undefined) r.expr = 'vector(1) == 0';
  writeFileSync(join(tmp, RULES), stringify(rules));
  copyFileSync(join(DIR, TESTS), join(tmp, TESTS));
  const r = promtool(['test', 'rules', TESTS], tmp);
  assert.notEqual(r.status, 0, 'rules that never fire must fail the tests');
  const failed = new Set([...r.out.matchAll(/alertname: (\w+), time:/g)].map((m) => m[1]));
  assert.deepEqual(names.filter((n) => !failed.has(n)), [], 'alerts whose tests still pass when they never fire');
});

test('every alert links a runbook section that exists in docs/troubleshooting.md', () => {
  const doc = readFileSync(join(DIR, '../../docs/troubleshooting.md'), 'utf8');
  const anchors = new Set([...doc.matchAll(/^## (.+)$/gm)].map((m) => m[1].toLowerCase().replace(/[^a-z0-9 -]/g, '').replace(/ /g, '-')));
  const rules = parse(readFileSync(join(DIR, RULES), 'utf8')) as { groups: { rules: { alert?: string; annotations?: { runbook_url?: string } }[] }[] };
  for (const r of rules.groups.flatMap((g) => g.rules)) {
    const url = r.annotations?.runbook_url ?? '';
    assert.match(url, /^docs\/troubleshooting\.md#/, `${r.alert} has a runbook`);
    assert.ok(anchors.has(url.split('#')[1]), `${r.alert}: no section for ${url}`);
  }
});
