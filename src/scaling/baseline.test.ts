import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LatencyBaseline } from './baseline.js';

const SEC = 1000;
const MIN = 60 * SEC;

test('baseline: undefined until the warm-up is covered, then the plain average of a constant', () => {
  const b = new LatencyBaseline(60 * MIN, 10 * MIN);
  for (let i = 0; i < 59; i++) b.add(40, 10 * SEC);
  assert.equal(b.valueMs, undefined);
  assert.equal(b.learnedMs, 590 * SEC);
  b.add(40, 10 * SEC);
  const v: number | undefined = b.valueMs;
  assert.ok(v !== undefined && Math.abs(v - 40) < 1e-9, `bias-corrected: ${v}`);
});

test('baseline: a 5-minute doubling moves a settled one-hour average by under 10%', () => {
  const b = new LatencyBaseline(60 * MIN, 0);
  for (let i = 0; i < 6 * 360; i++) b.add(50, 10 * SEC);
  for (let i = 0; i < 30; i++) b.add(100, 10 * SEC);
  const v = b.valueMs as number;
  assert.ok(v > 50 && v < 55, `baseline ${v}`);
});

test('baseline: follows a lasting change over hours', () => {
  const b = new LatencyBaseline(60 * MIN, 0);
  for (let i = 0; i < 360; i++) b.add(50, 10 * SEC);
  for (let i = 0; i < 5 * 360; i++) b.add(80, 10 * SEC);
  assert.ok(Math.abs((b.valueMs as number) - 80) < 1, `baseline ${b.valueMs}`);
});

test('baseline: ignores non-finite, zero and negative values and empty time', () => {
  const b = new LatencyBaseline(60 * MIN, 0);
  assert.equal(b.valueMs, undefined);
  b.add(NaN, 10 * SEC);
  b.add(Infinity, 10 * SEC);
  b.add(-5, 10 * SEC);
  b.add(0, 10 * SEC);
  b.add(30, 0);
  assert.equal(b.valueMs, undefined);
  b.add(30, 10 * SEC);
  assert.equal(b.valueMs, 30);
});

test('baseline: rejects invalid options', () => {
  assert.throws(() => new LatencyBaseline(0), RangeError);
  assert.throws(() => new LatencyBaseline(60 * MIN, -1), RangeError);
  assert.throws(() => new LatencyBaseline(NaN), RangeError);
});
