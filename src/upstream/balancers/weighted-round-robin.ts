import type { Endpoint } from '../endpoint.js';
import type { Balancer, BalancerFactory, BalancerOptions, PickContext } from './types.js';
import { allIntegers, captureWeights, emptyBalancer, reducedWeights } from './common.js';

/** Longest smooth-WRR period precomputed into a table (entries, 4 bytes each: 4 MiB). */
export const MAX_TABLE_PERIOD = 1 << 20;
/**
 * Build budget for the table: computing it costs n * period steps, so with many endpoints a
 * period under MAX_TABLE_PERIOD can still be too slow to precompute (1000 endpoints x 1M = 1e9).
 * Above this budget the live algorithm is used instead (O(n) per pick, identical sequence).
 */
export const MAX_TABLE_BUILD_STEPS = 1 << 26;

/**
 * nginx's smooth weighted round-robin (ngx_http_upstream_get_peer): on each pick every endpoint's
 * `current` grows by its weight, the endpoint with the largest `current` (first one on ties) is
 * chosen and its `current` drops by the total weight. The result interleaves endpoints: weights
 * {a:5, b:1, c:1} give `a a b a c a a`, then repeat.
 *
 * State, two modes chosen at build:
 * - Table mode (all weights integers, period = sum(w / gcd(w)) <= MAX_TABLE_PERIOD and
 *   n * period <= MAX_TABLE_BUILD_STEPS): `table` holds one whole period of the sequence as
 *   endpoint indices (after exactly `period` steps every `current` is back to 0, so the sequence is
 *   periodic); `cursor` is the next table slot. `cursor` starts at a random slot (opts.random), so
 *   proxies rebuilt together do not move in lockstep; with a random that returns 0 the sequence is
 *   exactly nginx's from its initial state. Pick is O(1).
 * - Live mode (otherwise, e.g. non-integer or very diverse weights): `current` (Float64Array) is
 *   nginx's per-endpoint current weight, starting at 0 (nginx's initial state); pick is O(n).
 * Weights are captured at build (nginx's effective_weight, which drops on failures, is not
 * modelled: failures are handled by health checks / outlier ejection rebuilding the balancer).
 */
class WeightedRoundRobin implements Balancer {
  readonly algorithm = 'weighted-round-robin';
  private readonly endpoints: readonly Endpoint[];
  private readonly weights: Float64Array;
  private readonly total: number;
  private readonly table: Uint32Array | null;
  private cursor = 0;
  private readonly current: Float64Array | null;

  constructor(endpoints: readonly Endpoint[], opts: BalancerOptions) {
    this.endpoints = endpoints.slice();
    const w = reducedWeights(captureWeights(this.algorithm, endpoints));
    this.weights = w;
    let total = 0;
    for (let i = 0; i < w.length; i++) total += w[i];
    this.total = total;
    const n = w.length;
    if (allIntegers(w) && total <= MAX_TABLE_PERIOD && n * total <= MAX_TABLE_BUILD_STEPS) {
      this.table = smoothSequence(w, total);
      this.cursor = Math.floor(opts.random() * total) % total;
      this.current = null;
    } else {
      this.table = null;
      this.current = new Float64Array(n);
    }
  }

  /** True when picks come from the precomputed period (for tests and diagnostics). */
  get tabled(): boolean {
    return this.table !== null;
  }

  pick(_ctx: PickContext): Endpoint | undefined {
    const table = this.table;
    if (table !== null) {
      const c = this.cursor;
      this.cursor = c + 1 === table.length ? 0 : c + 1;
      return this.endpoints[table[c]];
    }
    const cur = this.current!;
    const w = this.weights;
    let best = -1;
    for (let i = 0; i < cur.length; i++) {
      cur[i] += w[i];
      if (best < 0 || cur[i] > cur[best]) best = i;
    }
    cur[best] -= this.total;
    return this.endpoints[best];
  }
}

/** One period (`period` = sum of integer weights) of nginx's smooth WRR, from all-zero state. */
export function smoothSequence(w: Float64Array, period: number): Uint32Array {
  const n = w.length;
  const cur = new Float64Array(n);
  const out = new Uint32Array(period);
  for (let t = 0; t < period; t++) {
    let best = 0;
    cur[0] += w[0];
    for (let i = 1; i < n; i++) {
      cur[i] += w[i];
      if (cur[i] > cur[best]) best = i;
    }
    cur[best] -= period;
    out[t] = best;
  }
  return out;
}

/**
 * `weighted-round-robin`: nginx's smooth weighted round-robin; each endpoint gets exactly
 * weight/sum(weights) of every period of picks, evenly interleaved.
 * Inputs: the usable endpoints with their weights (captured at build; integers 1..10000 from
 * config, any finite value > 0 accepted); `opts.random` picks the starting offset in table mode.
 * Throws: Error if a weight is not a finite number > 0. Empty list: picks return undefined.
 * Complexity: table mode (the usual case) build O(n * period) time, O(period) memory, pick O(1);
 * live-mode fallback build O(n), pick O(n). No allocation per pick.
 */
export const weightedRoundRobin: BalancerFactory = (endpoints, opts) =>
  endpoints.length === 0 ? emptyBalancer('weighted-round-robin') : new WeightedRoundRobin(endpoints, opts);
