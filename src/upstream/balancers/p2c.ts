import type { Endpoint } from '../endpoint.js';
import type { Random } from '../../util/random.js';
import type { Balancer, BalancerFactory, BalancerOptions, PickContext } from './types.js';
import { captureWeights, emptyBalancer } from './common.js';
import { AliasTable } from './random.js';

/**
 * Power of two choices ("least request" in Envoy): draw two distinct endpoints, keep the one
 * with the lower cost. Subclasses define the cost (p2c: load, ewma: latency x load).
 *
 * Candidate draw (three random() calls per pick):
 * - candidate A is drawn in proportion to weight (AliasTable), candidate B uniformly among the
 *   other n - 1 endpoints; on equal cost A wins.
 * Why A is weighted: with plain uniform candidates and cost inFlight / weight, idle endpoints all
 *   cost 0 and weights would be ignored at low load; with cost (inFlight + 1) / weight (Envoy's
 *   choice) the heavier of two idle candidates always wins, which over-serves heavy endpoints
 *   (weights {1,4} would give 0/100%). Weighting A makes idle/low-load traffic follow the weights
 *   exactly, while under load the cost comparison takes over. With equal weights this is exactly
 *   classic uniform P2C.
 *
 * State: a private copy of the endpoints, their build-time weights (`weights`), the alias table
 * and the random source. Endpoint load is read live; no observer is needed.
 */
export abstract class TwoChoices implements Balancer {
  abstract readonly algorithm: string;
  protected readonly endpoints: readonly Endpoint[];
  protected readonly weights: Float64Array;
  private readonly first: AliasTable;
  private readonly random: Random;

  constructor(algorithm: string, endpoints: readonly Endpoint[], opts: BalancerOptions) {
    this.endpoints = endpoints.slice();
    this.weights = captureWeights(algorithm, endpoints);
    this.first = new AliasTable(this.weights);
    this.random = opts.random;
  }

  /** The cost of endpoint i now; lower is better. Must not allocate. */
  protected abstract cost(i: number): number;

  pick(_ctx: PickContext): Endpoint | undefined {
    const n = this.endpoints.length;
    const a = this.first.sample(this.random);
    if (n === 1) return this.endpoints[a];
    let b = Math.floor(this.random() * (n - 1));
    if (b >= n - 1) b = n - 2;
    if (b >= a) b++;
    return this.cost(b) < this.cost(a) ? this.endpoints[b] : this.endpoints[a];
  }
}

/** P2C on in-flight requests per unit of weight. */
class PowerOfTwo extends TwoChoices {
  readonly algorithm = 'p2c';

  constructor(endpoints: readonly Endpoint[], opts: BalancerOptions) {
    super('p2c', endpoints, opts);
  }

  protected cost(i: number): number {
    // Division is exact enough: equal ratios of small integers give identical doubles.
    return this.endpoints[i].inFlight / this.weights[i];
  }
}

/**
 * `p2c`: least-request with power of two choices; of two distinct random endpoints (the first
 * weight-proportional, the second uniform among the rest) the one with lower inFlight / weight
 * wins, the first on ties.
 * Inputs: the usable endpoints (weights captured at build, inFlight read live); `opts.random`
 * (three draws per pick; two when there is a single endpoint).
 * Throws: Error if a weight is not a finite number > 0. Empty list: picks return undefined.
 * Complexity: build O(n), pick O(1), no allocation, no observer.
 */
export const p2c: BalancerFactory = (endpoints, opts) =>
  endpoints.length === 0 ? emptyBalancer('p2c') : new PowerOfTwo(endpoints, opts);
