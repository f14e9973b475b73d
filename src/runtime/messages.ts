import type { Config } from '../config/schema.js';
import type { CountersSnapshot, TrafficSnapshot } from '../observe/stats.js';
import type { Mitigation } from '../upstream/service.js';
import type { HealthMap } from '../upstream/health/source.js';

/** Drain overrides set through the admin API, by service and backend key (they outlive reloads). */
export type DrainMap = Record<string, Record<string, boolean>>;

/** One backend as a worker sees it right now. */
export interface BackendState {
  key: string; weight: number; zone?: string;
  healthy: boolean; ejected: boolean; draining: boolean; breaker: 'closed' | 'open' | 'half-open' | 'off';
  inFlight: number; traffic: TrafficSnapshot;
  /** Heaviest hash keys since the previous collection (hashed services). */
  topKeys?: { key: string; count: number }[];
}

/** What a worker reports when the primary collects stats (about once a second). */
export interface WorkerStats {
  counters: CountersSnapshot;
  services: { name: string; algorithm: string; backends: BackendState[] }[];
  rssBytes: number;
  /** The worker's CPU time so far (user + system), µs. */
  cpuMicros: number;
}

/** One backend's try counters in a worker (absolute values, not deltas). */
export interface BackendTraffic { service: string; key: string; traffic: TrafficSnapshot }

/** Primary → worker. The config is already validated; the worker builds its own snapshot from it. */

/** What the primary keeps beside the config and hands a worker with every config it commits. */
export interface Overrides {
  health: HealthMap; drains?: DrainMap; mitigations?: Record<string, Mitigation>;
  /** The fleet's LB nodes per zone (member list), for zone-aware balancing. */
  zoneNodes?: Record<string, number>;
}

/**
 * A reload is a two-phase commit (see docs/architecture.md, "Reloads"): `prepare` builds the
 * snapshot and opens the new listeners without changing anything live, answered `prepared` or
 * `rejected`; once every worker prepared, `commit` makes it live (answered `applied`), else
 * `abort` disposes of it. `config` is both steps at once: a worker's first config, or one it
 * missed while it was starting. `txn` pairs each answer with its request.
 */
export type ToWorker =
  | ({ type: 'config'; txn: number; version: number; config: Config } & Overrides)
  | { type: 'prepare'; txn: number; version: number; config: Config }
  | ({ type: 'commit'; txn: number } & Overrides)
  | { type: 'abort'; txn: number }
  | { type: 'drain'; service: string; backend: string; draining: boolean }
  | { type: 'mitigate'; service: string; mitigation: Mitigation | null }
  | { type: 'stats'; id: number }
  | { type: 'health'; service: string; backend: string; healthy: boolean }
  | { type: 'zone-nodes'; nodes: Record<string, number> }
  /** Tell clients to go (Connection: close, GOAWAY) but keep accepting: the first step of an anycast drain; closeIdle: idle keep-alive connections closed too. */
  | { type: 'go-away'; closeIdle: boolean }
  | { type: 'shutdown'; drainMs: number };

/** Worker → primary. */
export type FromWorker =
  | { type: 'hello' }
  | { type: 'prepared'; txn: number; version: number }
  | { type: 'applied'; txn: number; version: number }
  | { type: 'rejected'; txn: number; version: number; error: string }
  | { type: 'fatal'; error: string }
  | { type: 'stats'; id: number; stats: WorkerStats }
  /** Pushed by the worker between collections and when it stops: every counter, and the backends whose counts moved since its last push. */
  | { type: 'counters'; counters: CountersSnapshot; backends: BackendTraffic[] };
