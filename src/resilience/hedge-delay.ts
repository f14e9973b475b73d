/*
 * When to send a hedge (backup request): the service's own latency percentile × factor, clamped
 * to [minDelay, maxDelay] — maxDelay until the window holds enough latencies. Recomputed at most
 * every REFRESH_MS, so asking costs a clock read and a comparison.
 */
import type { Clock } from '../util/clock.js';
import { LatencyWindow } from './latency-window.js';

/** Settings of a HedgeDelay (the service's `hedging` block, durations in ms). */
export interface HedgeDelayOptions {
  readonly percentile: number;
  readonly factor: number;
  readonly minDelay: number;
  readonly maxDelay: number;
}

const REFRESH_MS = 100;
const WINDOW_MS = 10_000;

/** The learned hedge delay of one service in one worker: `record` every response head's latency, `delayMs()` per hedgeable request. */
export class HedgeDelay {
  private readonly latencies: LatencyWindow;
  private cached: number;
  private cachedAt = -Infinity;

  constructor(readonly opts: HedgeDelayOptions, private readonly clock: Clock) {
    this.latencies = new LatencyWindow(WINDOW_MS, clock);
    this.cached = opts.maxDelay;
  }

  /** Latency of one try until its response head, ms. */
  record(ms: number): void {
    this.latencies.record(ms);
  }

  /** How long a request waits before it is hedged, ms. */
  delayMs(): number {
    const t = this.clock.now();
    if (t - this.cachedAt < REFRESH_MS) return this.cached;
    this.cachedAt = t;
    const q = this.latencies.quantile(this.opts.percentile / 100);
    const d = q === undefined ? this.opts.maxDelay : q * this.opts.factor;
    this.cached = Math.min(this.opts.maxDelay, Math.max(this.opts.minDelay, d));
    return this.cached;
  }
}

/** How long a try that lost to its hedge may still answer before it counts as slow: twice the hedge delay, at least 50 ms. */
export function verdictMs(service: { hedgeDelay: HedgeDelay | null }): number {
  return Math.max(50, 2 * (service.hedgeDelay?.delayMs() ?? 0));
}

const HEDGEABLE = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Whether a request may get a backup try: a safe method and no body (its service must have hedging on). */
export function isHedgeable(method: string, hasBody: boolean): boolean {
  return !hasBody && HEDGEABLE.has(method);
}
