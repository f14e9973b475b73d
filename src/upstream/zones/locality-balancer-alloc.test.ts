import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createBalancer } from '../balancers/index.js';
import { makeEndpoints, makeOptions, randomKeys } from '../balancers/testkit.js';
import type { PickContext } from '../balancers/types.js';
import { fewestGcs } from '../../util/gc-check.js';
import { LocalityBalancer } from './locality-balancer.js';
import { planLocality } from './locality.js';

/*
 * In a file of its own (a process of its own under node --test), like balancers/alloc.test.ts:
 * after the other locality tests had run (other endpoint shapes through the same code) the loop
 * allocated, and the check passed only while the young generation happened to be large enough to
 * hide it (a smaller startup heap, with etcd3/ioredis no longer loaded, made it fail every time).
 */

test('locality balancer: choosing the subset allocates nothing once optimised (3 zones, spill)', async () => {
  const keys = randomKeys(64, 5);
  const eps = makeEndpoints(Array.from({ length: 10 }, () => 1));
  const members = eps.map((_, i) => ({ zone: i < 2 ? 'a' : i < 5 ? 'b' : 'c', priority: 0, weight: 1, usable: true, draining: false }));
  const plan = planLocality(members, { localZone: 'a', nodesPerZone: { a: 2, b: 1, c: 1 }, zoneAware: true, minClusterSize: 6, overprovisioningFactor: 1.4, panicThreshold: 0 });
  for (const name of ['round-robin', 'ring-hash']) {
    const opts = { ...makeOptions(1), random: () => 0.371 };
    // A constant random (a Random computing fresh doubles allocates by itself, see balancers/alloc.test.ts); keys vary the subset.
    const b = new LocalityBalancer(name, plan, eps, (subset) => createBalancer(name, subset, opts), opts.random);
    const ctx: PickContext = { attempt: 0, hashKey: undefined };
    const best = await fewestGcs((n) => {
      for (let i = 0; i < n; i++) {
        ctx.hashKey = (i & 1) === 1 ? undefined : keys[i & 63];
        const ep = b.pick(ctx)!;
        ep.begin();
        ep.end(5, opts.clock);
      }
    });
    assert.equal(best, 0, `${name}: every round of 1M picks triggered GC (${best} at best)`);
  }
});
