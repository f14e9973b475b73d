/*
 * Streaming latency quantiles over a sliding window, for hedging delays learned from a service's
 * own latency. A small log-bucket histogram (4 buckets per power of two of microseconds, so a
 * quantile is within ~19% of the truth) per slice; the window is SLICES slices that rotate with
 * the injected clock. Recording is O(1) and allocation-free (hot path: once per response);
 * `quantile` is O(buckets × slices) and meant to be cached by the caller.
 */
import type { Clock } from '../util/clock.js';

const SLICES = 4;
/** Sub-buckets per power of two. */
const SUB = 4;
/** Microsecond values up to 2^31 (~36 min) are bucketed; longer ones land in the last bucket. */
const BUCKETS = 32 * SUB;

/** Bucket of a latency in µs (≥ 1): 4 × floor(log2 us) + the next two bits. */
function bucketOf(us: number): number {
  const v = us < 1 ? 1 : us > 0x7fffffff ? 0x7fffffff : us | 0;
  const msb = 31 - Math.clz32(v);
  const sub = msb >= 2 ? (v >>> (msb - 2)) & 3 : (v << (2 - msb)) & 3;
  return msb * SUB + sub;
}

/** Upper bound in µs of a bucket. */
function bucketTop(b: number): number {
  const msb = Math.floor(b / SUB);
  const sub = b % SUB;
  return 2 ** msb * (1 + (sub + 1) / SUB);
}

/**
 * `new LatencyWindow(windowMs, clock)`: latencies recorded in the last `windowMs` (give or take a
 * slice, windowMs / 4). `record(ms)` adds one; `quantile(q)` estimates the q-quantile (0–1) in ms,
 * or undefined with fewer than `minSamples` latencies in the window.
 */
export class LatencyWindow {
  private readonly counts: Uint32Array[] = [];
  private readonly totals = new Uint32Array(SLICES);
  private readonly sliceMs: number;
  private slice: number;

  constructor(readonly windowMs: number, private readonly clock: Clock, readonly minSamples = 20) {
    if (!(windowMs > 0)) throw new RangeError(`latency window must be > 0 ms, got ${windowMs}`);
    for (let i = 0; i < SLICES; i++) this.counts.push(new Uint32Array(BUCKETS));
    this.sliceMs = windowMs / SLICES;
    this.slice = Math.floor(clock.now() / this.sliceMs);
  }

  private advance(): number {
    const s = Math.floor(this.clock.now() / this.sliceMs);
    for (let i = 1; i <= s - this.slice && i <= SLICES; i++) {
      const k = (this.slice + i) % SLICES;
      this.counts[k].fill(0);
      this.totals[k] = 0;
    }
    if (s > this.slice) this.slice = s;
    return this.slice % SLICES;
  }

  /** Records one latency in milliseconds. */
  record(ms: number): void {
    const k = this.advance();
    this.counts[k][bucketOf(ms * 1000)]++;
    this.totals[k]++;
  }

  /** Latencies in the window. */
  count(): number {
    this.advance();
    let n = 0;
    for (let k = 0; k < SLICES; k++) n += this.totals[k];
    return n;
  }

  /** The q-quantile in ms (the upper bound of its bucket: errs on the slow side), or undefined with too few samples. */
  quantile(q: number): number | undefined {
    const n = this.count();
    if (n < this.minSamples || n === 0) return undefined;
    const rank = Math.ceil(q * n);
    let seen = 0;
    for (let b = 0; b < BUCKETS; b++) {
      for (let k = 0; k < SLICES; k++) seen += this.counts[k][b];
      if (seen >= rank) return bucketTop(b) / 1000;
    }
    return bucketTop(BUCKETS - 1) / 1000;
  }
}
