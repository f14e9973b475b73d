/**
 * Helpers for the balancer unit tests (deterministic: seeded randomness, a manual clock, no
 * sleeps). Not used by production code; named so that `node --test` does not run it as a test.
 */
import assert from 'node:assert/strict';
import { Endpoint } from '../endpoint.js';
import { ManualClock } from '../../util/clock.js';
import { seededRandom, type Random } from '../../util/random.js';
import type { Balancer, BalancerOptions } from './types.js';

/** Endpoints 10.0.0.1:8080, 10.0.0.2:8080, ... with the given weights. */
export function makeEndpoints(weights: readonly number[]): Endpoint[] {
  return weights.map((w, i) => new Endpoint(`10.0.${i >> 8}.${(i & 255) + 1}`, 8080, w));
}

/** Options with a seeded random source and a manual clock (starting at 1000 ms, so that a sample
 * recorded by Endpoint.end() never has ewmaAt === 0). */
export function makeOptions(seed: number, extra: Omit<BalancerOptions, 'random' | 'clock'> = {}): BalancerOptions & { clock: ManualClock } {
  return { ...extra, random: seededRandom(seed), clock: new ManualClock(1000) };
}

/** A random ASCII key of 4..19 characters. */
export function randomKey(rnd: Random): string {
  const len = 4 + Math.floor(rnd() * 16);
  let s = '';
  for (let i = 0; i < len; i++) s += String.fromCharCode(33 + Math.floor(rnd() * 94));
  return s;
}

export function randomKeys(count: number, seed: number): string[] {
  const rnd = seededRandom(seed);
  return Array.from({ length: count }, () => randomKey(rnd));
}

/** Asserts each endpoint's share of `counts` is within `tol` (absolute) of its weight share. */
export function assertWeightShares(eps: readonly Endpoint[], counts: ReadonlyMap<Endpoint, number>, tol: number, label: string): void {
  let total = 0;
  let totalW = 0;
  for (const ep of eps) {
    total += counts.get(ep) ?? 0;
    totalW += ep.weight;
  }
  for (const ep of eps) {
    const share = (counts.get(ep) ?? 0) / total;
    const want = ep.weight / totalW;
    assert.ok(Math.abs(share - want) <= tol, `${label}: ${ep.key} (weight ${ep.weight}) share ${share.toFixed(4)}, want ${want.toFixed(4)} ± ${tol}`);
  }
}

export function count(map: Map<Endpoint, number>, ep: Endpoint | undefined): void {
  assert.ok(ep !== undefined, 'pick returned undefined');
  map.set(ep, (map.get(ep) ?? 0) + 1);
}

/** `picks` picks, each request completed at once (begin + end, so inFlight is back to 0). */
export function pickImmediate(b: Balancer, picks: number, clock: ManualClock): Map<Endpoint, number> {
  const counts = new Map<Endpoint, number>();
  for (let i = 0; i < picks; i++) {
    const ep = b.pick({ attempt: 0 });
    count(counts, ep);
    ep!.begin();
    ep!.end(1, clock);
  }
  return counts;
}

/**
 * Held-open load: every pick begins a request; whenever more than `open` are in flight, one of
 * them chosen uniformly at random (seed `seed`) ends. Returns pick counts per endpoint and ends
 * the remaining requests.
 */
export function pickHeldOpen(b: Balancer, picks: number, open: number, seed: number, clock: ManualClock, onPick?: (ep: Endpoint) => void): Map<Endpoint, number> {
  const rnd = seededRandom(seed);
  const counts = new Map<Endpoint, number>();
  const live: Endpoint[] = [];
  for (let i = 0; i < picks; i++) {
    const ep = b.pick({ attempt: 0 });
    count(counts, ep);
    ep!.begin();
    onPick?.(ep!);
    live.push(ep!);
    if (live.length > open) {
      const k = Math.floor(rnd() * live.length);
      const done = live[k];
      live[k] = live[live.length - 1];
      live.pop();
      done.end(1, clock);
    }
  }
  for (const ep of live) ep.end(1, clock);
  return counts;
}

/**
 * A discrete-event simulation on a ManualClock: requests arrive every `intervalMs`; each is sent
 * to the picked endpoint (begin()) and completes `serviceMs[i]` later (end(serviceMs[i], clock,
 * decayMs) called with the clock at the completion time). Completions due before an arrival are
 * processed first, in time order. Returns pick counts per endpoint index.
 */
export function simulateServiceTimes(
  b: Balancer,
  eps: readonly Endpoint[],
  serviceMs: readonly number[],
  opts: { requests: number; intervalMs: number; clock: ManualClock; decayMs?: number },
): number[] {
  const { clock } = opts;
  const start = clock.now();
  const counts = new Array<number>(eps.length).fill(0);
  const queues: number[][] = eps.map(() => []); // completion times, FIFO (service time is fixed)
  const heads = new Array<number>(eps.length).fill(0);
  const completeUntil = (t: number) => {
    for (;;) {
      let best = -1;
      for (let i = 0; i < eps.length; i++) {
        const q = queues[i];
        if (heads[i] < q.length && q[heads[i]] <= t && (best < 0 || q[heads[i]] < queues[best][heads[best]])) best = i;
      }
      if (best < 0) return;
      clock.advance(queues[best][heads[best]] - clock.now());
      heads[best]++;
      eps[best].end(serviceMs[best], clock, opts.decayMs);
    }
  };
  for (let r = 0; r < opts.requests; r++) {
    const t = start + r * opts.intervalMs;
    completeUntil(t);
    clock.advance(t - clock.now());
    const ep = b.pick({ attempt: 0 });
    assert.ok(ep !== undefined);
    const i = eps.indexOf(ep);
    counts[i]++;
    ep.begin();
    queues[i].push(t + serviceMs[i]);
  }
  completeUntil(Infinity);
  return counts;
}
