import { addCounters, addTraffic, emptyCounters, emptyTraffic, type CountersSnapshot, type TrafficSnapshot } from '../observe/stats.js';
import type { BackendTraffic, WorkerStats } from './messages.js';

/** What exited workers counted, added to every later sum so that no counter falls when a worker goes. */
export interface RetiredCounters {
  /** Their counters; gauges among them (a listener's `active`) are zero. */
  counters: CountersSnapshot;
  /** Their tries per backend, keyed by `backendId`. */
  backends: Map<string, TrafficSnapshot>;
  cpuMicros: number;
}

/** One collection: the latest stats of every live worker and the retired totals, taken at the same instant. */
export interface Collection { workers: Map<number, WorkerStats>; retired: RetiredCounters }

/** The key of a backend's series across workers. */
export const backendId = (service: string, key: string) => `${service}\t${key}`;

/** A late message from a worker that already exited is ignored; this many exits are remembered for that. */
const REMEMBERED_EXITS = 1024;

interface Entry {
  /** The last full stats it answered, without top keys (those are counted once, by the collection they came in). */
  stats: WorkerStats;
  counters: CountersSnapshot;
  backends: Map<string, TrafficSnapshot>;
}

/**
 * The primary's record of what each worker counted, so that the node's counters only grow: a
 * worker's latest values (full answers and pushes between them, both absolute) stand in for it
 * while it is slow to answer, and when it exits they move into the retired totals, which every
 * later sum includes. Gauges are not kept for exited workers. A backend count lower than the
 * last one (the worker dropped the backend and later re-created it) keeps the last one as retired.
 * Pure: the primary feeds it worker messages and exits.
 */
export class CounterLedger {
  private readonly live = new Map<number, Entry>();
  private readonly gone = new Set<number>();
  private readonly retired: RetiredCounters = { counters: emptyCounters(), backends: new Map(), cpuMicros: 0 };

  /** A worker's full stats (its answer to a collection). */
  report(worker: number, stats: WorkerStats): void {
    if (this.gone.has(worker)) return;
    const e = this.entry(worker);
    e.stats = { ...stats, rateLimitTop: undefined, services: stats.services.map((s) => ({ ...s, backends: s.backends.map((b) => ({ ...b, topKeys: undefined })) })) };
    e.counters = stats.counters;
    for (const s of stats.services) for (const b of s.backends) this.setBackend(e, backendId(s.name, b.key), b.traffic);
  }

  /** Counters a worker pushed between collections: all of its counters, and the backends that moved. */
  push(worker: number, counters: CountersSnapshot, backends: readonly BackendTraffic[]): void {
    if (this.gone.has(worker)) return;
    const e = this.entry(worker);
    e.counters = counters;
    for (const b of backends) this.setBackend(e, backendId(b.service, b.key), b.traffic);
  }

  /** The worker exited: its last counters join the retired totals, its gauges are forgotten. */
  retire(worker: number): void {
    this.gone.add(worker);
    if (this.gone.size > REMEMBERED_EXITS) this.gone.delete(this.gone.values().next().value!);
    const e = this.live.get(worker);
    if (e === undefined) return;
    this.live.delete(worker);
    const listeners = Object.fromEntries(Object.entries(e.counters.listeners).map(([n, l]) => [n, { ...l, active: 0, engines: {} }]));
    addCounters(this.retired.counters, { ...e.counters, listeners });
    for (const [id, t] of e.backends) this.retireBackend(id, t);
    this.retired.cpuMicros += e.stats.cpuMicros;
  }

  /** Every live worker's latest stats (pushed counters applied) and the retired totals, as copies. */
  snapshot(): Collection {
    const workers = new Map<number, WorkerStats>();
    for (const [id, e] of this.live) {
      workers.set(id, {
        ...e.stats, counters: e.counters,
        services: e.stats.services.map((s) => ({ ...s, backends: s.backends.map((b) => ({ ...b, traffic: e.backends.get(backendId(s.name, b.key)) ?? b.traffic })) })),
      });
    }
    const counters = emptyCounters();
    addCounters(counters, this.retired.counters);
    return { workers, retired: { counters, backends: new Map(this.retired.backends), cpuMicros: this.retired.cpuMicros } };
  }

  private entry(worker: number): Entry {
    let e = this.live.get(worker);
    if (e === undefined) {
      e = { stats: { counters: emptyCounters(), services: [], rssBytes: 0, cpuMicros: 0 }, counters: emptyCounters(), backends: new Map() };
      this.live.set(worker, e);
    }
    return e;
  }

  private setBackend(e: Entry, id: string, t: TrafficSnapshot): void {
    const last = e.backends.get(id);
    if (last !== undefined && t.requests < last.requests) this.retireBackend(id, last);
    e.backends.set(id, t);
  }

  private retireBackend(id: string, t: TrafficSnapshot): void {
    this.retired.backends.set(id, addTraffic(this.retired.backends.get(id) ?? emptyTraffic(), t));
  }
}
