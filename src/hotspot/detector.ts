import { mergeTopKeys } from './top-keys.js';

/*
 * Hot-spot detection (design chapter "Scalability & Reliability", section "Hot Spot Mitigation":
 * a single backend receives disproportionate traffic, because of a consistent-hash collision,
 * popular content, or a slow backend). Pure state machine: the caller feeds one summary per
 * service per window with the window's end time `now`; there are no timers and no clock reads,
 * so hours of windows replay in milliseconds. The detector never changes a balancer: it returns
 * signals (for the admin API, dashboard and metrics) and, through `mitigation()`, the desired
 * mitigation as data that the caller applies (or not).
 *
 * Two conditions are tracked per backend, each with its own run start:
 *
 * - Traffic skew: share of the window's requests > skew × weight share (the weights the balancer
 *   used). Judged only when the backend's expected count (weight share × requests) is at least
 *   `minExpected`, so a quiet service is not flagged by noise. A backend whose weight share is
 *   at least 1/skew can never be flagged (2 equal backends at skew 2).
 * - Slow backend: its latency (p99, else mean, else p50: the first metric at least two backends
 *   with `minBackendRequests` report) > slowFactor × the median of the other backends' latency,
 *   and at least `minSlowMs` above it. This is raised WITHOUT any traffic skew: least-request
 *   balancers (least-connections, p2c, ewma) send a slow backend less traffic, hashing and
 *   round-robin keep its share, so a slow backend never shows up as a QPS skew. Latency is the
 *   design's detection for this cause ("monitor latency distribution"). The median of the others
 *   (not of the pool) still works with 2 backends, and a backend can only be flagged while most
 *   of its peers are faster, so at most about half the pool is ever flagged.
 *
 * A signal is raised when either condition has held in every window for `forMs`, and clears in
 * the first window where neither condition that raised it holds (re-raising takes `forMs` again,
 * which rate-limits flapping). A gap of more than 2 windows between observations breaks the runs.
 *
 * Cause of a raised signal, first match:
 * 1. hash-key-concentration: the service hashes, the backend is skewed, and its top keys (at most
 *    `maxKeys`) account for at least `keyCoverage` of its excess requests. A slow backend that
 *    is also skewed by a hot key is slow because of the key, so the key wins. → bounded-load.
 * 2. slow-backend: the latency condition held for `forMs`. → reduce-weight.
 * 3. unknown: skewed, not explained by keys (a hashed service: ring imbalance or many warm keys;
 *    otherwise e.g. a backend failing fast attracting a least-request balancer, which outlier
 *    detection handles). → bounded-load when hashed (it caps any backend at c × its fair share),
 *    else nothing automatic.
 * bounded-load is never suggested for a service configured with bounded-load already.
 */

export type HotspotCause = 'hash-key-concentration' | 'slow-backend' | 'unknown';
export type HotspotAction = 'bounded-load' | 'reduce-weight';
export type HotspotMitigateMode = 'off' | HotspotAction;
export type LatencyMetric = 'p99' | 'mean' | 'p50';

/** One backend's numbers for one window. Counts of `topKeys` are per window, like `requests`. */
export interface BackendWindow {
  /** Backend identity (Endpoint.key). */
  key: string;
  /** Weight the balancer used during the window (after any weight mitigation), finite > 0. */
  weight: number;
  /** Requests sent to it in the window, >= 0. */
  requests: number;
  p50Ms?: number;
  p99Ms?: number;
  meanMs?: number;
  /** Heaviest hash keys sent to it in the window (TopKeys.top of a per-backend counter). */
  topKeys?: ReadonlyArray<{ key: string; count: number }>;
}

/** One service's window: its end time and the backends that were pickable during it. */
export interface ServiceWindow {
  /** End of the window, ms on the caller's monotonic clock; must increase. */
  now: number;
  /** The service picks by hash key (ring-hash, maglev, bounded-load). */
  hashed: boolean;
  /** The service is CONFIGURED with bounded-load (not: switched to it by this detector's mitigation). */
  boundedLoad?: boolean;
  backends: readonly BackendWindow[];
}

/** A key's share of the service's requests in the window. */
export interface KeyShare { key: string; count: number; share: number }

