import type { Endpoint } from '../endpoint.js';
import type { Balancer, BalancerFactory, BalancerOptions, PickContext } from './types.js';
import { emptyBalancer } from './common.js';

/**
 * Plain rotation over the endpoints, ignoring weights.
 *
 * State: `endpoints` is a private copy of the list (the caller's array may be reused); `next` is
 * the index the next pick returns. It starts at a random index (from `opts.random`) rather than 0,
 * as Envoy does, so that many proxies (or many services) rebuilt at the same instant after a
 * reload do not all send their first request to the first backend. After that the order is exact:
 * pick k returns endpoints[(start + k) % n].
 */
class RoundRobin implements Balancer {
  readonly algorithm = 'round-robin';
  private readonly endpoints: readonly Endpoint[];
  private next: number;

  constructor(endpoints: readonly Endpoint[], opts: BalancerOptions) {
    this.endpoints = endpoints.slice();
    this.next = Math.floor(opts.random() * endpoints.length) % endpoints.length;
  }

  pick(_ctx: PickContext): Endpoint | undefined {
    const i = this.next;
    this.next = i + 1 === this.endpoints.length ? 0 : i + 1;
    return this.endpoints[i];
  }
}

/**
 * `round-robin`: endpoints in turn, weights ignored.
 * Inputs: the usable endpoints; `opts.random` chooses the starting index (one call at build).
 * Throws: nothing. Empty list: every pick returns undefined.
 * Complexity: build O(n), pick O(1), no allocation.
 */
export const roundRobin: BalancerFactory = (endpoints, opts) =>
  endpoints.length === 0 ? emptyBalancer('round-robin') : new RoundRobin(endpoints, opts);
