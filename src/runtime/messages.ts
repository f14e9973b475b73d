import type { Config } from '../config/schema.js';
import type { CountersSnapshot, TrafficSnapshot } from '../observe/stats.js';
import type { Mitigation } from '../upstream/service.js';
import type { HealthMap } from '../upstream/health/source.js';
import type { TemporaryBlock } from '../defence/access-list.js';
import type { RuntimeMetric } from './runtime-metrics.js';

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
  /** Per route, the heaviest client prefixes since the previous collection (spike detection). */
  prefixes?: Record<string, { key: string; count: number }[]>;
  /** Per rate limit id, the keys it refused most since the last collection (header and cookie values masked). */
  rateLimitTop?: Record<string, { key: string; limited: number }[]>;
}

/** One backend's try counters in a worker (absolute values, not deltas). */
export interface BackendTraffic { service: string; key: string; traffic: TrafficSnapshot }

/** Primary → worker. The config is already validated; the worker builds its own snapshot from it. */

/** What the primary keeps beside the config and hands a worker with every config it commits. */
export interface Overrides {
  health: HealthMap; drains?: DrainMap; mitigations?: Record<string, Mitigation>; regionsDown?: string[]; blocks?: TemporaryBlock[];
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
  /** The temporary blocks in force (the whole list; admin API and spike mitigation). */
  | { type: 'blocks'; blocks: TemporaryBlock[] }
  /** Asked at each /metrics scrape: the worker's process_* and nodejs_* metrics. */
  | { type: 'runtime'; id: number }
  | { type: 'health'; service: string; backend: string; healthy: boolean }
  /** The regions the fleet holds down (GeoDNS answers skip them): the whole set, replacing the last. */
  | { type: 'regions'; down: string[] }
  | { type: 'zone-nodes'; nodes: Record<string, number> }
  /** Tell clients to go (Connection: close, GOAWAY) but keep accepting: the first step of an anycast drain; closeIdle: idle keep-alive connections closed too. */
  | { type: 'go-away'; closeIdle: boolean }
  /** LB nodes in the fleet membership (fleet rate limits fall back to limit ÷ their workers). */
  | { type: 'fleet-size'; nodes: number }
  /** The node's readiness changed (runtime/readiness.ts): what listeners' monitorPath answers. */
  | { type: 'readiness'; ready: boolean; code: string }
  | { type: 'shutdown'; drainMs: number };

/** Worker → primary. */
export type FromWorker =
  | { type: 'hello' }
  | { type: 'prepared'; txn: number; version: number }
  | { type: 'applied'; txn: number; version: number }
  | { type: 'rejected'; txn: number; version: number; error: string }
  /** `bind`: the first config failed because a listener could not bind (see net/listen.ts BindError). */
  | { type: 'fatal'; error: string; bind?: { code: string; listener: string; address: string; errno: string } }
  | { type: 'stats'; id: number; stats: WorkerStats }
  | { type: 'runtime'; id: number; pid: number; metrics: RuntimeMetric[] }
  /** Pushed by the worker between collections and when it stops: every counter, and the backends whose counts moved since its last push. */
  | { type: 'counters'; counters: CountersSnapshot; backends: BackendTraffic[] };
