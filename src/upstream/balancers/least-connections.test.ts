import { test } from 'node:test';
import assert from 'node:assert/strict';
import { leastConnections } from './least-connections.js';
import { assertWeightShares, makeEndpoints, makeOptions, pickHeldOpen, pickImmediate } from './testkit.js';
import { seededRandom } from '../../util/random.js';
import type { Endpoint } from '../endpoint.js';

type WithCheck = { checkHeap(): boolean; close(): void };

test('least-connections: picks the least loaded endpoint (per unit of weight)', () => {
  const eps = makeEndpoints([1, 1, 1]);
  const b = leastConnections(eps, makeOptions(1));
  eps[0].begin(); eps[0].begin(); eps[1].begin();
  assert.equal(b.pick({ attempt: 0 }), eps[2]);
  eps[2].begin(); eps[2].begin(); eps[2].begin();
  assert.equal(b.pick({ attempt: 0 }), eps[1]);
  eps[0].end(1, makeOptions(1).clock); eps[0].end(1, makeOptions(1).clock);
  assert.equal(b.pick({ attempt: 0 }), eps[0]);

  // Weighted: (inFlight + 1) / weight. Weight 4 with 2 in flight (0.75) beats weight 1 idle (1).
  const w = makeEndpoints([1, 4]);
  const wb = leastConnections(w, makeOptions(2));
  w[1].begin(); w[1].begin();
  assert.equal(wb.pick({ attempt: 0 }), w[1]);
  w[1].begin(); w[1].begin(); // (4+1)/4 = 1.25 > 1
  assert.equal(wb.pick({ attempt: 0 }), w[0]);
});

test('least-connections: ties rotate (every endpoint once per n picks when idle)', () => {
  const eps = makeEndpoints([2, 2, 2, 2, 2]);
  const b = leastConnections(eps, makeOptions(9));
  const first = new Set<Endpoint>();
  for (let i = 0; i < 5; i++) first.add(b.pick({ attempt: 0 })!);
  assert.equal(first.size, 5);
  const order: Endpoint[] = [];
  for (let i = 0; i < 10; i++) order.push(b.pick({ attempt: 0 })!);
  for (let i = 5; i < 10; i++) assert.equal(order[i], order[i - 5]);
});

test('least-connections: heap stays correct over 50k random begin/end/pick ops (vs brute force)', () => {
  const rnd = seededRandom(77);
  const weights = Array.from({ length: 37 }, () => 1 + Math.floor(rnd() * 10));
  const eps = makeEndpoints(weights);
  const opts = makeOptions(78);
  const b = leastConnections(eps, opts);
  const key = (e: Endpoint) => (e.inFlight + 1) / e.weight;
  for (let op = 0; op < 50_000; op++) {
    const r = rnd();
    if (r < 0.45) {
      eps[Math.floor(rnd() * eps.length)].begin();
    } else if (r < 0.8) {
      const busy = eps.filter((e) => e.inFlight > 0);
      if (busy.length > 0) busy[Math.floor(rnd() * busy.length)].end(1, opts.clock);
    } else {
      const got = b.pick({ attempt: 0 })!;
      const min = Math.min(...eps.map(key));
      assert.ok(Math.abs(key(got) - min) < 1e-12, `op ${op}: picked key ${key(got)}, brute-force min ${min}`);
      if (rnd() < 0.5) got.begin();
    }
    if (op % 97 === 0) assert.ok((b as unknown as WithCheck).checkHeap(), `heap invariant broken at op ${op}`);
  }
  assert.ok((b as unknown as WithCheck).checkHeap());
});

test('least-connections: under held-open load (200 open, random release) shares follow weights within 2%', () => {
  // With K requests held open and a uniformly random one released per pick, least-connections
  // keeps inFlight_i + 1 ~ weight_i * const, releases hit endpoint i in proportion to inFlight_i,
  // and picks replace releases, so pick shares track weights (off by ~(w_i - avg)/K).
  const eps = makeEndpoints([1, 2, 3, 4]);
  const opts = makeOptions(5);
  const b = leastConnections(eps, opts);
  const counts = pickHeldOpen(b, 100_000, 200, 6, opts.clock);
  assertWeightShares(eps, counts, 0.02, 'least-connections held-open');
  for (const e of eps) assert.equal(e.inFlight, 0);
});

test('least-connections: with immediate completion (always idle) the highest weight takes every pick', () => {
  // Documented consequence of the (inFlight + 1) / weight order: weights shape traffic only
  // under concurrency; idle, 1/4 < 1/3 < ... so the weight-4 endpoint wins every time.
  const eps = makeEndpoints([1, 2, 3, 4]);
  const opts = makeOptions(8);
  const counts = pickImmediate(leastConnections(eps, opts), 1000, opts.clock);
  assert.equal(counts.get(eps[3]), 1000);
});

test('least-connections: is the observer; close() detaches only its own endpoints', () => {
  const eps = makeEndpoints([1, 1, 1]);
  const a = leastConnections(eps, makeOptions(1));
  for (const e of eps) assert.equal(e.observer, a);
  const b = leastConnections(eps.slice(0, 2), makeOptions(2)); // newer snapshot took over two
  a.close!();
  assert.equal(eps[0].observer, b);
  assert.equal(eps[1].observer, b);
  assert.equal(eps[2].observer, null);
  b.close!();
  assert.equal(eps[0].observer, null);
  assert.equal(leastConnections([], makeOptions(1)).pick({ attempt: 0 }), undefined);
});
