import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fewestGcs } from '../../util/gc-check.js';
import { ALGORITHMS, createBalancer } from './index.js';
import { makeEndpoints, makeOptions, randomKeys } from './testkit.js';
import type { PickContext } from './types.js';

/**
 * Allocation check (heuristic, V8-specific): after warm-up (so the pick path is optimised),
 * a round of 1M pick + begin + end must trigger no garbage collection at all. Any per-pick
 * allocation of even 16 bytes would fill the young generation several times over (16 MB) and
 * force scavenges. Several rounds are allowed so that a slow background compile cannot make the
 * test flaky: it passes if one round is GC-free.
 *
 * The random source used here returns a constant: calling an injected `Random` that computes a
 * fresh double (seededRandom, Math.random) allocates a heap number for the returned value unless
 * V8 inlines the call, which is the caller's Random, not the balancer's code.
 */
test('pick / begin / end allocate nothing once optimised (all algorithms)', async () => {
  const keys = randomKeys(64, 3);
  for (const name of ALGORITHMS) {
    const eps = makeEndpoints(Array.from({ length: 50 }, (_, i) => 1 + (i % 7)));
    const opts = { ...makeOptions(1), random: () => 0.371 };
    const b = createBalancer(name, eps, opts);
    const ctx: PickContext = { attempt: 0, hashKey: undefined };
    const round = (n: number) => {
      for (let i = 0; i < n; i++) {
        ctx.hashKey = (i & 3) === 3 ? undefined : keys[i & 63];
        ctx.attempt = i & 1;
        const ep = b.pick(ctx)!;
        ep.begin();
        ep.end(5, opts.clock);
      }
    };
    const best = await fewestGcs(round);
    b.close?.();
    assert.equal(best, 0, `${name}: every round of 1M picks triggered GC (${best} at best)`);
  }
});
