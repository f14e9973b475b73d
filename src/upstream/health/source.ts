import type { Config } from '../../config/schema.js';

/** Active health states by service and backend key (only backends a checker marked unhealthy need be listed). */
export type HealthMap = Record<string, Record<string, boolean>>;

/** Where health changes go: every worker. */
export type HealthBroadcast = (service: string, backend: string, healthy: boolean) => void;

/** Where a node's active health states come from: its own checks, or a fleet checker's. */
export interface HealthSource {
  /** (Re)configures for a new config. */
  apply(config: Config): void;
  /** States to hand a new or reloaded worker. */
  snapshot(): HealthMap;
  stop(): void;
}
