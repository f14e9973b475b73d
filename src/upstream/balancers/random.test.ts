import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AliasTable, weightedRandom } from './random.js';
import { assertWeightShares, count, makeEndpoints, makeOptions } from './testkit.js';
import { seededRandom } from '../../util/random.js';
import type { Endpoint } from '../endpoint.js';

test('random: weights {1,2,3,4} shares over 100k picks within 2%', () => {
  const eps = makeEndpoints([1, 2, 3, 4]);
  const b = weightedRandom(eps, makeOptions(42));
  const counts = new Map<Endpoint, number>();
  for (let i = 0; i < 100_000; i++) count(counts, b.pick({ attempt: 0 }));
  assertWeightShares(eps, counts, 0.02, 'random');
});

test('random: alias table is exact in expectation for skewed weights', () => {
  // Probability of each index = sum over columns of mass it gets; check against weights exactly
  // by integrating over the two uniforms on a fine grid.
  const weights = Float64Array.from([1, 10_000, 3, 7, 0.5]);
  const t = new AliasTable(weights);
  const steps = 1000;
  const mass = new Float64Array(weights.length);
  for (let col = 0; col < t.size; col++) {
    for (let s = 0; s < steps; s++) {
      const u = [(col + 0.5) / t.size, (s + 0.5) / steps];
      let k = 0;
      mass[t.sample(() => u[k++])] += 1 / (t.size * steps);
    }
  }
  const sum = weights.reduce((a, b) => a + b, 0);
  for (let i = 0; i < weights.length; i++) assert.ok(Math.abs(mass[i] - weights[i] / sum) <= 1 / steps, `index ${i}: ${mass[i]}`);
});

test('random: single endpoint, empty list, invalid weight', () => {
  const one = makeEndpoints([3]);
  const b = weightedRandom(one, { random: seededRandom(1), clock: makeOptions(1).clock });
  for (let i = 0; i < 10; i++) assert.equal(b.pick({ attempt: 0 }), one[0]);
  assert.equal(weightedRandom([], makeOptions(1)).pick({ attempt: 0 }), undefined);
  assert.throws(() => weightedRandom(makeEndpoints([-1]), makeOptions(1)), /invalid weight -1/);
});
