import { hash32i } from '../util/hash.js';
import type { Random } from '../util/random.js';

/*
 * Heavy hitters among hash keys, for hot-spot detection (design chapter, "Hot Spot Mitigation":
 * a popular key pinned by consistent hashing overloads one backend). Space-Saving (Metwally,
 * Agrawal, El Abbadi, "Efficient Computation of Frequent and Top-k Elements in Data Streams",
 * ICDT 2005): `capacity` counters; a key not counted takes over the smallest counter and inherits
 * its count as its error. Every key whose true count exceeds total / capacity is in the table,
 * and each count overestimates the truth by at most its `error` (<= total / capacity).
 *
 * This runs on the request hot path of every worker (one `add` per proxied request, after the
 * balancer picked), so the layout is flat and preallocated: counts in Float64Arrays (no boxed
 * numbers), a min-heap of counter indices in an Int32Array, and a private open-addressing hash
 * table (linear probing, load <= 1/2, backward-shift deletion) from key to counter. A V8 Map would
 * reallocate its backing store every few dozen evictions; this table never allocates. The only
 * memory kept per entry is a reference to the caller's key string.
 */

/** Default number of counters: keys above 1/64 (~1.6%) of the traffic are always reported. */
export const DEFAULT_TOP_KEYS_CAPACITY = 64;

/** One reported heavy hitter: estimated count (scaled by the sampling rate), its share of all keys seen, and the count's maximal overestimate. */
export interface KeyCount {
  key: string;
  count: number;
  share: number;
  error: number;
}

/** Options of a TopKeys counter (all optional). */
export interface TopKeysOptions {
  /** Counters kept (default 64, integer 1..65536): memory is O(capacity), fixed at construction. */
  capacity?: number;
  /** Count about 1 key in every `sampleEvery` (default 1: all); counts are scaled back up by it. */
  sampleEvery?: number;
  /**
   * Randomness for the sampling gaps (default Math.random). With sampleEvery N > 1 the gap to the
   * next counted key is uniform in 1..2N-1 (mean N), so traffic with a period of N (alternating
   * clients, round-robin retries) is not aliased. Called once per counted key, never otherwise.
   */
  random?: Random;
}

const EMPTY = -1;

/**
 * A bounded heavy-hitters counter over string keys (Space-Saving).
 *
 * `add(key)`: hot path, O(length of key) for the hash + O(log capacity) heap fix-up, no
 * allocation; with sampleEvery N > 1 a key that is not sampled costs one decrement.
 * `top(n)`, `reset()`, `decay(f)`: per window, O(capacity log capacity) at most; top allocates
 * its result. Not thread-shared: one counter per worker (and per backend or service, as the
 * caller needs); merge workers' results with `mergeTopKeys`.
 * Throws RangeError for a capacity outside 1..65536 or a sampleEvery that is not an integer >= 1.
 */
export class TopKeys {
  readonly capacity: number;
  readonly sampleEvery: number;
  private readonly random: Random;
  /** Per counter: its key, count, error and the key's hash (for the table). */
  private readonly keys: string[];
  private readonly counts: Float64Array;
  private readonly errors: Float64Array;
  private readonly hashes: Int32Array;
  /** Min-heap on counts: heap position -> counter, and counter -> heap position. */
  private readonly heap: Int32Array;
  private readonly pos: Int32Array;
  /** Open-addressing table: bucket -> counter (EMPTY when free). */
  private readonly table: Int32Array;
  private readonly mask: number;
  private used = 0;
  /** Keys counted (sampled ones only), decayed along with the counts. */
  private counted = 0;
  /** Keys still to skip before the next sampled one. */
  private skip = 1;

  constructor(opts: TopKeysOptions = {}) {
    const cap = opts.capacity ?? DEFAULT_TOP_KEYS_CAPACITY;
    const every = opts.sampleEvery ?? 1;
    if (!Number.isInteger(cap) || cap < 1 || cap > 65_536) throw new RangeError(`capacity must be an integer in 1..65536, got ${cap}`);
    if (!Number.isInteger(every) || every < 1) throw new RangeError(`sampleEvery must be an integer >= 1, got ${every}`);
    this.capacity = cap;
    this.sampleEvery = every;
    this.random = opts.random ?? Math.random;
    this.keys = new Array<string>(cap).fill('');
    this.counts = new Float64Array(cap);
    this.errors = new Float64Array(cap);
    this.hashes = new Int32Array(cap);
    this.heap = new Int32Array(cap);
    this.pos = new Int32Array(cap);
    let size = 2;
    while (size < cap * 2) size *= 2;
    this.table = new Int32Array(size).fill(EMPTY);
    this.mask = size - 1;
  }

  /** Counts one occurrence of `key` (or skips it, when sampling). Hot path: see the class comment. */
  add(key: string): void {
    if (--this.skip > 0) return;
    const n = this.sampleEvery;
    this.skip = n === 1 ? 1 : 1 + Math.floor(this.random() * (2 * n - 1));
    this.counted++;
    const h = hash32i(key);
    let c = this.find(key, h);
    if (c === EMPTY) {
      if (this.used < this.capacity) {
        c = this.used++;
        this.counts[c] = 0;
        this.errors[c] = 0;
        this.heap[c] = c;
        this.pos[c] = c;
      } else {
        // Space-Saving: the smallest counter changes hands; its count becomes the newcomer's error.
        c = this.heap[0];
        this.unlink(c);
        this.errors[c] = this.counts[c];
      }
      this.keys[c] = key;
      this.hashes[c] = h;
      this.link(c);
      this.counts[c] += 1;
      this.siftUp(this.pos[c]);
    } else {
      this.counts[c] += 1;
    }
    this.siftDown(this.pos[c]);
  }

