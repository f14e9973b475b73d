import type { Endpoint } from '../endpoint.js';
import type { Random } from '../../util/random.js';
import type { Balancer, BalancerFactory, BalancerOptions, PickContext } from './types.js';
import { hash32, hash32b } from '../../util/hash.js';
import { captureWeights, emptyBalancer, keyOrder, pickHash } from './common.js';

export const DEFAULT_TABLE_SIZE = 65_537;
/** Largest accepted table size (Envoy's limit); 4 bytes per entry, so ~20 MB. */
export const MAX_TABLE_SIZE = 5_000_011;

const EMPTY = 0xffffffff;

/** Deterministic primality by trial division; O(sqrt(m)), build time only. */
export function isPrime(m: number): boolean {
  if (!Number.isInteger(m) || m < 2) return false;
  if (m % 2 === 0) return m === 2;
  for (let d = 3; d * d <= m; d += 2) if (m % d === 0) return false;
  return true;
}

/**
 * Builds the Maglev lookup table (Eisenbud et al., NSDI 2016, "Maglev: A Fast and Reliable
 * Software Network Load Balancer", section 3.4) with Envoy's weighting.
 *
 * Each endpoint i has a permutation of the M slots: offset_i = hash32(key) mod M,
 * skip_i = hash32b(key) mod (M - 1) + 1, permutation_i[j] = (offset_i + j * skip_i) mod M; M
 * prime makes every skip coprime with M, so each permutation visits every slot. Endpoints take
 * turns claiming the next unclaimed slot of their own permutation until the table is full.
 *
 * Weighting (Envoy's MaglevTable): weights are normalised so the largest is 1; in round r
 * (1, 2, ...) endpoint i takes a turn only if r * w_i >= target_i, and each turn adds 1 to
 * target_i. So the heaviest endpoint takes a turn every round and one of relative weight 1/3
 * every third round; table shares follow weights. Within a round endpoints take turns in key
 * order (as Envoy sorts hosts), so the table does not depend on the order of the endpoint list.
 *
 * Returns `table[slot]` = endpoint index. Cost: O(M log M) slot probes for similar weights; with
 * very unequal weights up to (max/min weight ratio) idle rounds of O(n), bounded by O(n * M).
 */
export function buildMaglevTable(endpoints: readonly Endpoint[], weights: Float64Array, m: number): Uint32Array {
  const n = endpoints.length;
  const next = new Float64Array(n); // current slot in endpoint i's permutation
  const skip = new Float64Array(n);
  const norm = new Float64Array(n);
  const target = new Float64Array(n);
  let maxW = 0;
  for (let i = 0; i < n; i++) maxW = Math.max(maxW, weights[i]);
  for (let i = 0; i < n; i++) {
    const key = endpoints[i].key;
    next[i] = hash32(key) % m;
    skip[i] = (hash32b(key) % (m - 1)) + 1;
    norm[i] = weights[i] / maxW;
  }
  const order = keyOrder(endpoints);
  const table = new Uint32Array(m).fill(EMPTY);
  let filled = 0;
  for (let round = 1; filled < m; round++) {
    for (let t = 0; t < n && filled < m; t++) {
      const i = order[t];
      if (round * norm[i] < target[i]) continue;
      target[i] += 1;
      let c = next[i];
      while (table[c] !== EMPTY) {
        c += skip[i];
        if (c >= m) c -= m;
      }
      table[c] = i;
      c += skip[i];
      if (c >= m) c -= m;
      next[i] = c;
      filled++;
    }
  }
  return table;
}

/**
 * Maglev consistent hashing: pick = table[hash % M].
 *
 * State: private endpoint copy; `table` (Uint32Array of M endpoint indices, immutable); M; the
 * random source. The key's hash is pickHash(ctx.hashKey, ctx.attempt) (attempt 0: hash32(key);
 * retries: a remixed hash, so a retry usually lands elsewhere). Keyless requests take a uniformly
 * random slot, which follows the table shares (weights).
 */
class Maglev implements Balancer {
  readonly algorithm = 'maglev';
  private readonly endpoints: readonly Endpoint[];
  private readonly table: Uint32Array;
  private readonly size: number;
  private readonly random: Random;

  constructor(endpoints: readonly Endpoint[], opts: BalancerOptions, m: number) {
    this.endpoints = endpoints.slice();
    this.table = buildMaglevTable(this.endpoints, captureWeights(this.algorithm, endpoints), m);
    this.size = m;
    this.random = opts.random;
  }

  pick(ctx: PickContext): Endpoint | undefined {
    let slot: number;
    if (ctx.hashKey !== undefined) {
      slot = (pickHash(ctx.hashKey, ctx.attempt) >>> 0) % this.size;
    } else {
      slot = Math.floor(this.random() * this.size);
      if (slot >= this.size) slot = this.size - 1;
    }
    return this.endpoints[this.table[slot]];
  }

  /** Entries per endpoint index (tests, diagnostics). Allocates. */
  entryCounts(): number[] {
    const counts = new Array<number>(this.endpoints.length).fill(0);
    for (let s = 0; s < this.size; s++) counts[this.table[s]]++;
    return counts;
  }
}

/**
 * `maglev`: Maglev lookup-table consistent hashing with Envoy-style weights.
 * Inputs: the usable endpoints (weights captured at build); `opts.tableSize` M (default 65537);
 * `opts.random` (one draw for a keyless pick); ctx.hashKey / ctx.attempt. The paper suggests
 * M >= 100 * n for shares within ~1% of even.
 * Throws: Error if M is not a prime integer, M > 5000011, M < n (every endpoint needs a slot),
 * or a weight is not a finite number > 0. Checked even for an empty list. Empty list: picks
 * return undefined.
 * Complexity: build O(M log M) typical (see buildMaglevTable), memory 4 * M bytes; pick
 * O(key length), no allocation.
 */
export const maglev: BalancerFactory = (endpoints, opts) => {
  const m = opts.tableSize ?? DEFAULT_TABLE_SIZE;
  if (!isPrime(m)) throw new Error(`maglev: tableSize must be a prime number, got ${String(m)}`);
  if (m > MAX_TABLE_SIZE) throw new Error(`maglev: tableSize must be at most ${MAX_TABLE_SIZE}, got ${m}`);
  if (m < endpoints.length) {
    throw new Error(`maglev: tableSize ${m} is smaller than the number of endpoints (${endpoints.length})`);
  }
  return endpoints.length === 0 ? emptyBalancer('maglev') : new Maglev(endpoints, opts, m);
};
