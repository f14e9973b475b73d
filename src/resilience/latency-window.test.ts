import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../util/clock.js';
import { fewestGcs } from '../util/gc-check.js';
import { LatencyWindow } from './latency-window.js';

/** Exact q-quantile of a sample (nearest rank). */
function exact(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.max(0, Math.ceil(q * s.length) - 1)];
}

test('quantiles are within one bucket (+19%, never below) of the exact value', () => {
  const w = new LatencyWindow(10_000, new ManualClock(0), 1);
  let seed = 7;
  const rnd = () => { seed = (seed * 1103515245 + 12345) % 2 ** 31; return seed / 2 ** 31; };
  const xs: number[] = [];
  for (let i = 0; i < 10_000; i++) {
    // Mostly ~1 ms with a long tail, like a healthy backend.
    const ms = rnd() < 0.98 ? 0.5 + rnd() : 5 + rnd() * 200;
    xs.push(ms);
    w.record(ms);
  }
  for (const q of [0.5, 0.9, 0.99, 0.999]) {
    const est = w.quantile(q)!;
    const truth = exact(xs, q);
    assert.ok(est >= truth && est <= truth * 1.2, `q${q}: estimate ${est} vs ${truth}`);
  }
});

test('old latencies leave the window', () => {
  const clock = new ManualClock(0);
  const w = new LatencyWindow(1000, clock, 10);
  for (let i = 0; i < 100; i++) w.record(500);
  assert.ok(w.quantile(0.99)! >= 500);
  clock.advance(600);
  for (let i = 0; i < 100; i++) w.record(2);
  assert.ok(w.quantile(0.99)! >= 500, 'the slow ones are still in the window');
  clock.advance(700);
  const p99 = w.quantile(0.99)!;
  assert.ok(p99 >= 2 && p99 < 2.5, `only the fast ones are left: ${p99}`);
  clock.advance(5000);
  assert.equal(w.count(), 0);
});

test('too few samples: no estimate', () => {
  const w = new LatencyWindow(1000, new ManualClock(0), 20);
  for (let i = 0; i < 19; i++) w.record(1);
  assert.equal(w.quantile(0.99), undefined);
  w.record(1);
  assert.ok(w.quantile(0.99) !== undefined);
});

test('extreme values are clamped into the first and last buckets', () => {
  const w = new LatencyWindow(1000, new ManualClock(0), 1);
  w.record(0);
  w.record(-3);
  w.record(1e12);
  assert.ok(w.quantile(0.5)! <= 0.002);
  assert.ok(w.quantile(1)! > 2_000_000);
});

test('recording allocates nothing once optimised', async () => {
  const clock = new ManualClock(0);
  const w = new LatencyWindow(1000, clock);
  const round = (n: number) => {
    for (let i = 0; i < n; i++) { w.record((i % 97) * 0.3); if ((i & 4095) === 0) clock.advance(50); }
  };
  assert.equal(await fewestGcs(round), 0);
});
