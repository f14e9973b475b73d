import { test } from 'node:test';
import assert from 'node:assert/strict';
import { p2c } from './p2c.js';
import { roundRobin } from './round-robin.js';
import { assertWeightShares, makeEndpoints, makeOptions, pickHeldOpen, pickImmediate, simulateServiceTimes } from './testkit.js';
import type { Endpoint } from '../endpoint.js';

test('p2c: immediate completion follows weights within 2% (first candidate is weight-proportional)', () => {
  const eps = makeEndpoints([1, 2, 3, 4]);
  const opts = makeOptions(21);
  const counts = pickImmediate(p2c(eps, opts), 100_000, opts.clock);
  assertWeightShares(eps, counts, 0.02, 'p2c immediate');
});

test('p2c: held-open load (200 open, random release) follows weights within 2%', () => {
  const eps = makeEndpoints([1, 2, 3, 4]);
  const opts = makeOptions(22);
  const counts = pickHeldOpen(p2c(eps, opts), 100_000, 200, 23, opts.clock);
  assertWeightShares(eps, counts, 0.02, 'p2c held-open');
});

test('p2c: two distinct candidates, lower inFlight/weight wins', () => {
  const eps = makeEndpoints([1, 1]);
  const b = p2c(eps, makeOptions(3));
  eps[0].begin();
  // Two endpoints: the candidates are always both; the idle one must win every time.
  for (let i = 0; i < 100; i++) assert.equal(b.pick({ attempt: 0 }), eps[1]);
  const w = makeEndpoints([1, 3]);
  const wb = p2c(w, makeOptions(4));
  w[0].begin(); w[1].begin(); w[1].begin(); // 1/1 vs 2/3
  for (let i = 0; i < 100; i++) assert.equal(wb.pick({ attempt: 0 }), w[1]);
});

test('p2c: one endpoint 10x slower gets under 10% of traffic', () => {
  // 5 endpoints: four serve in 10 ms, one in 100 ms; a request arrives every 2 ms (ManualClock).
  const eps = makeEndpoints([1, 1, 1, 1, 1]);
  const opts = makeOptions(31);
  const service = [10, 10, 100, 10, 10];
  const counts = simulateServiceTimes(p2c(eps, opts), eps, service, { requests: 100_000, intervalMs: 2, clock: opts.clock });
  const slowShare = counts[2] / 100_000;
  assert.ok(slowShare < 0.1, `slow endpoint share ${slowShare}`);
  for (const e of eps) assert.equal(e.inFlight, 0);
  // Control: a load-blind balancer in the same simulation gives the slow endpoint 20%.
  const rrEps = makeEndpoints([1, 1, 1, 1, 1]);
  const rrOpts = makeOptions(31);
  const rr = simulateServiceTimes(roundRobin(rrEps, rrOpts), rrEps, service, { requests: 100_000, intervalMs: 2, clock: rrOpts.clock });
  assert.equal(rr[2], 20_000);
});

test('p2c: single endpoint and empty list', () => {
  const one = makeEndpoints([2]);
  const b = p2c(one, makeOptions(1));
  for (let i = 0; i < 5; i++) assert.equal(b.pick({ attempt: 0 }), one[0]);
  assert.equal(p2c([], makeOptions(1)).pick({ attempt: 0 }), undefined as Endpoint | undefined);
});
