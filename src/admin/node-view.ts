import type { WorkerStats } from '../runtime/messages.js';
import { backendId, type RetiredCounters } from '../runtime/counter-ledger.js';
import { addCounters, addTraffic, diffTraffic, emptyCounters, emptyTraffic, quantileMs, type CountersSnapshot, type TrafficSnapshot } from '../observe/stats.js';

/** One backend as the admin API shows it (merged over workers). */
export interface BackendView {
  key: string; weight: number; zone?: string;
  health: 'healthy' | 'unhealthy';
  draining: boolean; ejected: boolean; breaker: 'closed' | 'open' | 'half-open' | 'off';
  /** What an operator should read first: draining, unhealthy, ejected, breaker-open or healthy. */
  state: string;
  inFlight: number; requestsTotal: number;
  /** Over the last `windowS` seconds. */
  rps: number; errorRate: number; p50Ms: number | null; p99Ms: number | null;
}

/** Tries sent to the backends of one zone over the window, and their share of the service's. */
export interface ZoneView { zone: string; rps: number; share: number; backends: number }

export interface ServiceView {
  name: string; algorithm: string;
  rps: number; errorRate: number; p50Ms: number | null; p99Ms: number | null; inFlight: number;
  backends: BackendView[];
  /** Share served per backend zone (empty when no backend has a zone; unlabelled ones are zone `none`). */
  zones: ZoneView[];
}

/** The zone label of a backend in views and metrics. */
export const zoneLabel = (zone: string | undefined) => zone ?? 'none';

/** Per-zone rates of `backends` (nothing when none of them has a zone). */
export function zoneViews(backends: readonly Pick<BackendView, 'zone' | 'rps'>[]): ZoneView[] {
  if (backends.every((b) => b.zone === undefined)) return [];
  const by = new Map<string, { rps: number; backends: number }>();
  for (const b of backends) {
    const z = by.get(zoneLabel(b.zone)) ?? { rps: 0, backends: 0 };
    z.rps += b.rps; z.backends++;
    by.set(zoneLabel(b.zone), z);
  }
  const total = [...by.values()].reduce((s, z) => s + z.rps, 0);
  return [...by].sort(([a], [b]) => a.localeCompare(b)).map(([zone, z]) => ({ zone, rps: round(z.rps), share: total === 0 ? 0 : round(z.rps / total, 4), backends: z.backends }));
}

/** Merged worker totals at one instant. */
interface Sample {
  at: number;
  counters: CountersSnapshot;
  services: Map<string, { algorithm: string; traffic: TrafficSnapshot; backends: Map<string, Omit<BackendView, 'rps' | 'errorRate' | 'p50Ms' | 'p99Ms' | 'requestsTotal' | 'state'> & { traffic: TrafficSnapshot }> }>;
  rssBytes: number;
  /** CPU time of the workers and the primary so far, µs. */
  cpuMicros: number;
  /** Per backend, the heaviest hash keys reported by the workers for this collection. */
  topKeys: Map<string, { key: string; count: number }[][]>;
  /** Per route, the heaviest client prefixes each worker reported for this collection. */
  prefixes: Map<string, { key: string; count: number }[][]>;
  /** Per rate limit, the keys it refused in this collection (summed over workers). */
  rateLimitTop: Map<string, Map<string, number>>;
}

/** One rate limit as the admin API shows it: its counters and the keys it refused most over the window. */
export interface RateLimitView { id: string; allowed: number; limited: number; shadowLimited: number; fallback: number; top: { key: string; limited: number }[] }

const worst = (a: BackendView['breaker'], b: BackendView['breaker']) => {
  const rank = { off: 0, closed: 1, 'half-open': 2, open: 3 } as const;
  return rank[a] >= rank[b] ? a : b;
};

/**
 * The node's live view for the admin API, the dashboard and /metrics: worker stats collected
 * about once a second, merged (a backend is ejected/open if any worker says so; counts add up),
 * with rates and latency quantiles over a sliding window of the recent samples.
 */
export class NodeView {
  private samples: Sample[] = [];

  constructor(readonly windowS = 10) {}

