import type { Endpoint } from '../endpoint.js';
import type { Clock } from '../../util/clock.js';
import type { BalancerFactory, BalancerOptions } from './types.js';
import { emptyBalancer } from './common.js';
import { TwoChoices } from './p2c.js';

/** Default EWMA decay time constant (Finagle's default). */
export const DEFAULT_DECAY_MS = 10_000;

/**
 * Cost of an endpoint that has no latency sample yet but already has requests in flight: larger
 * than any real cost, so such an endpoint gets no second request until its first one answers
 * (Finagle's `Penalty`). The in-flight term is added so that among several such endpoints the
 * less loaded one wins.
 */
export const UNSAMPLED_PENALTY = 1e12;

/**
 * Peak-EWMA (Finagle's PeakEwma balancer, also linkerd's): power of two choices where
 *
 *   cost = latency * (inFlight + 1) / weight,
 *   latency = ep.ewmaMs * exp(-(now - ep.ewmaAt) / decayMs)
 *
 * i.e. the peak-sensitive latency average (maintained by Endpoint.end(): a slower sample replaces
 * the average at once, faster ones are blended in) decayed towards 0 for the time since the last
 * sample, exactly as Finagle evaluates its cost with a zero observation at pick time. The decay
 * means an endpoint that was slow and then stopped getting traffic is gradually forgiven and
 * probed again (a 100 ms endpoint competes with 10 ms ones after ~23 s at the default decay),
 * instead of being starved forever on stale data.
 *
 * The balancer only reads ewmaMs/ewmaAt; it does not write the decayed value back. Endpoint
 * state is shared with other snapshots and Endpoint.end() blends new samples from
 * (ewmaMs, ewmaAt) itself, so writing at pick time would change the meaning of that state
 * (and it would make pick a mutating read of shared state). `decayMs` here should equal the
 * value the caller passes to Endpoint.end() (both come from the service's `decay` setting).
 *
 * No samples yet (ewmaMs === 0 and ewmaAt === 0, Endpoint's initial state): cost 0 while idle —
 * a new endpoint is tried at once, one request at a time — and UNSAMPLED_PENALTY + inFlight/w
 * once it has a request outstanding, until that request completes (Finagle's rule). A default
 * latency such as 1 ms or "the lowest known" would instead pile several requests onto an unknown
 * (possibly slow) endpoint, and "the lowest known" would need an O(n) scan or extra tracking.
 * If every endpoint is unsampled (cold start) the penalised costs make this plain P2C on load.
 *
 * Candidates are drawn as in p2c.ts (first weight-proportional, second uniform; ties go to the
 * first). State beyond TwoChoices: the clock and decay constant.
 */
class PeakEwma extends TwoChoices {
  readonly algorithm = 'ewma';
  private readonly clock: Clock;
  private readonly decayMs: number;

  constructor(endpoints: readonly Endpoint[], opts: BalancerOptions, decayMs: number) {
    super('ewma', endpoints, opts);
    this.clock = opts.clock;
    this.decayMs = decayMs;
  }

  protected cost(i: number): number {
    const ep = this.endpoints[i];
    const w = this.weights[i];
    if (ep.ewmaMs === 0 && ep.ewmaAt === 0) {
      return ep.inFlight <= 0 ? 0 : UNSAMPLED_PENALTY + ep.inFlight / w;
    }
    const age = this.clock.now() - ep.ewmaAt;
    const latency = age > 0 ? ep.ewmaMs * Math.exp(-age / this.decayMs) : ep.ewmaMs;
    return (latency * (ep.inFlight + 1)) / w;
  }
}

/**
 * `ewma`: peak-EWMA latency x load, power of two choices (see PeakEwma above).
 * Inputs: the usable endpoints (weights captured at build; ewmaMs, ewmaAt, inFlight read live);
 * `opts.clock` (read twice per pick), `opts.random` (three draws per pick), `opts.decayMs`
 * (default 10000; must match the decay passed to Endpoint.end()).
 * Throws: Error if decayMs is not a finite number > 0, or a weight is not a finite number > 0.
 * Empty list: picks return undefined.
 * Complexity: build O(n), pick O(1) (two exp() calls), no allocation, no observer.
 */
export const ewma: BalancerFactory = (endpoints, opts) => {
  const decayMs = opts.decayMs ?? DEFAULT_DECAY_MS;
  if (!Number.isFinite(decayMs) || decayMs <= 0) {
    throw new Error(`ewma: decayMs must be a finite number > 0, got ${String(decayMs)}`);
  }
  return endpoints.length === 0 ? emptyBalancer('ewma') : new PeakEwma(endpoints, opts, decayMs);
};
