import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readMeasuredCapacity } from './from-loadtest.js';

const dir = mkdtempSync(join(tmpdir(), 'swy-capacity-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, content: unknown): string {
  const p = join(dir, name);
  writeFileSync(p, typeof content === 'string' ? content : JSON.stringify(content));
  return p;
}

test('reads the measured QPS of a loadtest result that saturated the node', () => {
  const p = file('ok.json', { tool: 'switchyard-loadtest', capacity: { qps: 1199.9, phase: 'spike/spike', p99Ms: 65.3, slo: { p99Ms: 100 }, saturated: true, saturation: 'x' } });
  assert.deepEqual(readMeasuredCapacity(p), { qps: 1199.9, source: 'measured: spike/spike at p99 65.3 ms' });
});

test('an unsaturated result is refused with how to get a saturated one; --force takes it with a warning', () => {
  const doc = { tool: 'switchyard-loadtest', capacity: { qps: 100, phase: 'baseline/baseline', p99Ms: 2, slo: { p99Ms: 100, errorRate: 0.01 }, saturated: false, saturation: 'every phase met the SLO' } };
  const p = file('unsaturated.json', doc);
  assert.throws(() => readMeasuredCapacity(p), {
    code: 'SWY_CAPACITY_UNSATURATED',
    message: /did not saturate the node \(every phase met the SLO\), so 100 requests\/s is only a lower bound.*get a saturated run: raise the offered rate until a phase breaks the SLO \(p99 100 ms, 1% errors\).*--scenario spike --rate 100 .*or pass --force/,
  });
  const forced = readMeasuredCapacity(p, true);
  assert.equal(forced.qps, 100);
  assert.match(forced.source, /NOT SATURATED/);
  assert.match(forced.warning!, /^WARNING: .*did not saturate the node.*because of --force/);
  // An older result does not say: refused the same way.
  const { saturated: _s, saturation: _w, ...old } = doc.capacity;
  assert.throws(() => readMeasuredCapacity(file('old.json', { ...doc, capacity: old })), { code: 'SWY_CAPACITY_UNSATURATED', message: /does not say whether the run saturated/ });
});

test('missing files, other JSON and results without a capacity are one-line usage errors', () => {
  assert.throws(() => readMeasuredCapacity(join(dir, 'none.json')), { code: 'SWY_CLI_USAGE', message: /cannot read it \(ENOENT\)/ });
  assert.throws(() => readMeasuredCapacity(file('other.json', { hello: 1 })), { code: 'SWY_CLI_USAGE', message: /not a switchyard loadtest result/ });
  assert.throws(() => readMeasuredCapacity(file('bad.json', '{')), { code: 'SWY_CLI_USAGE', message: /cannot read it/ });
  assert.throws(() => readMeasuredCapacity(file('none-met.json', { tool: 'switchyard-loadtest', capacity: { qps: null, slo: { p99Ms: 100 } } })),
    { code: 'SWY_CLI_USAGE', message: /no phase met the SLO \(p99 ≤ 100 ms\).*pass --per-node-qps/ });
});
