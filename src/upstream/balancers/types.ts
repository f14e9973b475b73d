import type { Endpoint } from '../endpoint.js';
import type { Clock } from '../../util/clock.js';
import type { Random } from '../../util/random.js';

/** What a pick may look at. `attempt` is 0 for the first try, 1+ for retries. */
export interface PickContext {
  hashKey?: string;
  attempt: number;
  tried?: ReadonlySet<Endpoint>;
}

/**
 * A balancing algorithm built from an immutable endpoint list (the endpoints currently usable).
 * `pick` is on the hot path: O(1) or O(log n), no allocation. It may return an endpoint in
 * `ctx.tried`; the caller (BackendSet) re-picks for retries.
 */
export interface Balancer {
  readonly algorithm: string;
  pick(ctx: PickContext): Endpoint | undefined;
  /** Detach from endpoints (observers) when a newer balancer replaces this one. */
  close?(): void;
}

/** Options every factory receives; algorithm-specific fields are optional with documented defaults. */
export interface BalancerOptions {
  random: Random;
  clock: Clock;
  /** ring-hash / bounded-load: virtual nodes per unit of weight (default 100), ring at least 1024 points. */
  virtualNodes?: number;
  /** maglev: lookup table size, a prime (default 65537). */
  tableSize?: number;
  /** bounded-load: balance factor c (default 1.25). */
  balanceFactor?: number;
  /** ewma: decay time constant in ms (default 10000). */
  decayMs?: number;
}

export type BalancerFactory = (endpoints: readonly Endpoint[], opts: BalancerOptions) => Balancer;
