import { Registry, collectDefaultMetrics } from 'prom-client';
import type { NodeView } from './node-view.js';
import { LATENCY_BOUNDS_MS, type TrafficSnapshot } from '../observe/stats.js';

type Labels = Record<string, string | number>;
interface Value { labels: Labels; value: number; metricName?: string }

/**
 * A metric whose values are read from the node's collected stats at scrape time. The counting
 * happens in the workers (observe/stats.ts); prom-client formats and serves.
 */
class SnapshotMetric {
  readonly aggregator = 'sum';
  constructor(readonly name: string, readonly help: string, readonly type: 'counter' | 'gauge' | 'histogram', private readonly values: () => Value[]) {}
  async get() {
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values: this.values() };
  }
  reset(): void { /* values are recomputed on every scrape */ }
}

const CLASSES = ['none', '1xx', '2xx', '3xx', '4xx', '5xx'];

function histogram(name: string, labels: Labels, t: TrafficSnapshot): Value[] {
  const out: Value[] = [];
  let cumulative = 0;
  LATENCY_BOUNDS_MS.forEach((le, i) => {
    cumulative += t.latency[i];
    out.push({ metricName: `${name}_bucket`, labels: { ...labels, le: le / 1000 }, value: cumulative });
  });
  out.push({ metricName: `${name}_bucket`, labels: { ...labels, le: '+Inf' }, value: t.requests });
  out.push({ metricName: `${name}_sum`, labels, value: t.latencySumMs / 1000 });
  out.push({ metricName: `${name}_count`, labels, value: t.requests });
  return out;
}

export interface MetricsSource {
  view: NodeView;
  configVersion(): number;
  reloads(): { applied: number; rejected: number; unchanged: number };
  /** Extra gauges from signals (hot spots, scaling), name → values. */
  extra?(): { name: string; help: string; values: Value[] }[];
}

/**
 * The node's Prometheus registry: the primary's own process metrics plus everything the workers
 * count, summed over workers. Names follow Prometheus conventions (`_total`, `_seconds`, bytes).
 */
