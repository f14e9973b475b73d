import type { Endpoint } from '../endpoint.js';
import type { Random } from '../../util/random.js';
import type { Balancer, BalancerFactory, BalancerOptions, PickContext } from './types.js';
import { hash32 } from '../../util/hash.js';
import { captureWeights, emptyBalancer, keyOrder, pickHash, randomHash } from './common.js';

export const DEFAULT_VIRTUAL_NODES = 100;
/** The ring has at least this many points (small pools get an integer multiple of their points). */
export const MIN_RING_POINTS = 1024;
/** Upper bound on ring points (Envoy's is 8M); beyond it points are scaled down proportionally. */
export const MAX_RING_POINTS = 1 << 22;
const RANK_SPACE = 2 ** 21; // endpoints per ring; hash (32 bits) * 2^21 + rank stays below 2^53

/**
 * A consistent-hash ring (ketama style). Immutable.
 *
 * - `hashes`: the points' 32-bit positions, ascending. Point j of endpoint e sits at
 *   hash32(`${e.key}-${j}`), so an endpoint's points depend only on its key and its point count,
 *   never on the other endpoints: removing an endpoint moves only the keys it owned.
 * - `owners[p]`: index (into the endpoint list the ring was built from) owning point p.
 * - Points per endpoint: base = max(1, round(virtualNodes * weight)). If the total is below
 *   MIN_RING_POINTS every base is multiplied by the same integer ceil(MIN / total) (an integer
 *   multiple rather than a continuous scale, so that adding or removing one endpoint of a small
 *   pool usually leaves the others' point counts, and thus their points, unchanged). If the total
 *   exceeds MAX_RING_POINTS counts are scaled down proportionally (at least 1 each).
 * - Two points at the same position are ordered by the owners' keys (not list order), so the
 *   ring does not depend on the order of the endpoint list.
 * A key maps to the first point at or after hash(key), wrapping to point 0.
 */
export interface HashRing {
  readonly hashes: Uint32Array;
  readonly owners: Uint32Array;
}

/**
 * Builds the ring for `endpoints` with build-time `weights`. `algorithm` prefixes errors.
 * Throws: Error if virtualNodes is not a finite number > 0, or there are over 2^21 endpoints.
 * O(P log P) for P ring points; allocates the key strings and a sort buffer (build time only).
 */
export function buildRing(algorithm: string, endpoints: readonly Endpoint[], weights: Float64Array, virtualNodes: number): HashRing {
  if (!Number.isFinite(virtualNodes) || virtualNodes <= 0) {
    throw new Error(`${algorithm}: virtualNodes must be a finite number > 0, got ${String(virtualNodes)}`);
  }
  const n = endpoints.length;
  if (n > RANK_SPACE) throw new Error(`${algorithm}: at most ${RANK_SPACE} endpoints supported, got ${n}`);
  const counts = new Float64Array(n);
  let total = 0;
  for (let i = 0; i < n; i++) {
    counts[i] = Math.max(1, Math.round(virtualNodes * weights[i]));
    total += counts[i];
  }
  if (total < MIN_RING_POINTS) {
    const mult = Math.ceil(MIN_RING_POINTS / total);
    for (let i = 0; i < n; i++) counts[i] *= mult;
    total *= mult;
  } else if (total > MAX_RING_POINTS) {
    const scale = MAX_RING_POINTS / total;
    total = 0;
    for (let i = 0; i < n; i++) {
      counts[i] = Math.max(1, Math.floor(counts[i] * scale));
      total += counts[i];
    }
  }
  // rankOf[i]: position of endpoint i in key order, the tie-break for equal point hashes.
  const byKey = keyOrder(endpoints);
  const rankOf = new Uint32Array(n);
  for (let r = 0; r < n; r++) rankOf[byKey[r]] = r;
  const packed = new Float64Array(total);
  let p = 0;
  for (let i = 0; i < n; i++) {
    const key = endpoints[i].key;
    for (let j = 0; j < counts[i]; j++) packed[p++] = hash32(`${key}-${j}`) * RANK_SPACE + rankOf[i];
  }
  packed.sort();
  const hashes = new Uint32Array(total);
  const owners = new Uint32Array(total);
  for (let q = 0; q < total; q++) {
    const v = packed[q];
    const h = Math.floor(v / RANK_SPACE);
    hashes[q] = h;
    owners[q] = byKey[v - h * RANK_SPACE];
  }
  return { hashes, owners };
}

/** Index of the first point at or after `h` (an unsigned 32-bit value), wrapping to 0. O(log P). */
export function ringLookup(hashes: Uint32Array, h: number): number {
  let lo = 0;
  let hi = hashes.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (hashes[mid] < h) lo = mid + 1;
    else hi = mid;
  }
  return lo === hashes.length ? 0 : lo;
}

/**
 * Consistent hashing on a HashRing. The looked-up position is pickHash(ctx.hashKey, ctx.attempt)
 * (attempt 0: the key's own hash; retries: a remixed hash, so a retry of the same key goes to a
 * stable but usually different endpoint), or a uniform random position when the request has no
 * key (which spreads keyless requests in proportion to ring share, i.e. weight).
 * State: private endpoint copy, the immutable ring, the random source.
 */
class RingHash implements Balancer {
  readonly algorithm = 'ring-hash';
  private readonly endpoints: readonly Endpoint[];
  private readonly ring: HashRing;
  private readonly random: Random;

  constructor(endpoints: readonly Endpoint[], opts: BalancerOptions) {
    this.endpoints = endpoints.slice();
    const weights = captureWeights(this.algorithm, endpoints);
    this.ring = buildRing(this.algorithm, this.endpoints, weights, opts.virtualNodes ?? DEFAULT_VIRTUAL_NODES);
    this.random = opts.random;
  }

  pick(ctx: PickContext): Endpoint | undefined {
    const h = (ctx.hashKey !== undefined ? pickHash(ctx.hashKey, ctx.attempt) : randomHash(this.random)) >>> 0;
    return this.endpoints[this.ring.owners[ringLookup(this.ring.hashes, h)]];
  }
}

/**
 * `ring-hash`: ketama-style consistent hashing with round(virtualNodes * weight) points per
 * endpoint (see HashRing for the exact point counts and positions).
 * Inputs: the usable endpoints (weights captured at build); `opts.virtualNodes` (default 100);
 * `opts.random` (one draw for a keyless pick); ctx.hashKey / ctx.attempt.
 * Throws: Error if virtualNodes is not a finite number > 0, a weight is not a finite number > 0,
 * or there are more than 2^21 endpoints. Empty list: picks return undefined.
 * Complexity: build O(P log P) with P = ring points (>= 1024, <= ~4M); memory 8 bytes per point;
 * pick O(key length + log P), no allocation.
 */
export const ringHash: BalancerFactory = (endpoints, opts) =>
  endpoints.length === 0 ? emptyBalancer('ring-hash') : new RingHash(endpoints, opts);