export interface HotspotSignal {
  service: string;
  backend: string;
  /** Start of the first window of the run that raised it. */
  since: number;
  /** Window end at which it was raised. */
  raisedAt: number;
  /** The backend's share of the service's requests, and its weight share (latest window). */
  share: number;
  expectedShare: number;
  cause: HotspotCause;
  detail: {
    /** Top keys of the backend (the ones explaining the excess, for hash-key-concentration). */
    keys?: KeyShare[];
    /** The backend's latency against the median of its peers, when measured. */
    latency?: { metric: LatencyMetric; ms: number; poolMedianMs: number; ratio: number };
    /** One line for logs and the dashboard. */
    text: string;
  };
  suggestedMitigation: HotspotAction | null;
}

/** What `observe` changed: a signal raised, or one cleared (with how long it was active). */
export type HotspotChange =
  | { kind: 'raised'; signal: HotspotSignal }
  | { kind: 'cleared'; service: string; backend: string; since: number; activeMs: number };

/**
 * Desired mitigation of one service, as a whole state (apply it, replacing the previous one).
 * `boundedLoad`: pick the service's hashed traffic with bounded-load at this balance factor.
 * `weightFactors`: multiply these backends' configured weights by `factor` (0 < factor < 1);
 * backends not listed keep their weight. Sorted by backend.
 */
export interface HotspotMitigation {
  service: string;
  boundedLoad: { balanceFactor: number } | null;
  weightFactors: Array<{ backend: string; factor: number }>;
}

/**
 * Settings (defaults in `DEFAULT_HOTSPOT`). skew > 1; forMs, windowMs, holdMs >= 0 (windowMs > 0);
 * minExpected, minBackendRequests >= 0; slowFactor > 1; minSlowMs >= 0; keyCoverage in (0, 1];
 * maxKeys integer >= 1; balanceFactor >= 1; weightStep and weightFloor in (0, 1]; restoreStep > 0.
 */
export interface HotspotOptions {
  skew: number;
  forMs: number;
  windowMs: number;
  mitigate: HotspotMitigateMode;
  minExpected: number;
  slowFactor: number;
  minSlowMs: number;
  minBackendRequests: number;
  keyCoverage: number;
  maxKeys: number;
  /** bounded-load mitigation: balance factor c, kept on for `holdMs` after it was last needed. */
  balanceFactor: number;
  holdMs: number;
  /** reduce-weight mitigation: ×weightStep per window while raised, not below weightFloor; +restoreStep per window once not slow. */
  weightStep: number;
  weightFloor: number;
  restoreStep: number;
}

/** Defaults: 2× skew for 1 min over 10 s windows, detection only; slow = 2× the peers' median and 5 ms more. */
export const DEFAULT_HOTSPOT: Readonly<HotspotOptions> = Object.freeze({
  skew: 2, forMs: 60_000, windowMs: 10_000, mitigate: 'off',
  minExpected: 10, slowFactor: 2, minSlowMs: 5, minBackendRequests: 20, keyCoverage: 0.5, maxKeys: 3,
  balanceFactor: 1.25, holdMs: 300_000, weightStep: 0.5, weightFloor: 0.1, restoreStep: 0.1,
});

function validOptions(o: HotspotOptions): HotspotOptions {
  const bad = (name: string, v: unknown) => { throw new RangeError(`hotspot: invalid ${name} ${String(v)}`); };
  const inUnit = (x: number) => x > 0 && x <= 1;
  if (!(o.skew > 1 && Number.isFinite(o.skew))) bad('skew', o.skew);
  if (!(o.forMs >= 0 && o.holdMs >= 0 && o.windowMs > 0)) bad('duration', `${o.forMs}/${o.windowMs}/${o.holdMs}`);
  if (!['off', 'bounded-load', 'reduce-weight'].includes(o.mitigate)) bad('mitigate', o.mitigate);
  if (!(o.minExpected >= 0 && o.minBackendRequests >= 0 && o.minSlowMs >= 0)) bad('minimum', `${o.minExpected}/${o.minBackendRequests}/${o.minSlowMs}`);
  if (!(o.slowFactor > 1)) bad('slowFactor', o.slowFactor);
  if (!inUnit(o.keyCoverage) || !(Number.isInteger(o.maxKeys) && o.maxKeys >= 1)) bad('key settings', `${o.keyCoverage}/${o.maxKeys}`);
  if (!(o.balanceFactor >= 1)) bad('balanceFactor', o.balanceFactor);
  if (!inUnit(o.weightStep) || !inUnit(o.weightFloor) || !(o.restoreStep > 0)) bad('weight settings', `${o.weightStep}/${o.weightFloor}/${o.restoreStep}`);
  return o;
}

