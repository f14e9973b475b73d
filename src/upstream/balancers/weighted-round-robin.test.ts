import { test } from 'node:test';
import assert from 'node:assert/strict';
import { weightedRoundRobin } from './weighted-round-robin.js';
import { assertWeightShares, makeEndpoints, makeOptions } from './testkit.js';
import { ManualClock } from '../../util/clock.js';
import type { Endpoint } from '../endpoint.js';
import type { Balancer } from './types.js';

function letters(b: Balancer, eps: Endpoint[], n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += 'abcdefghij'[eps.indexOf(b.pick({ attempt: 0 })!)];
  return s;
}

test("weighted-round-robin: weights {5,1,1} give nginx's documented 'a a b a c a a' (table mode)", () => {
  const eps = makeEndpoints([5, 1, 1]);
  const b = weightedRoundRobin(eps, { random: () => 0, clock: new ManualClock() });
  assert.equal((b as unknown as { tabled: boolean }).tabled, true);
  assert.equal(letters(b, eps, 21), 'aabacaa'.repeat(3));
});

test('weighted-round-robin: live mode (non-integer weights) produces the same smooth sequence', () => {
  const eps = makeEndpoints([2.5, 0.5, 0.5]);
  const b = weightedRoundRobin(eps, { random: () => 0, clock: new ManualClock() });
  assert.equal((b as unknown as { tabled: boolean }).tabled, false);
  assert.equal(letters(b, eps, 21), 'aabacaa'.repeat(3));
  // Same for a longer pattern: [1,2,3,4] in table mode vs [0.5,1,1.5,2] in live mode.
  const tEps = makeEndpoints([1, 2, 3, 4]);
  const lEps = makeEndpoints([0.5, 1, 1.5, 2]);
  const t = weightedRoundRobin(tEps, { random: () => 0, clock: new ManualClock() });
  const l = weightedRoundRobin(lEps, { random: () => 0, clock: new ManualClock() });
  assert.equal(letters(t, tEps, 100), letters(l, lEps, 100));
});

test('weighted-round-robin: a random start is a rotation of the same period', () => {
  const eps = makeEndpoints([5, 1, 1]);
  const b = weightedRoundRobin(eps, makeOptions(11));
  const seen = letters(b, eps, 7);
  assert.ok('aabacaa'.repeat(2).includes(seen), seen);
  assert.equal(letters(b, eps, 14), seen + seen);
});

test('weighted-round-robin: weights {1,2,3,4} shares over 100k picks within 2% (exact per period)', () => {
  const eps = makeEndpoints([1, 2, 3, 4]);
  const b = weightedRoundRobin(eps, makeOptions(5));
  const counts = new Map<Endpoint, number>();
  for (let i = 0; i < 100_000; i++) {
    const ep = b.pick({ attempt: 0 })!;
    counts.set(ep, (counts.get(ep) ?? 0) + 1);
  }
  assertWeightShares(eps, counts, 0.02, 'wrr');
  assert.deepEqual(eps.map((e) => counts.get(e)), [10_000, 20_000, 30_000, 40_000]);
});

test('weighted-round-robin: huge period falls back to live mode with correct shares; gcd reduction', () => {
  const weights = Array.from({ length: 150 }, (_, i) => (i % 2 === 0 ? 9_999 : 10_000));
  const eps = makeEndpoints(weights);
  const b = weightedRoundRobin(eps, makeOptions(1));
  assert.equal((b as unknown as { tabled: boolean }).tabled, false);
  const counts = new Map<Endpoint, number>();
  for (let i = 0; i < 30_000; i++) {
    const ep = b.pick({ attempt: 0 })!;
    counts.set(ep, (counts.get(ep) ?? 0) + 1);
  }
  assertWeightShares(eps, counts, 0.001, 'wrr-live');
  const g = makeEndpoints([3000, 3000, 6000]);
  const gb = weightedRoundRobin(g, { random: () => 0, clock: new ManualClock() });
  assert.equal((gb as unknown as { tabled: boolean }).tabled, true);
  assert.equal(letters(gb, g, 8), 'cabccabc'); // same as weights {1,1,2}
});

test('weighted-round-robin: invalid weight throws; empty list gives undefined', () => {
  assert.throws(() => weightedRoundRobin(makeEndpoints([1, 0]), makeOptions(1)), /invalid weight 0/);
  assert.throws(() => weightedRoundRobin(makeEndpoints([1, Number.NaN]), makeOptions(1)), /invalid weight/);
  assert.equal(weightedRoundRobin([], makeOptions(1)).pick({ attempt: 0 }), undefined);
});
