import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildRing, MIN_RING_POINTS, ringHash, ringLookup } from './ring-hash.js';
import { assertWeightShares, count, makeEndpoints, makeOptions, randomKeys } from './testkit.js';
import type { Endpoint } from '../endpoint.js';
import type { Balancer } from './types.js';

const KEYS = randomKeys(100_000, 99);

function mapKeys(b: Balancer, keys: readonly string[], attempt = 0): Endpoint[] {
  return keys.map((k) => b.pick({ hashKey: k, attempt })!);
}

test('ring-hash: weights {1,2,3,4}, 100k random keys: shares within 2% (virtualNodes 1000)', () => {
  // At the default of 100 points per unit of weight an endpoint's ring share has a standard
  // deviation of about sqrt(points)/P (~1-2% here), so 2% is asserted with 1000 virtual nodes.
  const eps = makeEndpoints([1, 2, 3, 4]);
  const b = ringHash(eps, makeOptions(1, { virtualNodes: 1000 }));
  const counts = new Map<Endpoint, number>();
  for (const ep of mapKeys(b, KEYS)) count(counts, ep);
  assertWeightShares(eps, counts, 0.02, 'ring-hash');
});

test('ring-hash: N=10, removing any one endpoint moves <= 12% of 100k keys, and only its keys', () => {
  const eps = makeEndpoints(new Array<number>(10).fill(1));
  const before = mapKeys(ringHash(eps, makeOptions(1)), KEYS);
  for (let r = 0; r < eps.length; r++) {
    const after = mapKeys(ringHash(eps.filter((_, i) => i !== r), makeOptions(1)), KEYS);
    let moved = 0;
    for (let k = 0; k < KEYS.length; k++) {
      if (after[k] === before[k]) continue;
      moved++;
      assert.equal(before[k], eps[r], `key ${k} moved off ${before[k].key}, which was not removed`);
    }
    assert.ok(moved <= 0.12 * KEYS.length, `removing ${eps[r].key} moved ${moved} keys`);
    assert.ok(moved > 0);
  }
});

test('ring-hash: ring has >= 1024 sorted points, round(vn * weight) each (integer multiple when small)', () => {
  const eps = makeEndpoints([1, 2, 3]);
  const ring = buildRing('ring-hash', eps, Float64Array.from([1, 2, 3]), 100);
  assert.equal(ring.hashes.length, 1200);
  for (let i = 1; i < ring.hashes.length; i++) assert.ok(ring.hashes[i - 1] <= ring.hashes[i]);
  const per = [0, 0, 0];
  for (const o of ring.owners) per[o]++;
  assert.deepEqual(per, [200, 400, 600]); // 600 < 1024 points, so x2
  const big = buildRing('ring-hash', eps, Float64Array.from([1, 2, 3]), 1000);
  assert.equal(big.hashes.length, 6000);
  assert.ok(buildRing('ring-hash', makeEndpoints([1]), Float64Array.from([1]), 1).hashes.length >= MIN_RING_POINTS);
  assert.equal(ringLookup(ring.hashes, 0xffffffff + 1), 0); // wraps
  assert.equal(ringLookup(ring.hashes, 0), 0);
});

test('ring-hash: mapping is stable and independent of endpoint list order', () => {
  const eps = makeEndpoints([1, 2, 1, 3, 1]);
  const a = mapKeys(ringHash(eps, makeOptions(1)), KEYS.slice(0, 5000));
  const b = mapKeys(ringHash(eps.slice().reverse(), makeOptions(2)), KEYS.slice(0, 5000));
  assert.deepEqual(a, b);
});

test('ring-hash: attempt > 0 perturbs the hash deterministically; no key uses opts.random', () => {
  const eps = makeEndpoints(new Array<number>(10).fill(1));
  const b = ringHash(eps, makeOptions(1));
  const keys = KEYS.slice(0, 10_000);
  const a0 = mapKeys(b, keys, 0);
  const a1 = mapKeys(b, keys, 1);
  assert.deepEqual(mapKeys(b, keys, 1), a1);
  const same = a0.filter((e, i) => e === a1[i]).length;
  assert.ok(same < 0.15 * keys.length, `${same} keys kept their endpoint on retry`);
  const counts = new Map<Endpoint, number>();
  for (let i = 0; i < 20_000; i++) count(counts, b.pick({ attempt: 0 }));
  assert.equal(counts.size, 10);
});

test('ring-hash: invalid options and empty list', () => {
  assert.throws(() => ringHash(makeEndpoints([1]), makeOptions(1, { virtualNodes: 0 })), /virtualNodes/);
  assert.throws(() => ringHash(makeEndpoints([0]), makeOptions(1)), /invalid weight/);
  assert.equal(ringHash([], makeOptions(1)).pick({ hashKey: 'a', attempt: 0 }), undefined);
});
