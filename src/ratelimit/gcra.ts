/*
 * The Generic Cell Rate Algorithm (GCRA, the "virtual scheduling" form of a token bucket): one
 * number per key — its theoretical arrival time (TAT) — instead of a token count and a
 * timestamp. A key may send `burst` requests at once and then one every `periodMs / rate` ms;
 * the long-run rate never exceeds `rate` per `periodMs`. Pure: no I/O, no timers; time is passed in.
 */

/** A limit's shape: `rate` requests per `periodMs`, at most `burst` at once (integer ≥ 1). */
export interface RateShape { readonly rate: number; readonly periodMs: number; readonly burst: number }

/**
 * What one decision says, for the response fields: `remaining` requests that would pass right
 * now, `resetMs` until the key is back to its full burst, `retryAfterMs` until the next request
 * may pass (0 when allowed). One object is reused per caller: read it before the next decision.
 */
export interface Verdict { allowed: boolean; remaining: number; resetMs: number; retryAfterMs: number }

export const newVerdict = (): Verdict => ({ allowed: true, remaining: 0, resetMs: 0, retryAfterMs: 0 });

/**
 * GCRA for one shape. `take(tat, now, out)` decides one request of a key whose stored TAT is
 * `tat` (0 for a key never seen) and returns the TAT to store (unchanged when refused), filling
 * `out`. Throws RangeError from the constructor on a shape out of range. O(1), no allocation.
 */
export class Gcra {
  /** Emission interval: ms one request costs. */
  readonly intervalMs: number;
  /** How far ahead of `now` the TAT may run: the burst, in ms. */
  readonly toleranceMs: number;

  constructor(readonly shape: RateShape) {
    const { rate, periodMs, burst } = shape;
    if (!(rate > 0 && Number.isFinite(rate))) throw new RangeError(`rate must be > 0, got ${rate}`);
    if (!(periodMs > 0 && Number.isFinite(periodMs))) throw new RangeError(`periodMs must be > 0, got ${periodMs}`);
    if (!(Number.isInteger(burst) && burst >= 1)) throw new RangeError(`burst must be an integer >= 1, got ${burst}`);
    this.intervalMs = periodMs / rate;
    this.toleranceMs = this.intervalMs * burst;
  }

  take(tat: number, now: number, out: Verdict): number {
    const base = tat > now ? tat : now;
    const next = base + this.intervalMs;
    const allowAt = next - this.toleranceMs;
    if (now < allowAt) {
      out.allowed = false;
      out.remaining = 0;
      out.retryAfterMs = allowAt - now;
      out.resetMs = base - now;
      return tat;
    }
    out.allowed = true;
    // Requests that would still fit after this one; the float slack keeps 2.9999999 from reading as 2.
    out.remaining = Math.floor((this.toleranceMs - (next - now)) / this.intervalMs + 1e-9);
    out.retryAfterMs = 0;
    out.resetMs = next - now;
    return next;
  }

  /** Whether a stored TAT has no effect any more at `now` (the key may be forgotten). */
  idle(tat: number, now: number): boolean { return tat <= now; }
}
