/*
 * The learned p99 baseline behind the latency trigger ("p99 > 2x baseline", design chapter
 * scalability-and-reliability.md, "Auto-Scaling Triggers"). The design does not say how the
 * baseline is learned. We use a time-weighted exponential moving average with a one-hour time
 * constant: slow enough that a five-minute incident hardly moves it, fast enough to follow the
 * daily traffic curve. It is bias-corrected (sum and weight decay together), so early on it is the
 * plain average of what was seen and is not pulled toward the zero it started from.
 *
 * The caller decides which samples to learn from: the evaluator skips samples in a latency breach,
 * so a slow incident cannot teach the baseline that slow is normal.
 */

/** Default time constant: one hour. */
export const DEFAULT_BASELINE_TIME_CONSTANT_MS = 3_600_000;
/** Default warm-up: ten minutes of samples before the baseline is trusted. */
export const DEFAULT_BASELINE_WARMUP_MS = 600_000;

/**
 * `new LatencyBaseline(timeConstantMs = 1 h, warmupMs = 10 min)`. Throws RangeError when
 * timeConstantMs is not a finite number > 0 or warmupMs is not a finite number >= 0.
 * `add()` is O(1) and allocates nothing. Not thread-aware: one owner feeds it.
 */
export class LatencyBaseline {
  readonly timeConstantMs: number;
  readonly warmupMs: number;
  /** Decayed sum of weight x p99. */
  private sum = 0;
  /** Decayed sum of weights; dividing by it is the bias correction. */
  private weight = 0;
  private learned = 0;

  constructor(timeConstantMs = DEFAULT_BASELINE_TIME_CONSTANT_MS, warmupMs = DEFAULT_BASELINE_WARMUP_MS) {
    if (!(timeConstantMs > 0 && Number.isFinite(timeConstantMs))) throw new RangeError(`timeConstantMs must be > 0, got ${timeConstantMs}`);
    if (!(warmupMs >= 0 && Number.isFinite(warmupMs))) throw new RangeError(`warmupMs must be >= 0, got ${warmupMs}`);
    this.timeConstantMs = timeConstantMs;
    this.warmupMs = warmupMs;
  }

  /**
   * Learns one p99 (ms) that stands for `dtMs` of time. A p99 that is not a finite number > 0,
   * or a dtMs that is not > 0, is ignored (a broken reporter must not poison the baseline).
   */
  add(p99Ms: number, dtMs: number): void {
    if (!(p99Ms > 0 && Number.isFinite(p99Ms)) || !(dtMs > 0 && Number.isFinite(dtMs))) return;
    const keep = Math.exp(-dtMs / this.timeConstantMs);
    this.sum = this.sum * keep + (1 - keep) * p99Ms;
    this.weight = this.weight * keep + (1 - keep);
    this.learned += dtMs;
  }

  /** The baseline in ms, or undefined until `warmupMs` of samples were learned. */
  get valueMs(): number | undefined {
    return this.learned >= this.warmupMs && this.weight > 0 ? this.sum / this.weight : undefined;
  }

  /** Total time covered by learned samples, ms (for the dashboard: "learning, 4 of 10 min"). */
  get learnedMs(): number {
    return this.learned;
  }
}
