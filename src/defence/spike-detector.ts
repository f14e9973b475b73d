import { LatencyBaseline } from '../scaling/baseline.js';
import { mergeTopKeys } from '../hotspot/top-keys.js';

/*
 * Spike detection per route (issue 18, item 5; the design's "DDoS attack → traffic spike
 * detection"): each route's request rate per window against a baseline learned the way the
 * auto-scaling latency trigger learns its p99 (scaling/baseline.ts: time-weighted moving average,
 * trusted after a warm-up). A spike is raised when a window's rate is at least `factor` × the
 * baseline and at least `minRate`; it clears once a window falls below `clearFactor` × the
 * baseline or below minRate / 2 — two thresholds, so a rate hovering at the edge does not flap.
 * The baseline does not learn from windows in a spike (a flood must not become normal). Each
 * spike names the client prefixes that sent most of the route's requests. Pure: the caller
 * passes the time and the counts; there are no timers.
 */

export interface SpikeOptions {
  windowMs: number;
  factor: number;
  clearFactor: number;
  /** Requests per second below which a route never spikes. */
  minRate: number;
  timeConstantMs: number;
  warmupMs: number;
}

/** A client prefix's share of a route's requests in a window. */
export interface PrefixShare { prefix: string; share: number }

export interface RouteSpike {
  route: string;
  /** When it was raised (epoch ms of the window's end), and the latest window's numbers. */
  since: number;
  rate: number;
  baseline: number;
  ratio: number;
  /** Highest ratio seen while active. */
  peakRatio: number;
  topPrefixes: PrefixShare[];
  /** One line for logs and the dashboard: "route search: 9.3× baseline (…), top prefixes 203.0.113.0/24 71%". */
  text: string;
}

export type SpikeChange =
  | { kind: 'raised'; spike: RouteSpike }
  | { kind: 'cleared'; spike: RouteSpike; activeMs: number };

/** Rates below this are learned as this: the baseline class ignores zeros, and a ratio needs a divisor. */
const FLOOR = 0.01;

interface RouteState {
  start: number;
  startTotal: number;
  prefixes: { key: string; count: number }[][];
  baseline: LatencyBaseline;
  spike?: RouteSpike;
}

const round = (v: number, d = 1) => Math.round(v * 10 ** d) / 10 ** d;

function describe(s: Omit<RouteSpike, 'text'>): string {
  const top = s.topPrefixes.map((p) => `${p.prefix} ${Math.round(p.share * 100)}%`).join(', ');
  return `route ${s.route}: ${round(s.ratio)}× baseline (${round(s.rate)} req/s against ${round(s.baseline)})${top === '' ? '' : `, top prefixes ${top}`}`;
}

export class SpikeDetector {
  private readonly routes = new Map<string, RouteState>();

  constructor(private o: SpikeOptions) {}

  /** New settings; a route's learned baseline is kept unless its time constant or warm-up changed. */
  configure(o: SpikeOptions): void {
    if (o.timeConstantMs !== this.o.timeConstantMs || o.warmupMs !== this.o.warmupMs) {
      for (const r of this.routes.values()) r.baseline = new LatencyBaseline(o.timeConstantMs, o.warmupMs);
    }
    this.o = o;
  }

  /**
   * One collection at `now` (epoch ms): `totals` are the routes' cumulative request counts, and
   * `prefixes` the top client prefixes per route counted since the previous call. Returns the
   * spikes raised and cleared by the windows this call closed.
   */
  observe(now: number, totals: ReadonlyMap<string, number>, prefixes: ReadonlyMap<string, { key: string; count: number }[]>): SpikeChange[] {
    const out: SpikeChange[] = [];
    for (const [route, total] of totals) {
      let r = this.routes.get(route);
      if (r === undefined) {
        this.routes.set(route, { start: now, startTotal: total, prefixes: [], baseline: new LatencyBaseline(this.o.timeConstantMs, this.o.warmupMs) });
        continue;
      }
      const p = prefixes.get(route);
      if (p !== undefined) r.prefixes.push(p);
      if (now - r.start < this.o.windowMs) continue;
      const change = this.judge(route, r, now, Math.max(0, total - r.startTotal));
      if (change !== undefined) out.push(change);
      r = { ...r, start: now, startTotal: total, prefixes: [] };
      this.routes.set(route, r);
    }
    for (const [route, r] of this.routes) {
      if (totals.has(route)) continue;
      this.routes.delete(route); // a route the config dropped
      if (r.spike !== undefined) out.push({ kind: 'cleared', spike: r.spike, activeMs: now - r.spike.since });
    }
    return out;
  }

  private judge(route: string, r: RouteState, now: number, count: number): SpikeChange | undefined {
    const dt = now - r.start;
    const rate = count / (dt / 1000);
    const baseline = r.baseline.valueMs;
    if (baseline === undefined) { r.baseline.add(Math.max(rate, FLOOR), dt); return undefined; }
    const ratio = rate / Math.max(baseline, FLOOR);
    const top = count === 0 ? [] : mergeTopKeys(r.prefixes, 3).map((k) => ({ prefix: k.key, share: Math.min(1, round(k.count / count, 2)) }));
    if (r.spike === undefined) {
      if (rate >= this.o.factor * baseline && rate >= this.o.minRate) {
        const s = { route, since: now, rate: round(rate), baseline: round(baseline, 2), ratio: round(ratio), peakRatio: round(ratio), topPrefixes: top };
        r.spike = { ...s, text: describe(s) };
        return { kind: 'raised', spike: r.spike };
      }
      r.baseline.add(Math.max(rate, FLOOR), dt);
      return undefined;
    }
    if (rate < this.o.clearFactor * baseline || rate < this.o.minRate / 2) {
      const spike = r.spike;
      r.spike = undefined;
      return { kind: 'cleared', spike, activeMs: now - spike.since };
    }
    const s = { ...r.spike, rate: round(rate), ratio: round(ratio), peakRatio: Math.max(r.spike.peakRatio, round(ratio)), topPrefixes: top.length > 0 ? top : r.spike.topPrefixes };
    r.spike = { ...s, text: describe(s) };
    return undefined;
  }

  /** The spikes in force, highest ratio first. */
  active(): RouteSpike[] {
    return [...this.routes.values()].flatMap((r) => (r.spike === undefined ? [] : [r.spike])).sort((a, b) => b.ratio - a.ratio);
  }

  /** A route's learned baseline (req/s), undefined while it warms up. */
  baseline(route: string): number | undefined {
    return this.routes.get(route)?.baseline.valueMs;
  }
}
