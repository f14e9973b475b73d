import { test } from 'node:test';
import assert from 'node:assert/strict';
import { demoTable, spread, type DemoFigures } from './anycast-demo.js';

const run = (k: number): DemoFigures => ({
  split3: [30 + k, 33, 37 - k], split5: [20, 20, 20, 20, 20], silentMs: 300 + k, silentFailed: k, killMs: 40, killFailed: 1,
  unhealthyMs: 200, unhealthyFailed: 5, unhealthyOthersOk: 500, drainPlainFailed: 8, drainPlainOk: 4000,
  drainResilientFailed: 0, drainResilientOk: 4000, scalePlainBroken: 35, scaleResilientBroken: 20, scalePlainChanges: 2, scaleResilientChanges: 2,
});

test('spread: min / median / max, sorted numerically; one run is its value', () => {
  assert.equal(spread([10, 9, 100]), '9 / 10 / 100');
  assert.equal(spread([7]), '7');
});

test('demoTable: one row per figure, each cell over the runs', () => {
  const t = demoTable([run(2), run(0), run(1)]).split('\n');
  assert.equal(t[0], '| scenario | figure | goal |');
  assert.equal(t.length, 2 + 15);
  assert.match(t.find((l) => l.startsWith('| split, 3 nodes'))!, /n1 30 \/ 31 \/ 32; n2 33 \/ 33 \/ 33; n3 35 \/ 36 \/ 37/);
  assert.match(t.find((l) => l.startsWith('| silent failure (nft'))!, /\| 300 \/ 301 \/ 302 \| < 1000 \|/);
  assert.match(t.find((l) => l.includes('drain: requests made'))!, /4008 \/ 4008 \/ 4008; 4000 \/ 4000 \/ 4000/);
});
