import type { Config } from '../config/schema.js';
import type { CountersSnapshot, TrafficSnapshot } from '../observe/stats.js';

/** Drain overrides set through the admin API, by service and backend key (they outlive reloads). */
export type DrainMap = Record<string, Record<string, boolean>>;

/** One backend as a worker sees it right now. */
export interface BackendState {
  key: string; weight: number; zone?: string;
  healthy: boolean; ejected: boolean; draining: boolean; breaker: 'closed' | 'open' | 'half-open' | 'off';
  inFlight: number; traffic: TrafficSnapshot;
}

/** What a worker reports when the primary collects stats (about once a second). */
export interface WorkerStats {
  counters: CountersSnapshot;
  services: { name: string; algorithm: string; backends: BackendState[] }[];
  rssBytes: number;
}

/** Primary → worker. The config is already validated; the worker builds its own snapshot from it. */
/** Active health states by service and backend key (only backends a checker marked unhealthy need be listed). */
export type HealthMap = Record<string, Record<string, boolean>>;

export type ToWorker =
  | { type: 'config'; version: number; config: Config; health: HealthMap; drains?: DrainMap }
  | { type: 'drain'; service: string; backend: string; draining: boolean }
  | { type: 'stats'; id: number }
  | { type: 'health'; service: string; backend: string; healthy: boolean }
  | { type: 'shutdown'; drainMs: number };

/** Worker → primary. */
export type FromWorker =
  | { type: 'hello' }
  | { type: 'applied'; version: number }
  | { type: 'rejected'; version: number; error: string }
  | { type: 'fatal'; error: string }
  | { type: 'stats'; id: number; stats: WorkerStats };