interface BackendState {
  skewSince: number | null;
  slowSince: number | null;
  signal: HotspotSignal | null;
  /** Weight multiplier of the reduce-weight mitigation (1: untouched). */
  factor: number;
}

interface ServiceState {
  opts: HotspotOptions;
  last: number | null;
  backends: Map<string, BackendState>;
  /** bounded-load mitigation is on while `last` < this. */
  boundedLoadUntil: number;
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

function median(xs: number[]): number {
  xs.sort((a, b) => a - b);
  const m = xs.length >> 1;
  return xs.length % 2 === 1 ? xs[m] : (xs[m - 1] + xs[m]) / 2;
}

function latencyOf(b: BackendWindow, metric: LatencyMetric): number | undefined {
  const v = metric === 'p99' ? b.p99Ms : metric === 'mean' ? b.meanMs : b.p50Ms;
  return v !== undefined && Number.isFinite(v) && v >= 0 ? v : undefined;
}

/** The first metric that at least two backends with enough requests report. */
function chooseMetric(bs: readonly BackendWindow[], minRequests: number): LatencyMetric | null {
  for (const m of ['p99', 'mean', 'p50'] as const) {
    if (bs.filter((b) => b.requests >= minRequests && b.requests > 0 && latencyOf(b, m) !== undefined).length >= 2) return m;
  }
  return null;
}

/**
 * Hot-spot detector for any number of services (see the file comment for the rules).
 * Not hot path: one `observe` per service per window, O(backends × (log backends + keys)).
 * Per-service settings come from `configure` (defaults: the constructor's, over DEFAULT_HOTSPOT).
 * Throws RangeError on invalid settings, a decreasing `now`, or a weight / request count out of range.
 */
export class HotspotDetector {
  private readonly defaults: HotspotOptions;
  private readonly services = new Map<string, ServiceState>();

  constructor(defaults: Partial<HotspotOptions> = {}) {
    this.defaults = validOptions({ ...DEFAULT_HOTSPOT, ...defaults });
  }

  /** Sets a service's settings (on config load and reload); its runs and signals carry over. */
  configure(service: string, opts: Partial<HotspotOptions> = {}): void {
    const o = validOptions({ ...this.defaults, ...opts });
    const s = this.state(service);
    s.opts = o;
    if (o.mitigate !== 'bounded-load') s.boundedLoadUntil = -Infinity;
    if (o.mitigate !== 'reduce-weight') for (const b of s.backends.values()) b.factor = 1;
  }

  /** Forgets a service (removed from the config). */
  remove(service: string): void {
    this.services.delete(service);
  }

