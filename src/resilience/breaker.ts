import type { Clock } from '../util/clock.js';

/**
 * Circuit breaker of one backend, the state machine of the design chapter
 * (../shared/design/scalability-and-reliability.md, "Circuit Breaker Pattern"):
 *
 *   closed ──(error% ≥ threshold over the rolling window, with ≥ volume requests)──▶ open
 *   open ──(sleep window elapsed: allowRequest() or tick())──▶ half-open
 *   half-open ──(all trials succeeded)──▶ closed        half-open ──(a trial failed)──▶ open
 *
 * Pure state machine: no I/O, no timers; time comes from the injected `Clock`. Transitions are
 * reported through the `onTransition` listener (never logged here).
 */

/**
 * Breaker settings. Defaults (`DEFAULT_BREAKER`) are the design's numbers.
 * - errorThresholdPercentage: trip when the error share over the window is ≥ this (0 < x ≤ 100). Default 50.
 * - requestVolumeThreshold: minimum outcomes in the window before the breaker may trip (integer ≥ 1). Default 20.
 * - sleepWindowMs: time spent open before trials are admitted (≥ 0). Default 30 000.
 * - halfOpenRequests: trials admitted in half-open; all must succeed to close (integer ≥ 1). Default 5.
 * - windowMs: length of the rolling window, kept in 10 buckets of windowMs / 10 (> 0). Default 10 000.
 */
export interface BreakerOptions {
  errorThresholdPercentage: number;
  requestVolumeThreshold: number;
  sleepWindowMs: number;
  halfOpenRequests: number;
  windowMs: number;
}

/** The design's defaults: 50% / 20 requests / 30 s open / 5 trials, over a 10 s window. */
export const DEFAULT_BREAKER: BreakerOptions = Object.freeze({
  errorThresholdPercentage: 50,
  requestVolumeThreshold: 20,
  sleepWindowMs: 30_000,
  halfOpenRequests: 5,
  windowMs: 10_000,
});

/** The three states of the design's diagram. */
export type BreakerState = 'closed' | 'open' | 'half-open';

/** Number of buckets of the rolling window. */
const BUCKETS = 10;

/**
 * Circuit breaker of one backend.
 *
 * Inputs: options (see `BreakerOptions`; use `DEFAULT_BREAKER` for the design's values), a clock,
 * and an optional listener called synchronously after each state change with (from, to).
 * Throws RangeError from the constructor when an option is out of range.
 *
 * Rolling window: a ring of 10 buckets (total, errors) of windowMs / 10 each, advanced lazily on
 * `record()` by clock time; an outcome leaves the window when its bucket is 10 buckets old, i.e.
 * between 0.9 × windowMs and windowMs after it was recorded. O(1) amortised, no allocation after
 * construction.
 *
 * Half-open details:
 * - each `allowRequest()` that returns true takes one of `halfOpenRequests` trial slots; slots
 *   are not given back, so at most `halfOpenRequests` trials run per half-open period;
 * - outcomes are matched to outstanding trials only by count: an outcome arriving in half-open
 *   while no trial is outstanding (a straggler from before the trip) is ignored;
 * - a trial that has not reported within `sleepWindowMs` of the last trial admitted counts as
 *   failed: `tick()` reopens the breaker, so a lost outcome (e.g. the client left and no verdict
 *   was recorded) cannot leave the breaker half-open with no slots forever.
 */
export class CircuitBreaker {
  private readonly opts: BreakerOptions;
  private readonly clock: Clock;
  private readonly onTransition: ((from: BreakerState, to: BreakerState) => void) | undefined;
  private current: BreakerState = 'closed';

  // Rolling window (closed state).
  private readonly bucketMs: number;
  private readonly totals = new Float64Array(BUCKETS);
  private readonly errors = new Float64Array(BUCKETS);
  /** Index of the bucket that holds the current time. */
  private head = 0;
  /** Clock time at which the head bucket starts. */
  private headStart: number;
  private windowTotal = 0;
  private windowErrors = 0;

  // Open / half-open.
  private openedAt = 0;
  private trialsIssued = 0;
  private trialsOk = 0;
  private lastTrialAt = 0;

  constructor(opts: BreakerOptions, clock: Clock, onTransition?: (from: BreakerState, to: BreakerState) => void) {
    const { errorThresholdPercentage: pct, requestVolumeThreshold: vol, sleepWindowMs, halfOpenRequests, windowMs } = opts;
    if (!(pct > 0 && pct <= 100)) throw new RangeError(`errorThresholdPercentage must be in (0, 100], got ${pct}`);
    if (!(Number.isInteger(vol) && vol >= 1)) throw new RangeError(`requestVolumeThreshold must be an integer >= 1, got ${vol}`);
    if (!(sleepWindowMs >= 0 && Number.isFinite(sleepWindowMs))) throw new RangeError(`sleepWindowMs must be >= 0, got ${sleepWindowMs}`);
    if (!(Number.isInteger(halfOpenRequests) && halfOpenRequests >= 1)) throw new RangeError(`halfOpenRequests must be an integer >= 1, got ${halfOpenRequests}`);
    if (!(windowMs > 0 && Number.isFinite(windowMs))) throw new RangeError(`windowMs must be > 0, got ${windowMs}`);
    this.opts = { errorThresholdPercentage: pct, requestVolumeThreshold: vol, sleepWindowMs, halfOpenRequests, windowMs };
    this.clock = clock;
    this.onTransition = onTransition;
    this.bucketMs = windowMs / BUCKETS;
    this.headStart = clock.now();
  }