export function createMetrics(src: MetricsSource): Registry {
  const reg = new Registry();
  collectDefaultMetrics({ register: reg, prefix: 'switchyard_primary_' });
  const latest = () => src.view.latest;
  const add = (name: string, help: string, type: 'counter' | 'gauge' | 'histogram', values: () => Value[]) =>
    reg.registerMetric(new SnapshotMetric(name, help, type, values) as never);
  const services = () => Object.entries(latest()?.counters.services ?? {});
  const listeners = () => Object.entries(latest()?.counters.listeners ?? {});
  const backends = () => {
    const last = latest();
    return last === undefined ? [] : [...last.services].flatMap(([service, s]) => [...s.backends.values()].map((b) => ({ service, b })));
  };

  add('switchyard_requests_total', 'Requests answered per service, by status class (downstream)', 'counter',
    () => services().flatMap(([service, s]) => s.traffic.byClass.map((v, i) => ({ labels: { service, code_class: CLASSES[i] }, value: v }))));
  add('switchyard_request_duration_seconds', 'Total time of requests per service, as the client saw it', 'histogram',
    () => services().flatMap(([service, s]) => histogram('switchyard_request_duration_seconds', { service }, s.traffic)));
  add('switchyard_upstream_requests_total', 'Tries sent to each backend, by status class (no status: the connection failed)', 'counter',
    () => backends().flatMap(({ service, b }) => b.traffic.byClass.map((v, i) => ({ labels: { service, backend: b.key, code_class: CLASSES[i] }, value: v }))));
  add('switchyard_upstream_duration_seconds', 'Time of each try at a backend', 'histogram',
    () => backends().flatMap(({ service, b }) => histogram('switchyard_upstream_duration_seconds', { service, backend: b.key }, b.traffic)));
  add('switchyard_route_requests_total', 'Requests matched per listener and route', 'counter',
    () => listeners().flatMap(([listener, l]) => Object.entries(l.routes).map(([route, v]) => ({ labels: { listener, route }, value: v }))));
  add('switchyard_proxy_responses_total', 'Answers the proxy gave itself before reaching a backend (no route, bad request, no backend…), by code', 'counter',
    () => listeners().flatMap(([listener, l]) => Object.entries(l.proxyErrors).map(([code, v]) => ({ labels: { listener, code }, value: v }))));
  add('switchyard_connections_accepted_total', 'Client connections accepted per listener', 'counter',
    () => listeners().map(([listener, l]) => ({ labels: { listener }, value: l.accepted })));
  add('switchyard_active_connections', 'Client connections open per listener', 'gauge',
    () => listeners().map(([listener, l]) => ({ labels: { listener }, value: l.active })));
  add('switchyard_received_bytes_total', 'Bytes read from clients per listener (counted when a connection closes)', 'counter',
    () => listeners().map(([listener, l]) => ({ labels: { listener }, value: l.bytesIn })));
  add('switchyard_sent_bytes_total', 'Bytes written to clients per listener (counted when a connection closes)', 'counter',
    () => listeners().map(([listener, l]) => ({ labels: { listener }, value: l.bytesOut })));
  add('switchyard_active_requests', 'Requests in flight per backend', 'gauge',
    () => backends().map(({ service, b }) => ({ labels: { service, backend: b.key }, value: b.inFlight })));
  add('switchyard_backend_healthy', 'Active health state per backend (1 healthy, 0 unhealthy)', 'gauge',
    () => backends().map(({ service, b }) => ({ labels: { service, backend: b.key }, value: b.health === 'healthy' ? 1 : 0 })));
  add('switchyard_backend_draining', '1 while a backend is draining (config or admin)', 'gauge',
    () => backends().map(({ service, b }) => ({ labels: { service, backend: b.key }, value: b.draining ? 1 : 0 })));
  add('switchyard_backend_ejected', '1 while passive outlier detection ejects a backend', 'gauge',
    () => backends().map(({ service, b }) => ({ labels: { service, backend: b.key }, value: b.ejected ? 1 : 0 })));
  add('switchyard_breaker_state', 'Circuit breaker state per backend (0 closed, 1 half-open, 2 open)', 'gauge',
    () => backends().filter(({ b }) => b.breaker !== 'off').map(({ service, b }) => ({ labels: { service, backend: b.key }, value: b.breaker === 'open' ? 2 : b.breaker === 'half-open' ? 1 : 0 })));
  const transitions = (kind: string) => Object.entries(latest()?.counters.transitions ?? {})
    .map(([k, v]) => ({ parts: k.split('\t'), v })).filter(({ parts }) => parts[0] === kind);
  add('switchyard_breaker_transitions_total', 'Circuit breaker transitions per backend, by new state', 'counter',
    () => transitions('breaker').map(({ parts, v }) => ({ labels: { to: parts[1], service: parts[2], backend: parts[3] }, value: v })));
  add('switchyard_outlier_ejections_total', 'Passive outlier ejections per backend', 'counter',
    () => transitions('outlier').filter(({ parts }) => parts[1] === 'ejected').map(({ parts, v }) => ({ labels: { service: parts[2], backend: parts[3] }, value: v })));
  add('switchyard_retries_total', 'Retries started per service', 'counter',
    () => services().map(([service, s]) => ({ labels: { service }, value: s.retries })));
  add('switchyard_retry_budget_exhausted_total', 'Retries refused because the retry budget was spent', 'counter',
    () => services().map(([service, s]) => ({ labels: { service }, value: s.retryBudgetExhausted })));
  add('switchyard_hedges_total', 'Backup requests (hedges) sent per service, and those that won', 'counter',
    () => services().flatMap(([service, s]) => [
      { labels: { service, result: 'sent' }, value: s.hedges },
      { labels: { service, result: 'won' }, value: s.hedgesWon },
    ]));
  add('switchyard_bulkhead_rejections_total', 'Requests refused by a full bulkhead (503)', 'counter',
    () => services().map(([service, s]) => ({ labels: { service }, value: s.bulkheadRejected })));
  add('switchyard_degraded_responses_total', 'Degraded answers: stale cache copies, error pages, picks in panic mode', 'counter',
    () => services().flatMap(([service, s]) => [
      { labels: { service, kind: 'stale' }, value: s.degradedStale },
      { labels: { service, kind: 'error_page' }, value: s.degradedErrorPage },
      { labels: { service, kind: 'panic' }, value: s.panicPicks },
    ]));
  add('switchyard_tls_handshakes_total', 'TLS handshakes on https listeners, full or resumed', 'counter',
    () => [{ labels: { kind: 'full' }, value: latest()?.counters.tls.full ?? 0 }, { labels: { kind: 'resumed' }, value: latest()?.counters.tls.resumed ?? 0 }]);
  add('switchyard_config_version', 'Config version in force on this node', 'gauge', () => [{ labels: {}, value: src.configVersion() }]);
  add('switchyard_config_reloads_total', 'Config reloads by result', 'counter',
    () => Object.entries(src.reloads()).map(([result, v]) => ({ labels: { result }, value: v })));
  add('switchyard_workers_resident_memory_bytes', 'Resident memory of all workers together', 'gauge', () => [{ labels: {}, value: latest()?.rssBytes ?? 0 }]);
  for (const e of src.extra?.() ?? []) add(e.name, e.help, 'gauge', () => (src.extra?.().find((x) => x.name === e.name)?.values ?? []));
  return reg;
}
