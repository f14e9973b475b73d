import type { Endpoint, LoadObserver } from '../endpoint.js';
import type { Random } from '../../util/random.js';
import type { Balancer, BalancerFactory, BalancerOptions, PickContext } from './types.js';
import { attachObserver, captureWeights, detachObserver, emptyBalancer, pickHash, randomHash, reducedWeights } from './common.js';
import { buildRing, DEFAULT_VIRTUAL_NODES, ringLookup, type HashRing } from './ring-hash.js';

export const DEFAULT_BALANCE_FACTOR = 1.25;

/**
 * Consistent hashing with bounded loads (Mirrokni, Thorup, Zadimoghaddam, "Consistent Hashing
 * with Bounded Loads", SODA 2018 / arXiv 2016), on the same ring as ring-hash.
 *
 * With m requests in flight in total, the request about to be placed (the (m+1)-th ball) may go to
 * endpoint i only if
 *
 *   inFlight_i < ceil(c * (m + 1) * w_i / W)        (W = sum of weights)
 *
 * which for equal weights is the paper's capacity ceil(c * (m + 1) / n). Unequal weights scale
 * each endpoint's capacity by its share of the weight (as Envoy does), so weighted endpoints keep
 * their shares under load instead of all being capped at c times the plain average. Weights are
 * gcd-reduced integers when possible, so equal weights evaluate exactly as c * (m + 1) / n.
 * After the pick and begin(), the chosen endpoint therefore has inFlight <= ceil(c * m' * w_i / W)
 * with m' = m + 1 the new total: no endpoint exceeds c times its fair share, rounded up.
 * The pick starts at the key's ring position (as ring-hash does) and walks clockwise to the first
 * point whose endpoint is under its capacity. One always exists (if every endpoint were at or
 * above capacity the total would exceed m), so with no load the pick equals ring-hash's.
 *
 * State:
 * - `ring`: built by ring-hash's buildRing with the same options, so positions match ring-hash.
 * - `weights` (gcd-reduced) and `totalWeight` for the capacity.
 * - `total`: sum of inFlight over our endpoints, initialised at build (in-flight counts carry
 *   over reloads) and kept current through the observer hook (+1 / -1 per begin / end), so a
 *   pick need not sum n counters. Only correct while we are the endpoints' observer; close()
 *   detaches from the ones still pointing at us.
 * - ctx.attempt > 0 perturbs the key hash (pickHash), as in ring-hash; keyless requests start at a
 *   uniformly random ring position.
 * The walk visits at most every point once (a stale `total`, possible only after a newer balancer
 * took over the observers, falls back to the key's own point).
 */
class BoundedLoad implements Balancer, LoadObserver {
  readonly algorithm = 'bounded-load';
  private readonly endpoints: readonly Endpoint[];
  private readonly ring: HashRing;
  private readonly weights: Float64Array;
  private readonly totalWeight: number;
  private readonly factor: number;
  private readonly random: Random;
  private total = 0;

  constructor(endpoints: readonly Endpoint[], opts: BalancerOptions, factor: number) {
    this.endpoints = endpoints.slice();
    const w = captureWeights(this.algorithm, endpoints);
    this.ring = buildRing(this.algorithm, this.endpoints, w, opts.virtualNodes ?? DEFAULT_VIRTUAL_NODES);
    this.weights = reducedWeights(w);
    let tw = 0;
    for (let i = 0; i < w.length; i++) tw += this.weights[i];
    this.totalWeight = tw;
    this.factor = factor;
    this.random = opts.random;
    for (const ep of this.endpoints) this.total += ep.inFlight;
    attachObserver(this.endpoints, this);
  }

  pick(ctx: PickContext): Endpoint | undefined {
    const h = (ctx.hashKey !== undefined ? pickHash(ctx.hashKey, ctx.attempt) : randomHash(this.random)) >>> 0;
    const { hashes, owners } = this.ring;
    const start = ringLookup(hashes, h);
    const load = this.factor * (this.total + 1);
    const tw = this.totalWeight;
    const len = owners.length;
    let p = start;
    for (let k = 0; k < len; k++) {
      const i = owners[p];
      if (this.endpoints[i].inFlight < Math.ceil((load * this.weights[i]) / tw)) return this.endpoints[i];
      p = p + 1 === len ? 0 : p + 1;
    }
    return this.endpoints[owners[start]];
  }

  onLoadChange(_ep: Endpoint, delta: number): void {
    this.total += delta;
  }

  close(): void {
    detachObserver(this.endpoints, this);
  }
}

/**
 * `bounded-load`: consistent hashing with bounded loads; a key goes to its ring-hash endpoint
 * unless that one has c times its fair share of the requests in flight, then clockwise onwards.
 * Inputs: the usable endpoints (weights captured at build, inFlight read live);
 * `opts.balanceFactor` c (default 1.25, must be >= 1); `opts.virtualNodes` (default 100, as
 * ring-hash); `opts.random` (one draw for a keyless pick); ctx.hashKey / ctx.attempt. Becomes every
 * endpoint's `observer`; call close() when replaced.
 * Throws: Error if balanceFactor is not a finite number >= 1, virtualNodes is not > 0, or a weight
 * is not a finite number > 0. Empty list: picks return undefined.
 * Complexity: build O(P log P) (the ring); pick O(key length + log P + walk), the walk being short
 * unless the load is concentrated (at most P points); begin()/end() O(1) via the observer; no
 * allocation.
 */
export const boundedLoad: BalancerFactory = (endpoints, opts) => {
  const c = opts.balanceFactor ?? DEFAULT_BALANCE_FACTOR;
  if (!Number.isFinite(c) || c < 1) throw new Error(`bounded-load: balanceFactor must be a finite number >= 1, got ${String(c)}`);
  return endpoints.length === 0 ? emptyBalancer('bounded-load') : new BoundedLoad(endpoints, opts, c);
};
