/** Time source, injected so resilience and balancing logic can be tested without sleeping. */
export interface Clock {
  /** Milliseconds, monotonic (not wall time). */
  now(): number;
}

/** The process's monotonic clock. */
export const systemClock: Clock = { now: () => performance.now() };

/** A clock a test moves by hand. */
export class ManualClock implements Clock {
  constructor(private t = 0) {}
  now(): number { return this.t; }
  advance(ms: number): void { this.t += ms; }
}

/** Node's timers hold at most 2^31−1 ms (≈ 24.8 days); a longer delay silently becomes 1 ms. */
export const TIMER_MAX_MS = 2 ** 31 - 1;
