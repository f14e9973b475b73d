import { Registry, collectDefaultMetrics } from 'prom-client';

/** One metric of a process's runtime, as sent over IPC (prom-client's JSON form). */
export interface RuntimeMetric {
  name: string;
  help: string;
  type: string;
  values: { labels: Record<string, string | number>; value: number; metricName?: string }[];
}

/**
 * prom-client's default metrics that are gauges named `_total` (a sum over the labelled series
 * beside them): Prometheus reserves `_total` for counters (`promtool check metrics` flags them),
 * so they are left out; `sum(nodejs_active_handles)` gives the same number.
 */
const GAUGES_NAMED_TOTAL = new Set(['nodejs_active_resources_total', 'nodejs_active_handles_total', 'nodejs_active_requests_total']);

let registry: Registry | undefined;

/** Starts collecting this process's runtime metrics (the event-loop and GC monitors run from now on). Idempotent. */
export function startRuntimeMetrics(): void {
  if (registry !== undefined) return;
  registry = new Registry();
  collectDefaultMetrics({ register: registry });
}

/** Name, help and type of every metric runtimeMetrics() returns (known before any value is). */
export function runtimeMetricInfo(): { name: string; help: string; type: string }[] {
  startRuntimeMetrics();
  return (registry!.getMetricsAsArray() as unknown as { name: string; help: string; type: string }[])
    .filter((m) => !GAUGES_NAMED_TOTAL.has(m.name)).map((m) => ({ name: m.name, help: m.help, type: m.type }));
}

/**
 * This process's runtime metrics under the standard names (process_*, nodejs_*: CPU, memory,
 * file descriptors, event-loop delay, heap, GC). Workers send them to the primary, which labels
 * them by worker (admin/runtime-series.ts).
 */
export async function runtimeMetrics(): Promise<RuntimeMetric[]> {
  startRuntimeMetrics();
  const all = await registry!.getMetricsAsJSON();
  return all.filter((m) => !GAUGES_NAMED_TOTAL.has(m.name)).map((m) => ({
    name: m.name, help: m.help, type: String(m.type),
    values: m.values.map((v) => ({ labels: { ...v.labels } as Record<string, string | number>, value: v.value, metricName: (v as { metricName?: string }).metricName })),
  }));
}
