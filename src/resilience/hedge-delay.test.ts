import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../util/clock.js';
import { HedgeDelay } from './hedge-delay.js';

const opts = { percentile: 99, factor: 2, minDelay: 5, maxDelay: 1000 };

test('maxDelay until enough latencies are known, then p99 × factor', () => {
  const clock = new ManualClock(0);
  const h = new HedgeDelay(opts, clock);
  assert.equal(h.delayMs(), 1000);
  for (let i = 0; i < 1000; i++) h.record(i < 980 ? 3 : 20);
  clock.advance(200);
  const d = h.delayMs();
  assert.ok(d >= 40 && d <= 48, `p99 ≈ 20 ms × 2: ${d}`);
});

test('clamped to minDelay and maxDelay', () => {
  const clock = new ManualClock(0);
  const fast = new HedgeDelay(opts, clock);
  const slow = new HedgeDelay(opts, clock);
  for (let i = 0; i < 100; i++) { fast.record(0.2); slow.record(5000); }
  clock.advance(200);
  assert.equal(fast.delayMs(), 5);
  assert.equal(slow.delayMs(), 1000);
});

test('cached for 100 ms', () => {
  const clock = new ManualClock(0);
  const h = new HedgeDelay(opts, clock);
  for (let i = 0; i < 100; i++) h.record(10);
  clock.advance(200);
  const before = h.delayMs();
  for (let i = 0; i < 1000; i++) h.record(300);
  assert.equal(h.delayMs(), before);
  clock.advance(100);
  assert.ok(h.delayMs() > before);
});
