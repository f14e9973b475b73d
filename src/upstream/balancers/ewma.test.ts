import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ewma } from './ewma.js';
import { makeEndpoints, makeOptions, simulateServiceTimes } from './testkit.js';

test('ewma: one endpoint 10x slower gets under 10% of traffic', () => {
  const eps = makeEndpoints([1, 1, 1, 1, 1]);
  const opts = makeOptions(41, { decayMs: 10_000 });
  const service = [10, 10, 100, 10, 10];
  const counts = simulateServiceTimes(ewma(eps, opts), eps, service, { requests: 100_000, intervalMs: 2, clock: opts.clock, decayMs: 10_000 });
  const slowShare = counts[2] / 100_000;
  assert.ok(slowShare < 0.1, `slow endpoint share ${slowShare}`);
});

test('ewma: prefers lower latency at equal load, and load at equal latency', () => {
  const eps = makeEndpoints([1, 1]);
  const opts = makeOptions(42);
  const b = ewma(eps, opts);
  eps[0].begin(); eps[0].end(50, opts.clock);
  eps[1].begin(); eps[1].end(5, opts.clock);
  for (let i = 0; i < 50; i++) assert.equal(b.pick({ attempt: 0 }), eps[1]);
  // 5 ms with 10 in flight (cost 55) loses to 50 ms idle (cost 50).
  for (let i = 0; i < 10; i++) eps[1].begin();
  for (let i = 0; i < 50; i++) assert.equal(b.pick({ attempt: 0 }), eps[0]);
});

test('ewma: latency decays with time since the last sample (read-only, not written back)', () => {
  const eps = makeEndpoints([1, 1]);
  const opts = makeOptions(43, { decayMs: 1000 });
  const b = ewma(eps, opts);
  eps[0].begin(); eps[0].end(100, opts.clock); // slow sample at t=1000
  opts.clock.advance(3000);
  eps[1].begin(); eps[1].end(10, opts.clock); // fresh 10 ms sample at t=4000
  // endpoint 0 now costs 100 * e^-3 ~ 5 < 10: it is probed again.
  assert.equal(b.pick({ attempt: 0 }), eps[0]);
  assert.equal(eps[0].ewmaMs, 100);
  assert.equal(eps[0].ewmaAt, 1000);
});

test('ewma: an unsampled endpoint is tried when idle, then penalised while its request is outstanding', () => {
  const eps = makeEndpoints([1, 1]);
  const opts = makeOptions(44);
  const b = ewma(eps, opts);
  eps[0].begin(); eps[0].end(1, opts.clock); // warm, 1 ms
  assert.equal(b.pick({ attempt: 0 }), eps[1]); // cold and idle: cost 0
  eps[1].begin();
  for (let i = 0; i < 5; i++) eps[0].begin(); // warm endpoint busy: cost 1 * 6 = 6
  for (let i = 0; i < 20; i++) assert.equal(b.pick({ attempt: 0 }), eps[0]);
});

test('ewma: invalid decay throws; empty list gives undefined', () => {
  assert.throws(() => ewma(makeEndpoints([1]), makeOptions(1, { decayMs: 0 })), /decayMs/);
  assert.equal(ewma([], makeOptions(1)).pick({ attempt: 0 }), undefined);
});
