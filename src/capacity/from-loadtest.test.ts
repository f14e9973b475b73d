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

test('reads the measured QPS of a loadtest result', () => {
  const p = file('ok.json', { tool: 'switchyard-loadtest', capacity: { qps: 1199.9, phase: 'spike/spike', p99Ms: 65.3, slo: { p99Ms: 100 } } });
  assert.deepEqual(readMeasuredCapacity(p), { qps: 1199.9, source: 'measured: spike/spike at p99 65.3 ms' });
});

test('missing files, other JSON and results without a capacity are one-line usage errors', () => {
  assert.throws(() => readMeasuredCapacity(join(dir, 'none.json')), { code: 'SWY_CLI_USAGE', message: /cannot read it \(ENOENT\)/ });
  assert.throws(() => readMeasuredCapacity(file('other.json', { hello: 1 })), { code: 'SWY_CLI_USAGE', message: /not a switchyard loadtest result/ });
  assert.throws(() => readMeasuredCapacity(file('bad.json', '{')), { code: 'SWY_CLI_USAGE', message: /cannot read it/ });
  assert.throws(() => readMeasuredCapacity(file('none-met.json', { tool: 'switchyard-loadtest', capacity: { qps: null, slo: { p99Ms: 100 } } })),
    { code: 'SWY_CLI_USAGE', message: /no phase met the SLO \(p99 ≤ 100 ms\).*pass --per-node-qps/ });
});