  /**
   * The `n` largest counters, largest first: count and error scaled by sampleEvery (estimates of
   * the true numbers), share = count / all keys seen. Ties are ordered by key. Not hot path.
   */
  top(n: number): KeyCount[] {
    const ids = Array.from({ length: this.used }, (_, i) => i);
    ids.sort((a, b) => this.counts[b] - this.counts[a] || (this.keys[a] < this.keys[b] ? -1 : this.keys[a] > this.keys[b] ? 1 : 0));
    const s = this.sampleEvery;
    return ids.slice(0, Math.max(0, n)).map((i) => ({
      key: this.keys[i],
      count: this.counts[i] * s,
      share: this.counted > 0 ? this.counts[i] / this.counted : 0,
      error: this.errors[i] * s,
    }));
  }

  /** Keys seen so far (estimated: sampled keys × sampleEvery), decayed with the counts. */
  get total(): number {
    return this.counted * this.sampleEvery;
  }

  /** Counters in use (at most `capacity`). */
  get size(): number {
    return this.used;
  }

  /** Starts a new window: forgets every key (the sampling phase carries on). O(capacity), no allocation. */
  reset(): void {
    this.table.fill(EMPTY);
    this.keys.fill('');
    this.used = 0;
    this.counted = 0;
  }

  /**
   * Multiplies every count, error and the total by `factor` in (0, 1] (an exponentially weighted
   * view across windows: hot keys keep their counters, cold ones become the first evicted).
   * Counts are then no longer per-window numbers; shares stay meaningful. Scaling keeps the heap
   * order. Throws RangeError outside (0, 1].
   */
  decay(factor: number): void {
    if (!(factor > 0 && factor <= 1)) throw new RangeError(`decay factor must be in (0, 1], got ${factor}`);
    for (let i = 0; i < this.used; i++) {
      this.counts[i] *= factor;
      this.errors[i] *= factor;
    }
    this.counted *= factor;
  }

  private find(key: string, h: number): number {
    const t = this.table;
    for (let b = h & this.mask; ; b = (b + 1) & this.mask) {
      const c = t[b];
      if (c === EMPTY) return EMPTY;
      if (this.hashes[c] === h && this.keys[c] === key) return c;
    }
  }

  private link(c: number): void {
    const t = this.table;
    let b = this.hashes[c] & this.mask;
    while (t[b] !== EMPTY) b = (b + 1) & this.mask;
    t[b] = c;
  }

  /** Removes counter `c` from the table; later entries of its probe run shift back (no tombstones). */
  private unlink(c: number): void {
    const t = this.table;
    const m = this.mask;
    let hole = this.hashes[c] & m;
    while (t[hole] !== c) hole = (hole + 1) & m;
    for (let b = (hole + 1) & m; t[b] !== EMPTY; b = (b + 1) & m) {
      const home = this.hashes[t[b]] & m;
      // The entry at b may fill the hole unless its home lies cyclically in (hole, b].
      const stays = hole <= b ? home > hole && home <= b : home > hole || home <= b;
      if (!stays) {
        t[hole] = t[b];
        hole = b;
      }
    }
    t[hole] = EMPTY;
  }

  private siftUp(p: number): void {
    const { heap, pos, counts } = this;
    const c = heap[p];
    while (p > 0) {
      const parent = (p - 1) >> 1;
      if (counts[heap[parent]] <= counts[c]) break;
      heap[p] = heap[parent];
      pos[heap[p]] = p;
      p = parent;
    }
    heap[p] = c;
    pos[c] = p;
  }

  private siftDown(p: number): void {
    const { heap, pos, counts } = this;
    const n = this.used;
    const c = heap[p];
    for (;;) {
      let child = 2 * p + 1;
      if (child >= n) break;
      if (child + 1 < n && counts[heap[child + 1]] < counts[heap[child]]) child++;
      if (counts[heap[child]] >= counts[c]) break;
      heap[p] = heap[child];
      pos[heap[p]] = p;
      p = child;
    }
    heap[p] = c;
    pos[c] = p;
  }
}

/**
 * Sums top-key lists (e.g. one per worker, or per backend) by key and returns the `n` largest,
 * largest first, ties by key. Counts add up; the result's entries carry only key and count
 * (shares need the caller's total). Not hot path.
 */
export function mergeTopKeys(lists: ReadonlyArray<ReadonlyArray<{ key: string; count: number }>>, n: number): { key: string; count: number }[] {
  const sum = new Map<string, number>();
  for (const list of lists) for (const { key, count } of list) sum.set(key, (sum.get(key) ?? 0) + count);
  return [...sum].map(([key, count]) => ({ key, count }))
    .sort((a, b) => b.count - a.count || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    .slice(0, Math.max(0, n));
}