  /** Feeds one window of `service`; returns the signals raised and cleared by it. */
  observe(service: string, w: ServiceWindow): HotspotChange[] {
    const s = this.state(service);
    const o = s.opts;
    if (!Number.isFinite(w.now) || (s.last !== null && w.now <= s.last)) throw new RangeError(`hotspot: ${service}: now ${w.now} does not follow ${String(s.last)}`);
    const contiguous = s.last !== null && w.now - s.last <= 2 * o.windowMs;
    const start = contiguous ? s.last! : w.now - o.windowMs;
    let total = 0;
    let weights = 0;
    for (const b of w.backends) {
      if (!(b.weight > 0 && Number.isFinite(b.weight)) || !(b.requests >= 0)) throw new RangeError(`hotspot: ${service}: backend ${b.key} has weight ${b.weight}, requests ${b.requests}`);
      total += b.requests;
      weights += b.weight;
    }
    const metric = chooseMetric(w.backends, o.minBackendRequests);
    const suggestBounded = w.hashed && w.boundedLoad !== true;
    const changes: HotspotChange[] = [];
    const seen = new Set<string>();
    for (const b of w.backends) {
      seen.add(b.key);
      let st = s.backends.get(b.key);
      if (st === undefined) s.backends.set(b.key, st = { skewSince: null, slowSince: null, signal: null, factor: 1 });
      if (!contiguous) st.skewSince = st.slowSince = null;
      const expected = b.weight / weights;
      const share = total > 0 ? b.requests / total : 0;
      const skewNow = expected * total >= o.minExpected && share > o.skew * expected;
      const lat = metric === null || b.requests < o.minBackendRequests ? undefined : this.latency(w.backends, b, metric, o);
      const slowNow = lat !== undefined && lat.ms > o.slowFactor * lat.poolMedianMs && lat.ms - lat.poolMedianMs >= o.minSlowMs;
      st.skewSince = skewNow ? st.skewSince ?? start : null;
      st.slowSince = slowNow ? st.slowSince ?? start : null;
      const skewFires = st.skewSince !== null && w.now - st.skewSince >= o.forMs;
      const slowFires = st.slowSince !== null && w.now - st.slowSince >= o.forMs;
      if (skewFires || slowFires) {
        const since = Math.min(skewFires ? st.skewSince! : Infinity, slowFires ? st.slowSince! : Infinity);
        const sig = this.signal(service, b, { since, raisedAt: st.signal?.raisedAt ?? w.now, share, expected, total, skewFires, slowFires, lat, hashed: w.hashed, suggestBounded, o });
        if (st.signal === null) changes.push({ kind: 'raised', signal: sig });
        st.signal = sig;
      } else if (st.signal !== null) {
        changes.push({ kind: 'cleared', service, backend: b.key, since: st.signal.since, activeMs: w.now - st.signal.raisedAt });
        st.signal = null;
      }
      if (o.mitigate === 'reduce-weight') {
        // Multiplicative decrease while raised as slow; linear restore once it is not slow, paused while it is.
        if (st.signal?.suggestedMitigation === 'reduce-weight') st.factor = Math.max(o.weightFloor, st.factor * o.weightStep);
        else if (!slowNow) st.factor = Math.min(1, Math.round((st.factor + o.restoreStep) * 1e9) / 1e9); // no 0.9999…
      }
    }
    for (const key of [...s.backends.keys()]) if (!seen.has(key)) s.backends.delete(key);
    if (o.mitigate === 'bounded-load' && suggestBounded) {
      const on = s.last !== null && s.last < s.boundedLoadUntil;
      const asked = [...s.backends.values()].some((b) => b.signal?.suggestedMitigation === 'bounded-load');
      if (asked || (on && this.latentHotKey(w, total, weights, o))) s.boundedLoadUntil = w.now + o.holdMs;
    } else {
      s.boundedLoadUntil = -Infinity;
    }
    s.last = w.now;
    return changes;
  }

  /** Active signals, of one service or of all, ordered by service then backend. */
  signals(service?: string): HotspotSignal[] {
    const out: HotspotSignal[] = [];
    for (const [name, s] of this.services) {
      if (service !== undefined && name !== service) continue;
      for (const b of s.backends.values()) if (b.signal !== null) out.push(b.signal);
    }
    return out.sort((a, b) => (a.service < b.service ? -1 : a.service > b.service ? 1 : a.backend < b.backend ? -1 : a.backend > b.backend ? 1 : 0));
  }

  /**
   * The mitigation `service` should run now, per its `mitigate` setting and the last window:
   * 'off' → none; 'bounded-load' → bounded-load while a hashed service has (or, within `holdMs`,
   * had) a signal suggesting it — and, once on, while a single key is still big enough to skew
   * its backend under plain hashing (bounded-load hides the skew it removes); 'reduce-weight' →
   * factors of slow backends. Unknown service: none. The caller applies it; nothing here does.
   */
  mitigation(service: string): HotspotMitigation {
    const s = this.services.get(service);
    const out: HotspotMitigation = { service, boundedLoad: null, weightFactors: [] };
    if (s === undefined) return out;
    if (s.last !== null && s.last < s.boundedLoadUntil) out.boundedLoad = { balanceFactor: s.opts.balanceFactor };
    for (const [backend, b] of s.backends) if (b.factor < 1) out.weightFactors.push({ backend, factor: b.factor });
    out.weightFactors.sort((a, b) => (a.backend < b.backend ? -1 : 1));
    return out;
  }

