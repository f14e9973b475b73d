import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isPrime, maglev } from './maglev.js';
import { assertWeightShares, count, makeEndpoints, makeOptions, randomKeys } from './testkit.js';
import type { Endpoint } from '../endpoint.js';
import type { Balancer } from './types.js';

const KEYS = randomKeys(100_000, 99);

function mapKeys(b: Balancer, keys: readonly string[], attempt = 0): Endpoint[] {
  return keys.map((k) => b.pick({ hashKey: k, attempt })!);
}

test('maglev: tableSize must be prime (and >= n, <= 5000011)', () => {
  const eps = makeEndpoints([1, 1]);
  for (const bad of [65_536, 1, 0, -7, 4.5, 100_000, Number.NaN]) {
    assert.throws(() => maglev(eps, makeOptions(1, { tableSize: bad })), /tableSize must be a prime/, String(bad));
  }
  assert.throws(() => maglev(eps, makeOptions(1, { tableSize: 5_000_111 })), /at most/);
  assert.throws(() => maglev(makeEndpoints([1, 1, 1, 1]), makeOptions(1, { tableSize: 3 })), /smaller than the number of endpoints/);
  assert.throws(() => maglev([], makeOptions(1, { tableSize: 10 })), /prime/);
  assert.doesNotThrow(() => maglev(eps, makeOptions(1, { tableSize: 251 })));
  assert.ok(isPrime(65_537) && isPrime(2) && !isPrime(65_535) && !isPrime(9));
});

test('maglev: N=10, 100k keys: each endpoint within ±5% of an even 10k', () => {
  const eps = makeEndpoints(new Array<number>(10).fill(1));
  const b = maglev(eps, makeOptions(1));
  const entries = (b as unknown as { entryCounts(): number[] }).entryCounts();
  for (const e of entries) assert.ok(e === 6553 || e === 6554, `entries ${e}`); // 65537 / 10
  const counts = new Map<Endpoint, number>();
  for (const ep of mapKeys(b, KEYS)) count(counts, ep);
  for (const ep of eps) {
    const c = counts.get(ep) ?? 0;
    assert.ok(Math.abs(c - 10_000) <= 500, `${ep.key}: ${c} keys`);
  }
});

test('maglev: N=10, removing any one endpoint moves <= 12% of 100k keys', () => {
  const eps = makeEndpoints(new Array<number>(10).fill(1));
  const before = mapKeys(maglev(eps, makeOptions(1)), KEYS);
  for (let r = 0; r < eps.length; r++) {
    const after = mapKeys(maglev(eps.filter((_, i) => i !== r), makeOptions(1)), KEYS);
    let moved = 0;
    for (let k = 0; k < KEYS.length; k++) if (after[k] !== before[k]) moved++;
    assert.ok(moved <= 0.12 * KEYS.length, `removing ${eps[r].key} moved ${moved} keys`);
    // All keys of the removed endpoint must move.
    for (let k = 0; k < KEYS.length; k++) if (before[k] === eps[r]) assert.notEqual(after[k], eps[r]);
  }
});

test('maglev: weights {1,2,3,4}, 100k random keys: shares within 2%', () => {
  const eps = makeEndpoints([1, 2, 3, 4]);
  const b = maglev(eps, makeOptions(1));
  const entries = (b as unknown as { entryCounts(): number[] }).entryCounts();
  entries.forEach((e, i) => assert.ok(Math.abs(e / 65_537 - (i + 1) / 10) < 0.001, `entries[${i}] = ${e}`));
  const counts = new Map<Endpoint, number>();
  for (const ep of mapKeys(b, KEYS)) count(counts, ep);
  assertWeightShares(eps, counts, 0.02, 'maglev');
  // Keyless picks follow the table too.
  const random = new Map<Endpoint, number>();
  for (let i = 0; i < 100_000; i++) count(random, b.pick({ attempt: 0 }));
  assertWeightShares(eps, random, 0.02, 'maglev keyless');
});

test('maglev: table independent of list order; attempt perturbs; empty list', () => {
  const eps = makeEndpoints([1, 2, 1, 3]);
  const keys = KEYS.slice(0, 5000);
  const a = maglev(eps, makeOptions(1, { tableSize: 1009 }));
  const r = maglev(eps.slice().reverse(), makeOptions(1, { tableSize: 1009 }));
  assert.deepEqual(mapKeys(a, keys), mapKeys(r, keys));
  const a1 = mapKeys(a, keys, 1);
  assert.deepEqual(mapKeys(a, keys, 1), a1);
  assert.ok(mapKeys(a, keys).filter((e, i) => e === a1[i]).length < 0.5 * keys.length);
  assert.equal(maglev([], makeOptions(1)).pick({ hashKey: 'k', attempt: 0 }), undefined);
});
