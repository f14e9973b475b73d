import type { Registry } from 'prom-client';
import { runtimeMetricInfo, runtimeMetrics, type RuntimeMetric } from '../runtime/runtime-metrics.js';
import { addSnapshotMetric, type MetricKind, type Value } from './snapshot-metric.js';

/** The workers' runtime metrics by worker slot (Primary.collectRuntime). */
export type WorkersRuntime = () => Promise<Map<number, RuntimeMetric[]>>;

/** A scrape reuses one gathering for all its metrics; a later scrape gathers again. */
const FRESH_MS = 500;

/**
 * Registers the standard Node.js runtime metrics (process_*, nodejs_*: CPU, memory, fds,
 * event-loop delay, heap, GC) of the primary and of every worker in `reg`, under their usual
 * names with a `worker` label ("primary", or the worker's slot 1..n, stable across respawns),
 * so stock Node.js dashboards and alerts work per process. Gathered at scrape time: the
 * primary's from prom-client, each worker's by IPC (a worker that does not answer in time is
 * missing from that scrape).
 */
export function registerRuntimeSeries(reg: Registry, workers: WorkersRuntime): void {
  let last: { at: number; all: Promise<Map<string, Value[]>> } | undefined;
  const gather = (): Promise<Map<string, Value[]>> => {
    if (last !== undefined && Date.now() - last.at < FRESH_MS) return last.all;
    const all = Promise.all([runtimeMetrics(), workers()]).then(([own, byWorker]) => {
      const out = new Map<string, Value[]>();
      const add = (worker: string, list: RuntimeMetric[]) => {
        for (const m of list) {
          const values = out.get(m.name) ?? [];
          for (const v of m.values) values.push({ ...v, labels: { ...v.labels, worker } });
          out.set(m.name, values);
        }
      };
      add('primary', own);
      for (const [slot, list] of [...byWorker].sort((a, b) => a[0] - b[0])) add(String(slot), list);
      return out;
    });
    last = { at: Date.now(), all };
    return all;
  };
  for (const m of runtimeMetricInfo()) {
    addSnapshotMetric(reg, m.name, m.help, m.type as MetricKind, async () => (await gather()).get(m.name) ?? []);
  }
}
