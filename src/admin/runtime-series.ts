import type { Registry } from 'prom-client';
import { runtimeMetricInfo, runtimeMetrics } from '../runtime/runtime-metrics.js';
import { addSnapshotMetric, type MetricKind, type Value } from './snapshot-metric.js';
import { RuntimeLedger, type RuntimeAnswer } from './runtime-ledger.js';

/** The workers' runtime metrics by worker slot, and the slots alive (Primary.collectRuntime). */
export type WorkersRuntime = () => Promise<{ answers: Map<number, RuntimeAnswer>; live: Set<number> }>;

/** A scrape reuses one gathering for all its metrics; a later scrape gathers again. */
const FRESH_MS = 500;

/**
 * Registers the standard Node.js runtime metrics (process_*, nodejs_*: CPU, memory, fds,
 * event-loop delay, heap, GC) of the primary and of every worker in `reg`, under their usual
 * names with a `worker` label ("primary", or the worker's slot 1..n, stable across respawns),
 * so stock Node.js dashboards and alerts work per process. Gathered at scrape time: the
 * primary's from prom-client, each worker's by IPC; a worker slow to answer is shown with its
 * last answer, and a slot's counters never fall across respawns (runtime-ledger.ts).
 */
export function registerRuntimeSeries(reg: Registry, workers: WorkersRuntime): void {
  const ledger = new RuntimeLedger();
  let last: { at: number; all: Promise<Map<string, Value[]>> } | undefined;
  const gather = (): Promise<Map<string, Value[]>> => {
    if (last !== undefined && Date.now() - last.at < FRESH_MS) return last.all;
    const all = Promise.all([runtimeMetrics(), workers()]).then(([own, { answers, live }]) => {
      const bySlot = new Map<string, RuntimeAnswer>([['primary', { pid: process.pid, metrics: own }]]);
      for (const [slot, a] of [...answers].sort((x, y) => x[0] - y[0])) bySlot.set(String(slot), a);
      ledger.update(bySlot, new Set(['primary', ...[...live].map(String)]));
      return ledger.series();
    });
    last = { at: Date.now(), all };
    return all;
  };
  for (const m of runtimeMetricInfo()) {
    addSnapshotMetric(reg, m.name, m.help, m.type as MetricKind, async () => (await gather()).get(m.name) ?? []);
  }
}
