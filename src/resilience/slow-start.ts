import type { Clock } from '../util/clock.js';

/*
 * Slow start: a backend that just joined the pool, or just became healthy again, receives a
 * growing share of its weight instead of its full share at once (cold caches, JIT warm-up,
 * connection pools still empty). The ramp is linear, as Envoy's slow start with aggression 1.
 */

/** Default ramp length: 30 s. */
export const DEFAULT_SLOW_START_MS = 30_000;
/** Default factor at the start of the ramp: 10% of the weight. */
export const DEFAULT_SLOW_START_MIN_FACTOR = 0.1;

/**
 * Weight multiplier of a backend healthy for `sinceHealthyMs`: a linear ramp from `minFactor`
 * (at 0 or less, or NaN) to 1 (at `windowMs` and after). `windowMs` 0 disables the ramp (always 1).
 * Defaults: windowMs 30 000, minFactor 0.1. Throws RangeError when windowMs is negative or not a
 * number, or minFactor is outside [0, 1]. Hot path safe: O(1), no allocation.
 */
export function slowStartFactor(sinceHealthyMs: number, windowMs = DEFAULT_SLOW_START_MS, minFactor = DEFAULT_SLOW_START_MIN_FACTOR): number {
  if (!(windowMs >= 0)) throw new RangeError(`windowMs must be >= 0, got ${windowMs}`);
  if (!(minFactor >= 0 && minFactor <= 1)) throw new RangeError(`minFactor must be in [0, 1], got ${minFactor}`);
  if (sinceHealthyMs >= windowMs) return 1;
  if (!(sinceHealthyMs > 0)) return minFactor;
  return minFactor + (1 - minFactor) * (sinceHealthyMs / windowMs);
}

/**
 * Remembers when endpoints started their ramp and answers their current factor.
 * Inputs: a clock, the ramp length (default 30 000 ms) and the starting factor (default 0.1);
 * throws RangeError for the same ranges as `slowStartFactor`. The caller decides which events
 * start a ramp (typically: added by a reload, or back to healthy), and usually not the initial
 * pool at startup, where every backend would otherwise start at 10%.
 * `factor()` is hot-path safe: O(1), no allocation; `start()` / `stop()` are not per request.
 */
export class SlowStart<E> {
  private readonly clock: Clock;
  private readonly windowMs: number;
  private readonly minFactor: number;
  /** Ramp start time per endpoint still ramping. */
  private readonly since = new Map<E, number>();

  constructor(clock: Clock, windowMs = DEFAULT_SLOW_START_MS, minFactor = DEFAULT_SLOW_START_MIN_FACTOR) {
    slowStartFactor(0, windowMs, minFactor); // validates
    this.clock = clock;
    this.windowMs = windowMs;
    this.minFactor = minFactor;
  }

  /** `ep` became healthy (or joined) now: (re)starts its ramp at `minFactor`. */
  start(ep: E): void {
    this.since.set(ep, this.clock.now());
  }

  /** Forgets `ep` (removed, or unhealthy again); its factor is 1 until `start()` is called again. */
  stop(ep: E): void {
    this.since.delete(ep);
  }

  /** Current weight multiplier of `ep`: 1 when it is not ramping; the entry is dropped once its ramp ended. */
  factor(ep: E): number {
    const t = this.since.get(ep);
    if (t === undefined) return 1;
    const f = slowStartFactor(this.clock.now() - t, this.windowMs, this.minFactor);
    if (f === 1) this.since.delete(ep);
    return f;
  }

  /** Whether `ep` is still ramping (an ended ramp is dropped here too). */
  ramping(ep: E): boolean {
    return this.factor(ep) < 1;
  }

  /** Number of endpoints whose ramp was started and not yet seen to end (a balancer may skip the factor lookup at 0). */
  get size(): number {
    return this.since.size;
  }
}