  private state(service: string): ServiceState {
    let s = this.services.get(service);
    if (s === undefined) this.services.set(service, s = { opts: this.defaults, last: null, backends: new Map(), boundedLoadUntil: -Infinity });
    return s;
  }

  /** `b`'s latency against the median of the other backends that have enough requests. */
  private latency(bs: readonly BackendWindow[], b: BackendWindow, metric: LatencyMetric, o: HotspotOptions): NonNullable<HotspotSignal['detail']['latency']> | undefined {
    const ms = latencyOf(b, metric);
    const others: number[] = [];
    for (const x of bs) {
      const v = x === b || x.requests < o.minBackendRequests || x.requests === 0 ? undefined : latencyOf(x, metric);
      if (v !== undefined) others.push(v);
    }
    if (ms === undefined || others.length === 0) return undefined;
    const poolMedianMs = median(others);
    return { metric, ms, poolMedianMs, ratio: poolMedianMs > 0 ? ms / poolMedianMs : Infinity };
  }

  /**
   * Whether one key (summed over backends) is still big enough to push the backend owning it
   * over the skew under plain hashing: owner share ≈ e(1 - s) + s > skew × e, i.e.
   * s > (skew - 1) e / (1 - e), taken at the smallest weight share e (the owner is unknown).
   */
  private latentHotKey(w: ServiceWindow, total: number, weights: number, o: HotspotOptions): boolean {
    if (total <= 0 || w.backends.length < 2) return false;
    const [top] = mergeTopKeys(w.backends.map((b) => b.topKeys ?? []), 1);
    if (top === undefined) return false;
    const e = Math.min(...w.backends.map((b) => b.weight / weights));
    return top.count / total > ((o.skew - 1) * e) / (1 - e);
  }

  private signal(service: string, b: BackendWindow, a: {
    since: number; raisedAt: number; share: number; expected: number; total: number; skewFires: boolean; slowFires: boolean;
    lat: HotspotSignal['detail']['latency']; hashed: boolean; suggestBounded: boolean; o: HotspotOptions;
  }): HotspotSignal {
    const { o, total } = a;
    const ranked = [...(b.topKeys ?? [])].sort((x, y) => y.count - x.count).slice(0, o.maxKeys);
    const excess = b.requests - a.expected * total;
    let covered = 0;
    let n = 0;
    while (n < ranked.length && covered < o.keyCoverage * excess) covered += ranked[n++].count;
    const concentrated = a.skewFires && a.hashed && excess > 0 && covered >= o.keyCoverage * excess;
    const keys = (concentrated ? ranked.slice(0, n) : ranked).map((k) => ({ key: k.key, count: k.count, share: total > 0 ? k.count / total : 0 }));
    const cause: HotspotCause = concentrated ? 'hash-key-concentration' : a.slowFires ? 'slow-backend' : 'unknown';
    const suggested: HotspotAction | null = cause === 'slow-backend' ? 'reduce-weight' : a.suggestBounded ? 'bounded-load' : null;
    const traffic = `${pct(a.share)} of requests for a ${pct(a.expected)} weight share`;
    const lat = a.lat === undefined ? '' : `${a.lat.metric} ${a.lat.ms.toFixed(1)}ms vs peers' median ${a.lat.poolMedianMs.toFixed(1)}ms`;
    const text = cause === 'hash-key-concentration'
      ? `${traffic}; hash keys ${keys.map((k) => `"${k.key}" (${pct(k.share)})`).join(', ')} explain the excess`
      : cause === 'slow-backend' ? `${lat}; ${traffic}`
        : `${traffic}, not explained by a few keys${lat === '' ? '' : `; ${lat}`}`;
    return {
      service, backend: b.key, since: a.since, raisedAt: a.raisedAt, share: a.share, expectedShare: a.expected, cause,
      detail: { ...(keys.length > 0 ? { keys } : {}), ...(a.lat !== undefined ? { latency: a.lat } : {}), text },
      suggestedMitigation: suggested,
    };
  }
}
