import type { Endpoint } from '../endpoint.js';
import type { Random } from '../../util/random.js';
import type { Balancer, BalancerFactory, BalancerOptions, PickContext } from './types.js';
import { captureWeights, emptyBalancer } from './common.js';

/**
 * Walker/Vose alias table: O(1) sampling of index i with probability w[i] / sum(w).
 *
 * State: the n "columns" each hold probability mass 1/n split between the column's own index
 * (fraction `prob[i]`) and one other index (`alias[i]`). Sampling draws a column uniformly and
 * then a uniform u: u < prob[i] ? i : alias[i]. Built with Vose's numerically stable method
 * (separate small/large worklists; leftovers get prob 1 to absorb floating-point residue).
 * Immutable after construction. Also used by p2c/ewma to draw their first candidate.
 */
export class AliasTable {
  readonly size: number;
  private readonly prob: Float64Array;
  private readonly alias: Uint32Array;

  /** `weights` must be non-empty, finite and > 0 (see captureWeights). O(n). */
  constructor(weights: Float64Array) {
    const n = weights.length;
    this.size = n;
    this.prob = new Float64Array(n);
    this.alias = new Uint32Array(n);
    let sum = 0;
    for (let i = 0; i < n; i++) sum += weights[i];
    const scaled = new Float64Array(n);
    const small = new Uint32Array(n);
    const large = new Uint32Array(n);
    let ns = 0;
    let nl = 0;
    for (let i = 0; i < n; i++) {
      scaled[i] = (weights[i] * n) / sum;
      if (scaled[i] < 1) small[ns++] = i;
      else large[nl++] = i;
    }
    while (ns > 0 && nl > 0) {
      const l = small[--ns];
      const g = large[--nl];
      this.prob[l] = scaled[l];
      this.alias[l] = g;
      scaled[g] = scaled[g] + scaled[l] - 1;
      if (scaled[g] < 1) small[ns++] = g;
      else large[nl++] = g;
    }
    while (nl > 0) {
      const g = large[--nl];
      this.prob[g] = 1;
      this.alias[g] = g;
    }
    while (ns > 0) {
      const l = small[--ns];
      this.prob[l] = 1;
      this.alias[l] = l;
    }
  }

  /** An index drawn with probability proportional to its weight; two calls to `random`. O(1). */
  sample(random: Random): number {
    const n = this.size;
    let i = Math.floor(random() * n);
    if (i >= n) i = n - 1; // random() is < 1, but be safe against a sloppy source
    return random() < this.prob[i] ? i : this.alias[i];
  }
}

/**
 * Weighted random choice. State: a private copy of the endpoints, an immutable AliasTable over
 * their build-time weights, and the injected random source. Picks are independent.
 */
class WeightedRandom implements Balancer {
  readonly algorithm = 'random';
  private readonly endpoints: readonly Endpoint[];
  private readonly table: AliasTable;
  private readonly random: Random;

  constructor(endpoints: readonly Endpoint[], opts: BalancerOptions) {
    this.endpoints = endpoints.slice();
    this.table = new AliasTable(captureWeights(this.algorithm, endpoints));
    this.random = opts.random;
  }

  pick(_ctx: PickContext): Endpoint | undefined {
    return this.endpoints[this.table.sample(this.random)];
  }
}

/**
 * `random`: each pick independently chooses endpoint i with probability weight_i / sum(weights).
 * Inputs: the usable endpoints (weights captured at build); `opts.random` (two draws per pick).
 * Throws: Error if a weight is not a finite number > 0. Empty list: picks return undefined.
 * Complexity: build O(n) (Vose alias table), pick O(1), no allocation.
 */
export const weightedRandom: BalancerFactory = (endpoints, opts) =>
  endpoints.length === 0 ? emptyBalancer('random') : new WeightedRandom(endpoints, opts);
