import type { Config } from '../../config/schema.js';

/** Active health states by service and backend key (only backends a checker marked unhealthy need be listed). */
export type HealthMap = Record<string, Record<string, boolean>>;

/** Where health changes go: every worker. */
export type HealthBroadcast = (service: string, backend: string, healthy: boolean) => void;

/** The last health change of one backend: to what, why (the checker's words), when (ms since the epoch). */
export interface HealthChange { healthy: boolean; reason: string; at: number }

/** Where a node's active health states come from: its own checks, or a fleet checker's. */
export interface HealthSource {
  /** (Re)configures for a new config. */
  apply(config: Config): void;
  /** States to hand a new or reloaded worker. */
  snapshot(): HealthMap;
  /** The last change per service and backend, where this source knows why (its own checks do; a fleet checker's states do not say). */
  changes?(): Record<string, Record<string, HealthChange>>;
  stop(): void;
}
