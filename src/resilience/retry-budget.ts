/*
 * Retry budget as a token bucket over a sliding window (Finagle's RetryBudget(ttl,
 * minRetriesPerSec, percentCanRetry), Envoy's retry_budget in spirit): every request deposits
 * `percent`% of a token, every retry (or hedge) withdraws one, and deposits and withdrawals
 * expire after `windowMs`. So in any window, retries ≤ max(percent% × requests, minPerSecond ×
 * window) — a pool where every backend fails sees at most ~(1 + percent%) × the client load —
 * while a burst of failures (every request stuck on one hung backend timing out in the same
 * sweep) draws on what the last `windowMs` of traffic saved up, instead of on how many requests
 * happen to be in flight at that instant. Nothing is held while a retry waits or runs.
 *
 * One instance per service per worker. The window is kept in SLICES fixed slices of counters:
 * O(1), no allocation.
 */
import type { Clock } from '../util/clock.js';

/** Options of a RetryBudget. */
export interface RetryBudgetOptions {
  /** Retries allowed as a percentage of requests over the window, 0–100 (default 20). */
  readonly percent?: number;
  /** Retries per second always allowed regardless of traffic, ≥ 0 (default 10). */
  readonly minPerSecond?: number;
  /** How long a deposit or withdrawal counts, ms > 0 (default 10 000). */
  readonly windowMs?: number;
}

const SLICES = 10;

/**
 * `new RetryBudget({ percent: 20, minPerSecond: 10, windowMs: 10_000 }, clock)` (those are the
 * defaults; RangeError for a percent outside 0–100, a negative minPerSecond or a window ≤ 0).
 *
 * Protocol: `requestStarted()` once per client request (a retried request counts once);
 * `tryRetry()` before each retry or hedge, which withdraws a token when it returns true;
 * `canRetry()` asks without withdrawing. Every method is O(1) (amortised over the slices) and
 * allocates nothing.
 */
export class RetryBudget {
  readonly percent: number;
  readonly minPerSecond: number;
  readonly windowMs: number;
  private readonly sliceMs: number;
  private readonly deposits = new Float64Array(SLICES);
  private readonly withdrawals = new Float64Array(SLICES);
  /** Sums over the live slices. */
  private depositSum = 0;
  private withdrawalSum = 0;
  /** Index of the newest slice, in units of sliceMs since the clock's origin. */
  private slice: number;
  /** Retries granted since creation. */
  granted = 0;
  /** Retries refused because the budget was spent, since creation (for metrics). */
  exhausted = 0;

  constructor(opts: RetryBudgetOptions, private readonly clock: Clock) {
    const percent = opts.percent ?? 20;
    const minPerSecond = opts.minPerSecond ?? 10;
    const windowMs = opts.windowMs ?? 10_000;
    if (!(percent >= 0 && percent <= 100)) throw new RangeError(`retry budget percent must be 0–100, got ${percent}`);
    if (!(minPerSecond >= 0 && Number.isFinite(minPerSecond))) throw new RangeError(`retry budget minPerSecond must be ≥ 0, got ${minPerSecond}`);
    if (!(windowMs > 0 && Number.isFinite(windowMs))) throw new RangeError(`retry budget windowMs must be > 0, got ${windowMs}`);
    this.percent = percent;
    this.minPerSecond = minPerSecond;
    this.windowMs = windowMs;
    this.sliceMs = windowMs / SLICES;
    this.slice = Math.floor(clock.now() / this.sliceMs);
  }

  /** Whether this budget was built with these settings (a reload that keeps them keeps the budget). */
  sameAs(opts: RetryBudgetOptions): boolean {
    return (opts.percent ?? 20) === this.percent && (opts.minPerSecond ?? 10) === this.minPerSecond && (opts.windowMs ?? 10_000) === this.windowMs;
  }

  /** Drops the slices that left the window. */
  private advance(): number {
    const s = Math.floor(this.clock.now() / this.sliceMs);
    const gone = s - this.slice;
    if (gone <= 0) return s % SLICES;
    for (let i = 1; i <= gone && i <= SLICES; i++) {
      const k = (this.slice + i) % SLICES;
      this.depositSum -= this.deposits[k];
      this.withdrawalSum -= this.withdrawals[k];
      this.deposits[k] = 0;
      this.withdrawals[k] = 0;
    }
    this.slice = s;
    // Float sums drift by rounding; an empty window resets them exactly.
    if (gone >= SLICES) { this.depositSum = 0; this.withdrawalSum = 0; }
    return s % SLICES;
  }

  /** Tokens available now: max(percent% of the window's requests, the floor) − the window's retries. */
  balance(): number {
    this.advance();
    const earned = (this.depositSum * this.percent) / 100;
    const floor = (this.minPerSecond * this.windowMs) / 1000;
    return (earned > floor ? earned : floor) - this.withdrawalSum;
  }

  /** A client request began: deposits percent% of a token. */
  requestStarted(): void {
    const k = this.advance();
    this.deposits[k]++;
    this.depositSum++;
  }

  /** Whether a retry would be granted now (withdraws nothing). */
  canRetry(): boolean {
    return this.balance() >= 1;
  }

  /** Asks for one retry or hedge: true (and withdraws a token) when one is available; false (counted in `exhausted`) otherwise. */
  tryRetry(): boolean {
    if (this.balance() >= 1) {
      this.withdrawals[this.slice % SLICES]++;
      this.withdrawalSum++;
      this.granted++;
      return true;
    }
    this.exhausted++;
    return false;
  }
}