  /**
   * Adds one collection (worker id → stats), plus what exited workers counted (`retired`), so
   * that every counter of the node only grows.
   */
  add(at: number, workers: Map<number, WorkerStats>, retired?: RetiredCounters): void {
    const counters = emptyCounters();
    if (retired !== undefined) addCounters(counters, retired.counters);
    const services: Sample['services'] = new Map();
    const own = process.cpuUsage();
    let rssBytes = process.memoryUsage.rss();
    let cpuMicros = own.user + own.system + (retired?.cpuMicros ?? 0);
    const topKeys: Sample['topKeys'] = new Map();
    const prefixes: Sample['prefixes'] = new Map();
    const rateLimitTop: Sample['rateLimitTop'] = new Map();
    for (const w of workers.values()) {
      for (const [route, list] of Object.entries(w.prefixes ?? {})) prefixes.set(route, [...(prefixes.get(route) ?? []), list]);
      for (const [id, list] of Object.entries(w.rateLimitTop ?? {})) {
        const m = rateLimitTop.get(id) ?? new Map<string, number>();
        rateLimitTop.set(id, m);
        for (const k of list) m.set(k.key, (m.get(k.key) ?? 0) + k.limited);
      }
      rssBytes += w.rssBytes;
      cpuMicros += w.cpuMicros;
      addCounters(counters, w.counters);
      for (const s of w.services) {
        let svc = services.get(s.name);
        if (svc === undefined) { svc = { algorithm: s.algorithm, traffic: emptyTraffic(), backends: new Map() }; services.set(s.name, svc); }
        for (const b of s.backends) {
          if (b.topKeys !== undefined && b.topKeys.length > 0) {
            const k = `${s.name}\t${b.key}`;
            topKeys.set(k, [...(topKeys.get(k) ?? []), b.topKeys]);
          }
          const cur = svc.backends.get(b.key);
          if (cur === undefined) {
            svc.backends.set(b.key, { key: b.key, weight: b.weight, zone: b.zone, health: b.healthy ? 'healthy' : 'unhealthy', draining: b.draining,
              ejected: b.ejected, breaker: b.breaker, inFlight: b.inFlight, traffic: b.traffic });
          } else {
            if (!b.healthy) cur.health = 'unhealthy';
            cur.draining ||= b.draining;
            cur.ejected ||= b.ejected;
            cur.breaker = worst(cur.breaker, b.breaker);
            cur.inFlight += b.inFlight;
            cur.traffic = addTraffic(cur.traffic, b.traffic);
          }
        }
      }
    }
    for (const [name, svc] of services) {
      for (const b of svc.backends.values()) {
        const gone = retired?.backends.get(backendId(name, b.key));
        if (gone !== undefined) b.traffic = addTraffic(b.traffic, gone);
      }
      const t = counters.services[name]?.traffic;
      if (t !== undefined) svc.traffic = t;
    }
    this.samples.push({ at, counters, services, rssBytes, cpuMicros, topKeys, prefixes, rateLimitTop });
    while (this.samples.length > 2 && at - this.samples[0].at > this.windowS * 1000) this.samples.shift();
  }

  get latest(): Sample | undefined { return this.samples[this.samples.length - 1]; }

  /** The merged counters at both ends of the window and the seconds between them (undefined before the first collection). */
  counterWindow(): { first: CountersSnapshot; last: CountersSnapshot; seconds: number } | undefined {
    const last = this.latest;
    if (last === undefined) return undefined;
    const first = this.samples[0];
    return { first: first.counters, last: last.counters, seconds: (last.at - first.at) / 1000 };
  }

  /**
   * This node's load for the auto-scaling evaluator: CPU of all its processes as a share of the
   * machine over the window, resident memory as a share of RAM, open client connections against
   * the listeners' limits, and the worst service p99 over the window.
   */
  load(maxConnections: number, cores: number, totalMemBytes: number): { cpuPercent: number; memoryPercent: number; connections: number; maxConnections: number; p99Ms: number | undefined } | undefined {
    const last = this.latest;
    if (last === undefined) return undefined;
    const first = this.samples[0];
    const ms = last.at - first.at;
    const cpuPercent = ms > 0 ? ((last.cpuMicros - first.cpuMicros) / 1000 / ms / cores) * 100 : 0;
    const connections = Object.values(last.counters.listeners).reduce((s, l) => s + l.active, 0);
    const p99s = this.services().map((s) => s.p99Ms).filter((v): v is number => v !== null);
    return {
      cpuPercent: round(Math.max(0, cpuPercent)), memoryPercent: round((last.rssBytes / totalMemBytes) * 100), connections, maxConnections,
      p99Ms: p99s.length === 0 ? undefined : Math.max(...p99s),
    };
  }

  /** Every rate limit's counters (node totals) and its `n` most refused keys over the window. */
  rateLimits(n: number): RateLimitView[] {
    const last = this.latest;
    if (last === undefined) return [];
    return Object.entries(last.counters.rateLimits).map(([id, c]) => {
      const sum = new Map<string, number>();
      for (const s of this.samples) for (const [k, v] of s.rateLimitTop.get(id) ?? []) sum.set(k, (sum.get(k) ?? 0) + v);
      const top = [...sum].sort((a, b) => b[1] - a[1]).slice(0, n).map(([key, limited]) => ({ key, limited }));
      return { id, ...c, top };
    });
  }

  /** Services with rates over the window (needs two samples; zeros before). */
  services(): ServiceView[] {
    const last = this.latest;
    if (last === undefined) return [];
    const first = this.samples[0];
    const seconds = Math.max(0.001, (last.at - first.at) / 1000);
    const rates = (later: TrafficSnapshot, earlier: TrafficSnapshot | undefined) => {
      const d = diffTraffic(later, earlier ?? emptyTraffic());
      const errors = d.byClass[0] + d.byClass[5];
      return {
        rps: first === last ? 0 : round(d.requests / seconds),
        errorRate: d.requests === 0 ? 0 : round(errors / d.requests, 4),
        p50Ms: nullable(quantileMs(d.latency, 0.5)), p99Ms: nullable(quantileMs(d.latency, 0.99)),
      };
    };
    return [...last.services].map(([name, svc]) => {
      const before = first.services.get(name);
      const backends = [...svc.backends.values()].map((b): BackendView => {
        const { traffic, ...rest } = b;
        const state = b.draining ? 'draining' : b.health === 'unhealthy' ? 'unhealthy' : b.ejected ? 'ejected' : b.breaker === 'open' ? 'breaker-open' : 'healthy';
        return { ...rest, state, requestsTotal: traffic.requests, ...rates(traffic, first === last ? traffic : before?.backends.get(b.key)?.traffic) };
      });
      return {
        name, algorithm: svc.algorithm, inFlight: backends.reduce((s, b) => s + b.inFlight, 0),
        ...rates(svc.traffic, first === last ? svc.traffic : before?.traffic), backends, zones: zoneViews(backends),
      };
    });
  }
}

const round = (v: number, digits = 2) => Math.round(v * 10 ** digits) / 10 ** digits;
const nullable = (v: number | undefined) => (v === undefined ? null : round(v));
