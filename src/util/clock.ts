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
