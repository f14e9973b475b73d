import type { Endpoint } from '../endpoint.js';
import type { Balancer, BalancerFactory, BalancerOptions } from './types.js';
import { roundRobin } from './round-robin.js';
import { weightedRoundRobin } from './weighted-round-robin.js';
import { weightedRandom } from './random.js';
import { leastConnections } from './least-connections.js';
import { p2c } from './p2c.js';
import { ewma } from './ewma.js';
import { ringHash } from './ring-hash.js';
import { maglev } from './maglev.js';
import { boundedLoad } from './bounded-load.js';

export type { Balancer, BalancerFactory, BalancerOptions, PickContext } from './types.js';

/** The algorithm names accepted in config (`balancer.algorithm`). */
export const ALGORITHMS = [
  'round-robin',
  'weighted-round-robin',
  'random',
  'least-connections',
  'p2c',
  'ewma',
  'ring-hash',
  'maglev',
  'bounded-load',
] as const;

export type Algorithm = (typeof ALGORITHMS)[number];

/** Algorithm name -> factory. Hash-based: ring-hash, maglev, bounded-load (they use ctx.hashKey). */
export const balancerFactories: ReadonlyMap<string, BalancerFactory> = new Map<Algorithm, BalancerFactory>([
  ['round-robin', roundRobin],
  ['weighted-round-robin', weightedRoundRobin],
  ['random', weightedRandom],
  ['least-connections', leastConnections],
  ['p2c', p2c],
  ['ewma', ewma],
  ['ring-hash', ringHash],
  ['maglev', maglev],
  ['bounded-load', boundedLoad],
]);

/**
 * Builds the balancer `algorithm` over `endpoints` (the usable ones; the list is copied).
 * Throws: Error for an unknown algorithm name, or whatever the factory throws for invalid options
 * or weights (see each factory). Not hot path.
 */
export function createBalancer(algorithm: string, endpoints: readonly Endpoint[], opts: BalancerOptions): Balancer {
  const factory = balancerFactories.get(algorithm);
  if (factory === undefined) {
    throw new Error(`unknown balancer algorithm "${algorithm}"; expected one of: ${ALGORITHMS.join(', ')}`);
  }
  return factory(endpoints, opts);
}
