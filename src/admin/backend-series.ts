/*
 * Bounds the per-backend series of /metrics. With thousands of backends a series per backend
 * made /metrics tens of MB and a scrape take seconds, so a service with more than `max` backends
 * shows `max` of them by name and the rest summed as backend="_other".
 *
 * Which backends get a name: those carrying traffic, the busiest first, as slots are free; a
 * backend keeps its name while it stays in the config (sticky), so a backend never moves back
 * and forth between its own series and `_other`. Moving would make a counter fall (Prometheus
 * reads that as a reset) or make the sum of the series jump. A service with at most `max`
 * backends names them all, exactly as without a bound.
 *
 * Every count is attributed once: `_other` adds what its members counted since the previous
 * update (so it only grows, also when a member leaves the config), and a backend named after
 * it was counted in `_other` starts its own series at 0 from then on. So the named series plus
 * `_other` always add up to what the service's backends counted.
 */

/** One backend's cumulative counters (any fixed layout, the same for every backend and update). */
export interface BackendCounters { key: string; values: readonly number[] }

/** The series to show for one service. */
export interface BoundedSeries {
  named: { key: string; values: number[] }[];
  /** Summed counters of the backends without a name; undefined while the service never had one. */
  other: number[] | undefined;
}

interface ServiceState {
  /** Named backend → counts that were already shown elsewhere (subtracted from its series). */
  named: Map<string, readonly number[]>;
  /** Unnamed backend → its counters as of the last update (already added to `other`). */
  seen: Map<string, readonly number[]>;
  other: number[] | undefined;
}

const minus = (a: readonly number[], b: readonly number[] | undefined) => a.map((v, i) => Math.max(0, v - (b?.[i] ?? 0)));

/** Per-service bookkeeping of which backends have their own series; one per /metrics endpoint. */
export class BackendSeriesLimiter {
  private readonly services = new Map<string, ServiceState>();

  /** `max` named backends per service at most. */
  constructor(private max: number) {}

  /** Changes the bound (a reload); backends already named keep their name, new ones wait for a free slot. */
  setMax(max: number): void { this.max = max; }

  /**
   * The series of `service` given its backends' current cumulative counters, in config order;
   * `rank(values)` orders candidates for a free slot (e.g. requests so far; 0 = no traffic, never
   * named while the service has more than `max` backends). Call once per new stats sample.
   */
  update(service: string, backends: readonly BackendCounters[], rank: (values: readonly number[]) => number): BoundedSeries {
    let st = this.services.get(service);
    if (st === undefined) { st = { named: new Map(), seen: new Map(), other: undefined }; this.services.set(service, st); }
    const present = new Set(backends.map((b) => b.key));
    for (const k of st.named.keys()) if (!present.has(k)) st.named.delete(k);
    for (const k of st.seen.keys()) if (!present.has(k)) st.seen.delete(k);
    const all = backends.length <= this.max;
    const free = this.max - st.named.size;
    if (free > 0) {
      const candidates = backends.filter((b) => !st.named.has(b.key) && (all || rank(b.values) > 0));
      if (!all) candidates.sort((a, b) => rank(b.values) - rank(a.values)); // stable: ties keep config order
      for (const b of candidates.slice(0, free)) {
        st.named.set(b.key, st.seen.get(b.key) ?? []);
        st.seen.delete(b.key);
      }
    }
    const named: BoundedSeries['named'] = [];
    for (const b of backends) {
      const offset = st.named.get(b.key);
      if (offset !== undefined) { named.push({ key: b.key, values: minus(b.values, offset) }); continue; }
      const delta = minus(b.values, st.seen.get(b.key));
      st.other = st.other === undefined ? delta : st.other.map((v, i) => v + delta[i]);
      st.seen.set(b.key, b.values);
    }
    return { named, other: st.other === undefined ? undefined : [...st.other] };
  }

  /** Forgets services no longer configured. */
  retain(services: ReadonlySet<string>): void {
    for (const s of this.services.keys()) if (!services.has(s)) this.services.delete(s);
  }
}
