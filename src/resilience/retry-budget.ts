/*
 * Retry budget (Envoy's `retry_budget`, Finagle's RetryBudget): retries in flight may not exceed a
 * share of the requests in flight, so a struggling upstream sees at most ~(1 + percent%) × load
 * instead of (1 + retries) × load. A floor (`minConcurrent`) keeps retries possible at low traffic.
 *
 * One instance per service per worker. Counters only: O(1), no allocation, no time.
 */

/** Options of a RetryBudget. */
export interface RetryBudgetOptions {
  /** Retries in flight allowed as a percentage of requests in flight, 0–100 (default 20). */
  readonly percent?: number;
  /** Retries in flight always allowed regardless of traffic, integer ≥ 0 (default 3). */
  readonly minConcurrent?: number;
}

/**
 * `new RetryBudget({ percent: 20, minConcurrent: 3 })` (those are the defaults; RangeError for a
 * percent outside 0–100 or a minConcurrent that is not an integer ≥ 0).
 *
 * Protocol: `requestStarted()` when a client request begins and `requestFinished()` when it ends
 * (a retried request counts once); before each retry, `tryRetry()`; if it returned true,
 * `retryFinished()` when that retried try ends. All methods are on the hot path: O(1), no allocation.
 * Unbalanced finish calls never take a counter below zero; they are counted in `unbalanced`.
 */
export class RetryBudget {
  private readonly percent: number;
  private readonly minConcurrent: number;
  /** Requests in flight. */
  active = 0;
  /** Retries in flight (granted by tryRetry, not yet retryFinished). */
  activeRetries = 0;
  /** Retries granted since creation. */
  granted = 0;
  /** Retries denied because the budget was exhausted since creation (for metrics). */
  exhausted = 0;
  /** requestFinished/retryFinished calls with nothing in flight (a caller bug; for metrics/tests). */
  unbalanced = 0;

  constructor(opts: RetryBudgetOptions = {}) {
    const percent = opts.percent ?? 20;
    const minConcurrent = opts.minConcurrent ?? 3;
    if (!(percent >= 0 && percent <= 100)) throw new RangeError(`retry budget percent must be 0–100, got ${percent}`);
    if (!Number.isInteger(minConcurrent) || minConcurrent < 0) {
      throw new RangeError(`retry budget minConcurrent must be an integer ≥ 0, got ${minConcurrent}`);
    }
    this.percent = percent;
    this.minConcurrent = minConcurrent;
  }

  /** Retries in flight currently allowed: max(minConcurrent, floor(percent% × active)). */
  limit(): number {
    const share = Math.floor((this.active * this.percent) / 100);
    return share > this.minConcurrent ? share : this.minConcurrent;
  }

  /** A client request began. */
  requestStarted(): void {
    this.active++;
  }

  /** A client request ended (whatever its outcome). */
  requestFinished(): void {
    if (this.active > 0) this.active--;
    else this.unbalanced++;
  }

  /**
   * Asks for one retry: true (and counts it in flight) when activeRetries < limit(); false (and
   * counts `exhausted`) otherwise.
   */
  tryRetry(): boolean {
    if (this.activeRetries < this.limit()) {
      this.activeRetries++;
      this.granted++;
      return true;
    }
    this.exhausted++;
    return false;
  }

  /** A retried try granted by tryRetry ended. */
  retryFinished(): void {
    if (this.activeRetries > 0) this.activeRetries--;
    else this.unbalanced++;
  }
}
