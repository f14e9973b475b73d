import { test } from 'node:test';
import assert from 'node:assert/strict';
import { roundRobin } from './round-robin.js';
import { makeEndpoints, makeOptions } from './testkit.js';
import { ManualClock } from '../../util/clock.js';

test('round-robin: exact rotation from the start index, weights ignored', () => {
  const eps = makeEndpoints([1, 5, 2, 9, 1]);
  const b = roundRobin(eps, makeOptions(3));
  const first = b.pick({ attempt: 0 })!;
  const s = eps.indexOf(first);
  for (let k = 1; k < 5 * 7; k++) assert.equal(b.pick({ attempt: 0 }), eps[(s + k) % 5], `pick ${k}`);
});

test('round-robin: starting index comes from opts.random', () => {
  const eps = makeEndpoints([1, 1, 1, 1]);
  const clock = new ManualClock();
  assert.equal(roundRobin(eps, { random: () => 0, clock }).pick({ attempt: 0 }), eps[0]);
  assert.equal(roundRobin(eps, { random: () => 0.99, clock }).pick({ attempt: 0 }), eps[3]);
  assert.equal(roundRobin(eps, { random: () => 0.5, clock }).pick({ attempt: 0 }), eps[2]);
});

test('round-robin: ignores ctx.tried and hashKey; empty list gives undefined', () => {
  const eps = makeEndpoints([1, 1]);
  const b = roundRobin(eps, { random: () => 0, clock: new ManualClock() });
  assert.equal(b.pick({ attempt: 1, tried: new Set([eps[0]]), hashKey: 'x' }), eps[0]);
  assert.equal(b.algorithm, 'round-robin');
  assert.equal(roundRobin([], makeOptions(1)).pick({ attempt: 0 }), undefined);
});
