import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Gcra, newVerdict } from './gcra.js';

test('a new key gets its burst at once, then one request per interval', () => {
  const g = new Gcra({ rate: 10, periodMs: 1000, burst: 3 });
  const v = newVerdict();
  let tat = 0;
  const now = 5000;
  const allowed: boolean[] = [];
  for (let i = 0; i < 4; i++) { tat = g.take(tat, now, v); allowed.push(v.allowed); }
  assert.deepEqual(allowed, [true, true, true, false]);
  assert.equal(v.remaining, 0);
  assert.ok(Math.abs(v.retryAfterMs - 100) < 1e-6, `retry after one interval, got ${v.retryAfterMs}`);
  tat = g.take(tat, now + 99, v);
  assert.equal(v.allowed, false);
  tat = g.take(tat, now + 100, v);
  assert.equal(v.allowed, true);
});

test('remaining counts down through the burst', () => {
  const g = new Gcra({ rate: 5, periodMs: 1000, burst: 5 });
  const v = newVerdict();
  let tat = 0;
  const seen: number[] = [];
  for (let i = 0; i < 5; i++) { tat = g.take(tat, 0, v); seen.push(v.remaining); }
  assert.deepEqual(seen, [4, 3, 2, 1, 0]);
});

test('the long-run rate is the configured rate under a flood', () => {
  const g = new Gcra({ rate: 50, periodMs: 1000, burst: 10 });
  const v = newVerdict();
  let tat = 0;
  let ok = 0;
  // 10 s of a request every millisecond (20x the rate).
  for (let t = 0; t < 10_000; t++) { tat = g.take(tat, t, v); if (v.allowed) ok++; }
  assert.ok(ok >= 500 && ok <= 511, `expected 500 + burst at most, got ${ok}`);
});

test('a refused request does not move the state', () => {
  const g = new Gcra({ rate: 1, periodMs: 1000, burst: 1 });
  const v = newVerdict();
  const tat = g.take(0, 0, v);
  assert.equal(g.take(tat, 10, v), tat);
  assert.equal(v.allowed, false);
});

test('shapes out of range are refused', () => {
  assert.throws(() => new Gcra({ rate: 0, periodMs: 1000, burst: 1 }), RangeError);
  assert.throws(() => new Gcra({ rate: 1, periodMs: 1000, burst: 0 }), RangeError);
  assert.throws(() => new Gcra({ rate: 1, periodMs: -1, burst: 1 }), RangeError);
});
