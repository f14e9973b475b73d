import type { Registry } from 'prom-client';

export type Labels = Record<string, string | number>;
/** One sample of a metric; `metricName` for a histogram's _bucket/_sum/_count lines. */
export interface Value { labels: Labels; value: number; metricName?: string }
export type MetricKind = 'counter' | 'gauge' | 'histogram' | 'summary';

/**
 * A metric whose values are computed at scrape time (from the node's collected stats, the
 * workers' answers, files…): prom-client formats and serves what `values` returns.
 */
class SnapshotMetric {
  readonly aggregator = 'sum';
  constructor(readonly name: string, readonly help: string, readonly type: MetricKind, private readonly values: () => Value[] | Promise<Value[]>) {}
  async get() {
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values: await this.values() };
  }
  reset(): void { /* values are recomputed on every scrape */ }
}

/** Registers a scrape-time metric in `reg`. */
export function addSnapshotMetric(reg: Registry, name: string, help: string, type: MetricKind, values: () => Value[] | Promise<Value[]>): void {
  reg.registerMetric(new SnapshotMetric(name, help, type, values) as never);
}