  /** Current state. Does not advance time: an open breaker whose sleep window passed reads 'open' until `allowRequest()` or `tick()`. */
  get state(): BreakerState {
    return this.current;
  }

  /**
   * May a request be sent now? closed: yes. open: no until the sleep window has elapsed, then the
   * breaker moves to half-open (listener called) and this call is its first trial. half-open: yes
   * for at most `halfOpenRequests` trials in total per half-open period; each true answer takes
   * a slot, so call it only for a request that will be sent. Hot path: O(1), no allocation.
   */
  allowRequest(): boolean {
    switch (this.current) {
      case 'closed':
        return true;
      case 'open':
        if (this.clock.now() - this.openedAt < this.opts.sleepWindowMs) return false;
        this.toHalfOpen();
        return this.takeTrial();
      case 'half-open':
        return this.takeTrial();
    }
  }

  /**
   * Whether the balancer should consider this backend: closed, half-open with trial slots left,
   * or open with the sleep window passed. Takes no slot and changes no state. O(1).
   */
  pickable(): boolean {
    switch (this.current) {
      case 'closed':
        return true;
      case 'open':
        return this.clock.now() - this.openedAt >= this.opts.sleepWindowMs;
      case 'half-open':
        return this.trialsIssued < this.opts.halfOpenRequests;
    }
  }

  /**
   * Outcome of a request that was allowed (`ok` false for a 5xx or a gateway failure).
   * closed: counted into the rolling window; trips to open when, over the window,
   * total ≥ requestVolumeThreshold and errors / total ≥ errorThresholdPercentage %.
   * half-open: a failure reopens (the sleep window restarts); when all `halfOpenRequests` trials
   * succeeded the breaker closes with an empty window. Outcomes while open, and half-open outcomes
   * with no trial outstanding, are ignored. Hot path: O(1) amortised, no allocation.
   */
  record(ok: boolean): void {
    switch (this.current) {
      case 'closed': {
        const now = this.clock.now();
        this.advance(now);
        const h = this.head;
        this.totals[h]++;
        this.windowTotal++;
        if (!ok) {
          this.errors[h]++;
          this.windowErrors++;
        }
        if (this.windowTotal >= this.opts.requestVolumeThreshold
          && this.windowErrors * 100 >= this.opts.errorThresholdPercentage * this.windowTotal) {
          this.toOpen(now, 'closed');
        }
        return;
      }
      case 'open':
        return;
      case 'half-open':
        if (this.trialsIssued === this.trialsOk) return; // no trial outstanding: a straggler
        if (!ok) {
          this.toOpen(this.clock.now(), 'half-open');
          return;
        }
        this.trialsOk++;
        if (this.trialsOk >= this.opts.halfOpenRequests) this.toClosed();
        return;
    }
  }

  /**
   * Time-driven transitions, for a periodic sweep (not per request): open → half-open once the
   * sleep window has passed; half-open → open when a trial has been outstanding for
   * `sleepWindowMs` since the last trial was admitted (its outcome is taken as lost = failed).
   * Returns true when the state changed. O(1).
   */
  tick(): boolean {
    const now = this.clock.now();
    if (this.current === 'open') {
      if (now - this.openedAt < this.opts.sleepWindowMs) return false;
      this.toHalfOpen();
      return true;
    }
    if (this.current === 'half-open' && this.trialsIssued > this.trialsOk && now - this.lastTrialAt >= this.opts.sleepWindowMs) {
      this.toOpen(now, 'half-open');
      return true;
    }
    return false;
  }

  private takeTrial(): boolean {
    if (this.trialsIssued >= this.opts.halfOpenRequests) return false;
    this.trialsIssued++;
    this.lastTrialAt = this.clock.now();
    return true;
  }

  /** Moves the head bucket to the one holding `now`, clearing buckets that left the window. */
  private advance(now: number): void {
    const elapsed = now - this.headStart;
    if (elapsed < this.bucketMs) return;
    const steps = Math.floor(elapsed / this.bucketMs);
    if (steps >= BUCKETS) {
      this.clearWindow();
    } else {
      for (let i = 0; i < steps; i++) {
        this.head = (this.head + 1) % BUCKETS;
        this.windowTotal -= this.totals[this.head];
        this.windowErrors -= this.errors[this.head];
        this.totals[this.head] = 0;
        this.errors[this.head] = 0;
      }
    }
    this.headStart += steps * this.bucketMs;
  }

  private clearWindow(): void {
    this.totals.fill(0);
    this.errors.fill(0);
    this.windowTotal = 0;
    this.windowErrors = 0;
  }

  private toOpen(now: number, from: BreakerState): void {
    this.current = 'open';
    this.openedAt = now;
    this.onTransition?.(from, 'open');
  }

  private toHalfOpen(): void {
    this.current = 'half-open';
    this.trialsIssued = 0;
    this.trialsOk = 0;
    this.onTransition?.('open', 'half-open');
  }

  private toClosed(): void {
    this.current = 'closed';
    this.clearWindow();
    this.head = 0;
    this.headStart = this.clock.now();
    this.onTransition?.('half-open', 'closed');
  }
}
