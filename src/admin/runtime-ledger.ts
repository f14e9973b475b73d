import type { RuntimeMetric } from '../runtime/runtime-metrics.js';
import type { Value } from './snapshot-metric.js';

/** One process's answer: its pid (a new pid in a slot is a new process) and its metrics. */
export interface RuntimeAnswer { pid: number; metrics: RuntimeMetric[] }

interface Slot { pid: number; metrics: RuntimeMetric[]; live: boolean }

/** The key of one series of a metric (its line name and labels). */
const seriesKey = (v: Value, name: string) => `${v.metricName ?? name}\t${JSON.stringify(Object.entries(v.labels).sort(([a], [b]) => a.localeCompare(b)))}`;
const cumulative = (type: string) => type === 'counter' || type === 'histogram';

/**
 * The runtime metrics (process_*, nodejs_*) of each worker slot, kept so that /metrics behaves
 * like the node's own counters (runtime/counter-ledger.ts): a slot's counters and histograms never
 * fall — when a new process takes the slot (a respawn, a rolling restart) what the previous ones
 * counted is carried as an offset — and a slot's last answer stands in while its worker is slow
 * to answer or between its death and its respawn (gauges only while the worker is alive). Pure:
 * fed the answers of each scrape.
 */
export class RuntimeLedger {
  private readonly slots = new Map<string, Slot>();
  /** Per slot, what its exited processes counted, by series. */
  private readonly retired = new Map<string, Map<string, { name: string; value: Value }>>();
  private readonly info = new Map<string, { type: string }>();

  /** A scrape's answers by slot, and the slots whose worker is alive (answered or not). */
  update(answers: ReadonlyMap<string, RuntimeAnswer>, live: ReadonlySet<string>): void {
    for (const [slot, a] of answers) {
      const prev = this.slots.get(slot);
      if (prev !== undefined && prev.pid !== a.pid) this.retire(slot, prev);
      this.slots.set(slot, { pid: a.pid, metrics: a.metrics, live: true });
      for (const m of a.metrics) this.info.set(m.name, { type: m.type });
    }
    for (const [slot, s] of this.slots) if (!answers.has(slot)) s.live = live.has(slot);
  }

  private retire(slot: string, s: Slot): void {
    let r = this.retired.get(slot);
    if (r === undefined) { r = new Map(); this.retired.set(slot, r); }
    for (const m of s.metrics) {
      if (!cumulative(m.type)) continue;
      for (const v of m.values) {
        const k = seriesKey(v, m.name);
        const had = r.get(k);
        r.set(k, { name: m.name, value: { ...v, value: (had?.value.value ?? 0) + v.value } });
      }
    }
  }

  /** Every series by metric name, labelled `worker` = slot; counters and histograms include the slot's retired counts. */
  series(): Map<string, Value[]> {
    const out = new Map<string, Value[]>();
    const push = (name: string, v: Value, worker: string) => {
      const list = out.get(name) ?? [];
      list.push({ ...v, labels: { ...v.labels, worker } });
      out.set(name, list);
    };
    for (const [slot, s] of this.slots) {
      const retired = this.retired.get(slot) ?? new Map<string, { name: string; value: Value }>();
      const seen = new Set<string>();
      for (const m of s.metrics) {
        if (!cumulative(m.type) && !s.live) continue;
        for (const v of m.values) {
          const k = seriesKey(v, m.name);
          seen.add(k);
          push(m.name, cumulative(m.type) ? { ...v, value: v.value + (retired.get(k)?.value.value ?? 0) } : v, slot);
        }
      }
      // Series only the exited processes had (e.g. a GC kind the new one has not run yet).
      for (const [k, r] of retired) if (!seen.has(k)) push(r.name, r.value, slot);
    }
    return out;
  }
}
