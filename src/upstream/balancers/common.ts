import type { Endpoint, LoadObserver } from '../endpoint.js';
import type { Balancer } from './types.js';
import { hash32i, mix32 } from '../../util/hash.js';

/**
 * Helpers shared by the balancers. Conventions every balancer in this directory follows:
 *
 * - The endpoint list a factory receives is the set of usable endpoints at build time (the caller
 *   filters on `available` and rebuilds on change); balancers do not re-check `available`.
 * - Weights are captured at build time (`captureWeights`): `Endpoint.weight` is mutable and is
 *   rewritten on reload, so a balancer's tables must not depend on the live field.
 * - `pick` never allocates and ignores `ctx.tried`; hash-based balancers use `ctx.attempt` to
 *   perturb the hash (`pickHash`) so that a retry tends to land on a different endpoint.
 *   (Calling the injected `opts.random` may itself allocate: a Random that computes a fresh
 *   double returns it as a boxed heap number unless V8 inlines the call. alloc.test.ts checks
 *   the balancers' own code with a constant random source.)
 */

/**
 * Copies and validates the endpoints' weights. Throws if a weight is not a finite number > 0
 * (config allows integers 1..10000; anything else is a programming error upstream).
 */
export function captureWeights(algorithm: string, endpoints: readonly Endpoint[]): Float64Array {
  const w = new Float64Array(endpoints.length);
  for (let i = 0; i < endpoints.length; i++) {
    const x = endpoints[i].weight;
    if (typeof x !== 'number' || !Number.isFinite(x) || x <= 0) {
      throw new Error(`${algorithm}: endpoint ${endpoints[i].key} has invalid weight ${String(x)} (must be a finite number > 0)`);
    }
    w[i] = x;
  }
  return w;
}

/** Greatest common divisor of positive integers. */
export function gcd(a: number, b: number): number {
  while (b !== 0) {
    const t = a % b;
    a = b;
    b = t;
  }
  return a;
}

/** True if every weight is an integer (so exact integer arithmetic such as gcd reduction applies). */
export function allIntegers(w: Float64Array): boolean {
  for (let i = 0; i < w.length; i++) if (!Number.isInteger(w[i])) return false;
  return true;
}

/**
 * Weights divided by their gcd when all are integers (so {3,3,3} becomes {1,1,1}); otherwise a copy.
 * Used where the exact ratio matters (smooth WRR period, bounded-load's per-endpoint bound).
 */
export function reducedWeights(w: Float64Array): Float64Array {
  const out = Float64Array.from(w);
  if (w.length === 0 || !allIntegers(w)) return out;
  let g = w[0];
  for (let i = 1; i < w.length; i++) g = gcd(g, w[i]);
  for (let i = 0; i < w.length; i++) out[i] = w[i] / g;
  return out;
}

/**
 * Endpoint indices sorted by key (list order for equal keys). Hash-based tables use it so their
 * contents do not depend on the order of the endpoint list. Build time only; allocates.
 */
export function keyOrder(endpoints: readonly Endpoint[]): number[] {
  return Array.from({ length: endpoints.length }, (_, i) => i).sort((a, b) => {
    const ka = endpoints[a].key;
    const kb = endpoints[b].key;
    return ka < kb ? -1 : ka > kb ? 1 : a - b;
  });
}

/** A balancer over no endpoints: every pick is undefined. */
export function emptyBalancer(algorithm: string): Balancer {
  return { algorithm, pick: () => undefined };
}

const GOLDEN = 0x9e3779b9;

/**
 * The 32-bit hash a hash-based balancer looks up for `key` on attempt `attempt`, as a signed
 * int32 (take `>>> 0` in a local for the unsigned ring position; int32 results never allocate
 * when returned, see murmur3i). Attempt 0 is plain hash32(key), so first picks are stable and
 * shared across balancers; attempt k > 0 remixes it with k (`mix32(h ^ k * golden)`), a
 * deterministic different position for each retry of the same key. No allocation.
 */
export function pickHash(key: string, attempt: number): number {
  const h = hash32i(key);
  return attempt > 0 ? mix32(h ^ Math.imul(attempt, GOLDEN)) | 0 : h;
}

/** A uniform 32-bit position from `random`, as a signed int32 like pickHash (keyless requests). */
export function randomHash(random: () => number): number {
  return Math.floor(random() * 4294967296) | 0;
}

/** Makes `observer` the load observer of every endpoint (Endpoint allows one; the newest wins). */
export function attachObserver(endpoints: readonly Endpoint[], observer: LoadObserver): void {
  for (const ep of endpoints) ep.observer = observer;
}

/** Detaches `observer` from the endpoints it still owns (a newer balancer may have taken some over). */
export function detachObserver(endpoints: readonly Endpoint[], observer: LoadObserver): void {
  for (const ep of endpoints) if (ep.observer === observer) ep.observer = null;
}
