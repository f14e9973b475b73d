import type { Clock } from '../util/clock.js';
import type { Random } from '../util/random.js';

/** A resilience state change, for logs (and later metrics and the admin API). */
export interface ResilienceEvent {
  kind: 'breaker' | 'outlier' | 'health';
  service: string;
  backend: string;
  to: string;
  from?: string;
  reason?: string;
  forMs?: number;
}

/** A hot-spot mitigation (see hotspot/detector.ts `mitigation`). */
export interface Mitigation { boundedLoad: { balanceFactor: number } | null; weightFactors: { backend: string; factor: number }[] }

/** Injected time, randomness and the sink for resilience events of a whole snapshot. */
export interface RuntimeDeps {
  clock: Clock; random: Random; events?: (e: ResilienceEvent) => void; workers?: number;
  /** This node's zone (`start --zone`), for zone-aware balancing; undefined: none. */
  zone?: string;
  /** Switchyard nodes per zone (config `zones.nodes`); undefined: as many in every zone. */
  nodesPerZone?: Readonly<Record<string, number>>;
  /** The fleet's live nodes per zone (member list), shared by every snapshot of the worker; wins over `nodesPerZone`. */
  fleetZones?: { nodes: Readonly<Record<string, number>> | undefined };
}
