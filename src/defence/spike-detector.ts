import { LatencyBaseline } from '../scaling/baseline.js';
import { mergeTopKeys } from '../hotspot/top-keys.js';

/*
 * Spike detection (issue 18, item 5; the design's "DDoS attack → traffic spike detection") per
 * route, or per client prefix: each one's request rate per window against a baseline learned the way the
 * auto-scaling latency trigger learns its p99 (scaling/baseline.ts: time-weighted moving average,
 * trusted after a warm-up). A spike is raised when a window's rate is at least `factor` × the
 * baseline and at least `minRate`; it clears once a window falls below `clearFactor` × the
 * baseline or below minRate / 2 — two thresholds, so a rate hovering at the edge does not flap.
 * The baseline does not learn from windows in a spike (a flood must not become normal). Each
 * spike names what made it up: a route's top client prefixes, a prefix's top routes. Pure: the caller
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

/** What a spike is about: a route, or a client prefix. */
export type SpikeKind = 'route' | 'prefix';

/** A part's share of the requests in a window: a client prefix of a route's, a route of a prefix's. */
export interface Share { key: string; share: number }

export interface Spike {
  kind: SpikeKind;
  /** The route's name, or the prefix (`203.0.113.0/24`). */
  key: string;
  /** When it was raised (epoch ms of the window's end), and the latest window's numbers. */
  since: number;
  rate: number;
  baseline: number;
  ratio: number;
  /** Highest ratio seen while active. */
  peakRatio: number;
  /** The route's top client prefixes, or the prefix's top routes (at most 3). */
  top: Share[];
  /** One line for logs and the dashboard: "route search: 9.3× baseline (…), top prefixes 203.0.113.0/24 71%". */
  text: string;
}

export type SpikeChange =
  | { change: 'raised'; spike: Spike }
  | { change: 'cleared'; spike: Spike; activeMs: number };

/** Rates below this are learned as this: the baseline class ignores zeros, and a ratio needs a divisor. */
const FLOOR = 0.01;

interface RouteState {
  start: number;
  startTotal: number;
  prefixes: { key: string; count: number }[][];
  baseline: LatencyBaseline;
  spike?: Spike;
}

const round = (v: number, d = 1) => Math.round(v * 10 ** d) / 10 ** d;

function describe(s: Omit<Spike, 'text'>): string {
  const top = s.top.map((p) => `${p.key} ${Math.round(p.share * 100)}%`).join(', ');
  const how = s.baseline <= FLOOR ? `new (${round(s.rate)} req/s, none before)` : `${round(s.ratio)}× baseline (${round(s.rate)} req/s against ${round(s.baseline)})`;
  return `${s.kind} ${s.key}: ${how}${top === '' ? '' : `, top ${s.kind === 'route' ? 'prefixes' : 'routes'} ${top}`}`;
}

export class SpikeDetector {
  private readonly routes = new Map<string, RouteState>();
  private startedAt: number | undefined;

  /**
   * `kind` names what the keys are. With `newKeysHaveNoBaseline` (client prefixes), a key first
   * seen once the detector itself has run for the warm-up starts with a baseline of zero instead
   * of learning one: a prefix that appears with a flood is a spike, not its own normal. Keys
   * seen during the detector's first warm-up learn theirs (at start every key is new).
   */
  constructor(private o: SpikeOptions, private readonly kind: SpikeKind = 'route', private readonly newKeysHaveNoBaseline = false) {}

  /** New settings; a route's learned baseline is kept unless its time constant or warm-up changed. */
  configure(o: SpikeOptions): void {
    if (o.timeConstantMs !== this.o.timeConstantMs || o.warmupMs !== this.o.warmupMs) {
      for (const r of this.routes.values()) r.baseline = new LatencyBaseline(o.timeConstantMs, o.warmupMs);
    }
    this.o = o;
  }

  /**
   * One collection at `now` (epoch ms): `totals` are the cumulative request counts by key (a key
   * missing is forgotten: a route the config dropped), and `parts` what made up each key's
   * requests since the previous call (a route's top prefixes). Returns the spikes raised and
   * cleared by the windows this call closed.
   */
  observe(now: number, totals: ReadonlyMap<string, number>, parts: ReadonlyMap<string, { key: string; count: number }[]>): SpikeChange[] {
    const out: SpikeChange[] = [];
    this.startedAt ??= now;
    const known = this.newKeysHaveNoBaseline && now - this.startedAt >= this.o.warmupMs;
    for (const [route, total] of totals) {
      let r = this.routes.get(route);
      if (r === undefined) {
        const baseline = new LatencyBaseline(this.o.timeConstantMs, known ? 0 : this.o.warmupMs);
        if (known) baseline.add(FLOOR, 1);
        this.routes.set(route, { start: now, startTotal: total, prefixes: [], baseline });
        continue;
      }
      const p = parts.get(route);
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
      if (r.spike !== undefined) out.push({ change: 'cleared', spike: r.spike, activeMs: now - r.spike.since });
    }
    return out;
  }

  private judge(route: string, r: RouteState, now: number, count: number): SpikeChange | undefined {
    const dt = now - r.start;
    const rate = count / (dt / 1000);
    const baseline = r.baseline.valueMs;
    if (baseline === undefined) { r.baseline.add(Math.max(rate, FLOOR), dt); return undefined; }
    const ratio = rate / Math.max(baseline, FLOOR);
    const top = count === 0 ? [] : mergeTopKeys(r.prefixes, 3).map((k) => ({ key: k.key, share: Math.min(1, round(k.count / count, 2)) }));
    if (r.spike === undefined) {
      if (rate >= this.o.factor * baseline && rate >= this.o.minRate) {
        const s = { kind: this.kind, key: route, since: now, rate: round(rate), baseline: round(baseline, 2), ratio: round(ratio), peakRatio: round(ratio), top };
        r.spike = { ...s, text: describe(s) };
        return { change: 'raised', spike: r.spike };
      }
      r.baseline.add(Math.max(rate, FLOOR), dt);
      return undefined;
    }
    if (rate < this.o.clearFactor * baseline || rate < this.o.minRate / 2) {
      const spike = r.spike;
      r.spike = undefined;
      return { change: 'cleared', spike, activeMs: now - spike.since };
    }
    const s = { ...r.spike, rate: round(rate), ratio: round(ratio), peakRatio: Math.max(r.spike.peakRatio, round(ratio)), top: top.length > 0 ? top : r.spike.top };
    r.spike = { ...s, text: describe(s) };
    return undefined;
  }

  /** The spikes in force, highest ratio first. */
  active(): Spike[] {
    return [...this.routes.values()].flatMap((r) => (r.spike === undefined ? [] : [r.spike])).sort((a, b) => b.ratio - a.ratio);
  }

  /** A key's learned baseline (req/s), undefined while it warms up. */
  baseline(key: string): number | undefined {
    return this.routes.get(key)?.baseline.valueMs;
  }

  /** Keys tracked. */
  get size(): number { return this.routes.size; }
}
