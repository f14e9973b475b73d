import { test } from 'node:test';
import assert from 'node:assert/strict';
import { boundedLoad } from './bounded-load.js';
import { ringHash } from './ring-hash.js';
import { makeEndpoints, makeOptions, randomKeys } from './testkit.js';
import { seededRandom } from '../../util/random.js';
import type { Endpoint } from '../endpoint.js';
import type { Balancer } from './types.js';

const C = 1.25;

/**
 * Skewed held-open workload: 60k picks, half of them for one hot key, the rest for random keys;
 * no request ends until 40% of picks have happened, then each pick is followed by ending a random
 * open request with probability 0.9 (so the total keeps growing slowly). Calls `check` after each
 * pick+begin with the chosen endpoint and the new total in flight.
 */
function skewedLoad(b: Balancer, eps: Endpoint[], seed: number, check: (ep: Endpoint, total: number) => void): number {
  const rnd = seededRandom(seed);
  const keys = randomKeys(1000, seed + 1);
  const clock = makeOptions(0).clock;
  const open: Endpoint[] = [];
  let worst = 0;
  for (let i = 0; i < 60_000; i++) {
    const key = rnd() < 0.5 ? 'hot-key' : keys[Math.floor(rnd() * keys.length)];
    const ep = b.pick({ hashKey: key, attempt: 0 })!;
    ep.begin();
    open.push(ep);
    check(ep, open.length);
    worst = Math.max(worst, ep.inFlight / (open.length / eps.length));
    if (i > 24_000 && rnd() < 0.9) {
      const k = Math.floor(rnd() * open.length);
      open[k].end(1, clock);
      open[k] = open[open.length - 1];
      open.pop();
    }
  }
  for (const ep of open) ep.end(1, clock);
  return worst;
}

test('bounded-load: with no load, picks exactly what ring-hash picks', () => {
  const eps = makeEndpoints([1, 2, 1, 3, 1, 1, 2, 1]);
  const rh = ringHash(eps, makeOptions(1));
  const bl = boundedLoad(eps, makeOptions(1));
  for (const k of randomKeys(20_000, 5)) assert.equal(bl.pick({ hashKey: k, attempt: 0 }), rh.pick({ hashKey: k, attempt: 0 }), k);
  bl.close!();
});

test('bounded-load: skewed keys held open: after every pick, chosen inFlight <= ceil(c * total / n)', () => {
  // The bound checked: with m requests in flight before the pick, the chosen endpoint had
  // inFlight < ceil(c * (m + 1) / n) (the paper's capacity for the (m+1)-th ball), so after
  // begin() its inFlight <= ceil(c * total / n) where total = m + 1 is the new total in flight.
  const eps = makeEndpoints(new Array<number>(10).fill(1));
  const b = boundedLoad(eps, makeOptions(1, { balanceFactor: C }));
  let sawBound = 0;
  skewedLoad(b, eps, 11, (ep, total) => {
    const bound = Math.ceil((C * total) / eps.length);
    assert.ok(ep.inFlight <= bound, `${ep.key}: inFlight ${ep.inFlight} > ceil(${C} * ${total} / 10) = ${bound}`);
    if (ep.inFlight === bound) sawBound++;
  });
  assert.ok(sawBound > 1000, `the bound should be reached often under this skew (${sawBound})`);
  // Control: plain ring-hash under the same workload blows far past the bound.
  const worstRing = skewedLoad(ringHash(eps, makeOptions(1)), eps, 11, () => {});
  assert.ok(worstRing > 3, `ring-hash worst load / average = ${worstRing}`);
  b.close!();
});

test('bounded-load: unequal weights scale the capacity: inFlight_i <= ceil(c * total * w_i / W)', () => {
  const weights = [1, 2, 3, 4, 1, 2, 3, 4];
  const W = weights.reduce((a, b) => a + b, 0);
  const eps = makeEndpoints(weights);
  const b = boundedLoad(eps, makeOptions(2, { balanceFactor: C }));
  skewedLoad(b, eps, 12, (ep, total) => {
    const bound = Math.ceil((C * total * ep.weight) / W);
    assert.ok(ep.inFlight <= bound, `${ep.key}: inFlight ${ep.inFlight} > ${bound}`);
  });
  b.close!();
});

test('bounded-load: tracks total in flight via the observer, counting load carried over', () => {
  const eps = makeEndpoints([1, 1]);
  eps[0].begin(); eps[0].begin(); eps[0].begin(); // carried over from an older snapshot
  const b = boundedLoad(eps, makeOptions(3, { balanceFactor: 1 }));
  assert.equal(eps[0].observer, b);
  // total 3 -> capacity ceil(1 * 4 / 2) = 2: endpoint 0 (3 in flight) is refused for every key.
  for (const k of randomKeys(200, 4)) assert.equal(b.pick({ hashKey: k, attempt: 0 }), eps[1]);
  b.close!();
  assert.equal(eps[0].observer, null);
});

test('bounded-load: invalid balance factor throws; empty list', () => {
  assert.throws(() => boundedLoad(makeEndpoints([1]), makeOptions(1, { balanceFactor: 0.9 })), /balanceFactor/);
  assert.throws(() => boundedLoad(makeEndpoints([1]), makeOptions(1, { balanceFactor: Number.NaN })), /balanceFactor/);
  assert.equal(boundedLoad([], makeOptions(1)).pick({ hashKey: 'k', attempt: 0 }), undefined);
});
