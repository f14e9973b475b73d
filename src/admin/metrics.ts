import { Registry } from 'prom-client';
import { zoneLabel, type BackendView, type NodeView } from './node-view.js';
import { LATENCY_BOUNDS_MS, type TrafficSnapshot } from '../observe/stats.js';
import { BackendSeriesLimiter } from './backend-series.js';
import { addSnapshotMetric, type Labels, type MetricKind, type Value } from './snapshot-metric.js';
import { registerRuntimeSeries, type WorkersRuntime } from './runtime-series.js';
import { registerNodeGauges, type NodeGaugesSource } from './node-gauges.js';

const CLASSES = ['none', '1xx', '2xx', '3xx', '4xx', '5xx'];
/** The class of a `codes` key ('200' → '2xx'; 'other': outside 100..599). */
const classOf = (code: string) => (code === 'other' ? 'none' : `${code[0]}xx`);

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

/** Transitions counted per backend, in the order they sit in a backend's counter vector. */
const TRANSITIONS = ['breaker\topen', 'breaker\thalf-open', 'breaker\tclosed', 'outlier\tejected'];
const BUCKETS = LATENCY_BOUNDS_MS.length + 1;

/** A backend's counters as one vector for the limiter: requests by class, latency buckets, latency sum, TRANSITIONS. */
const counterVector = (t: TrafficSnapshot, transitions: readonly number[]) => [...t.byClass, ...t.latency, t.latencySumMs, ...transitions];
const requestsOf = (v: readonly number[]) => v[0] + v[1] + v[2] + v[3] + v[4] + v[5];
function trafficOf(v: readonly number[]): TrafficSnapshot {
  return { requests: requestsOf(v), byClass: v.slice(0, 6), latency: v.slice(6, 6 + BUCKETS), latencySumMs: v[6 + BUCKETS] };
}

/** What the gauges read of a backend's merged live state (node-view.ts). */
type BackendState = Pick<BackendView, 'health' | 'draining' | 'ejected' | 'breaker'>;
/** One backend series set of /metrics: a named backend (with its live state) or a service's `_other`. */
interface BackendRow { service: string; backend: string; traffic: TrafficSnapshot; transitions: number[]; inFlight: number; state?: BackendState }

export interface MetricsSource extends NodeGaugesSource {
  view: NodeView;
  /** The workers' runtime metrics by slot (Primary.collectRuntime). */
  runtime: WorkersRuntime;
  /** metrics.maxBackendSeries of the config in force. */
  maxBackendSeries(): number;
  configVersion(): number;
  reloads(): { applied: number; rejected: number; unchanged: number };
  /** Extra metrics from signals (hot spots, scaling, spikes), name → values; gauges unless `type` says counter. */
  extra?(): { name: string; help: string; type?: MetricKind; values: Value[] }[];
}

/**
 * The node's Prometheus registry: everything the workers count, summed over workers; the
 * runtime metrics (process_*, nodejs_*) of the primary and of each worker, by `worker` label;
 * build info, capacity and certificate gauges. Names follow Prometheus conventions (`_total`
 * on counters only, `_seconds`, `_bytes`); `promtool check metrics` finds nothing to say.
 */
export function createMetrics(src: MetricsSource): Registry {
  const reg = new Registry();
  const latest = () => src.view.latest;
  const add = (name: string, help: string, type: MetricKind, values: () => Value[]) => addSnapshotMetric(reg, name, help, type, values);
  const services = () => Object.entries(latest()?.counters.services ?? {});
  const listeners = () => Object.entries(latest()?.counters.listeners ?? {});
  // Per-backend series are bounded (backend-series.ts); computed once per stats sample, since the
  // limiter's bookkeeping must see each sample once however many metrics and scrapes read it.
  const limiter = new BackendSeriesLimiter(src.maxBackendSeries());
  let memo: { sample: unknown; rows: BackendRow[]; removed: { parts: string[]; v: number }[] } = { sample: undefined, rows: [], removed: [] };
  const backendRows = () => {
    const last = latest();
    if (last === memo.sample) return memo;
    limiter.setMax(src.maxBackendSeries());
    const byBackend = new Map<string, number[]>();
    const removed: { parts: string[]; v: number }[] = [];
    for (const [k, v] of Object.entries(last?.counters.transitions ?? {})) {
      const parts = k.split('\t');
      const i = TRANSITIONS.indexOf(`${parts[0]}\t${parts[1]}`);
      const id = `${parts[2]}\t${parts[3]}`;
      if (i < 0 || !last!.services.get(parts[2])?.backends.has(parts[3])) { removed.push({ parts, v }); continue; }
      if (!byBackend.has(id)) byBackend.set(id, TRANSITIONS.map(() => 0));
      byBackend.get(id)![i] += v;
    }
    const rows: BackendRow[] = [];
    for (const [service, s] of last?.services ?? []) {
      const list = [...s.backends.values()];
      const zero = TRANSITIONS.map(() => 0);
      const series = limiter.update(service, list.map((b) => ({ key: b.key, values: counterVector(b.traffic, byBackend.get(`${service}\t${b.key}`) ?? zero) })), requestsOf);
      const named = new Set<string>();
      for (const n of series.named) {
        named.add(n.key);
        const state = s.backends.get(n.key)!;
        rows.push({ service, backend: n.key, traffic: trafficOf(n.values), transitions: n.values.slice(7 + BUCKETS), inFlight: state.inFlight, state });
      }
      if (series.other !== undefined) {
        const inFlight = list.reduce((t, b) => t + (named.has(b.key) ? 0 : b.inFlight), 0);
        rows.push({ service, backend: '_other', traffic: trafficOf(series.other), transitions: series.other.slice(7 + BUCKETS), inFlight });
      }
    }
    limiter.retain(new Set(last?.services.keys() ?? []));
    memo = { sample: last, rows, removed };
    return memo;
  };
  const backends = () => backendRows().rows;
  const withState = () => backends().filter((r): r is BackendRow & { state: BackendState } => r.state !== undefined);

  add('switchyard_requests_total', 'Requests answered per service, by exact status code and its class (downstream: what clients got); code="other": outside 100-599', 'counter',
    () => services().flatMap(([service, s]) => Object.entries(s.codes ?? {}).map(([code, v]) => ({ labels: { service, code_class: classOf(code), code }, value: v }))));
  add('switchyard_request_duration_seconds', 'Total time of requests per service, as the client saw it', 'histogram',
    () => services().flatMap(([service, s]) => histogram('switchyard_request_duration_seconds', { service }, s.traffic)));
  add('switchyard_upstream_requests_total', 'Tries sent to each backend, by status class (no status: the connection failed); backend="_other": the backends beyond metrics.maxBackendSeries', 'counter',
    () => backends().flatMap(({ service, backend, traffic }) => traffic.byClass.map((v, i) => ({ labels: { service, backend, code_class: CLASSES[i] }, value: v }))));
  add('switchyard_upstream_duration_seconds', 'Time of each try at a backend', 'histogram',
    () => backends().flatMap(({ service, backend, traffic }) => histogram('switchyard_upstream_duration_seconds', { service, backend }, traffic)));
  // Zones are few (not bounded by the backend-series limit): the share served per zone is rate(zone) / rate(service).
  add('switchyard_zone_requests_total', 'Tries sent to the backends of each zone (zone="none": backends without a zone), per service with zoned backends', 'counter',
    () => [...(latest()?.services ?? [])].flatMap(([service, s]) => {
      const list = [...s.backends.values()];
      if (list.every((b) => b.zone === undefined)) return [];
      const by = new Map<string, number>();
      for (const b of list) by.set(zoneLabel(b.zone), (by.get(zoneLabel(b.zone)) ?? 0) + b.traffic.requests);
      return [...by].map(([zone, v]) => ({ labels: { service, zone }, value: v }));
    }));
  add('switchyard_route_requests_total', 'Requests matched per listener and route', 'counter',
    () => listeners().flatMap(([listener, l]) => Object.entries(l.routes).map(([route, v]) => ({ labels: { listener, route }, value: v }))));
  add('switchyard_proxy_responses_total', 'Answers the proxy gave itself before reaching a backend (no route, bad request, no backend…), by code', 'counter',
    () => listeners().flatMap(([listener, l]) => Object.entries(l.proxyErrors).map(([code, v]) => ({ labels: { listener, code }, value: v }))));
  add('switchyard_dns_queries_total', 'DNS listeners: queries by outcome (answer, nodata, nxdomain, refused, formerr, notimp, badvers, truncated; dropped-rate, dropped-size, dropped: no answer sent)', 'counter',
    () => listeners().flatMap(([listener, l]) => Object.entries(l.dns ?? {}).map(([outcome, v]) => ({ labels: { listener, outcome }, value: v }))));
  add('switchyard_connections_accepted_total', 'Client connections accepted per listener', 'counter',
    () => listeners().map(([listener, l]) => ({ labels: { listener }, value: l.accepted })));
  add('switchyard_connections_refused_total', 'Client connections closed at accept by the abuse defences per listener, by reason (denied: access list; blocked: temporary block; client-connections / client-rate: per-client limits)', 'counter',
    () => listeners().flatMap(([listener, l]) => Object.entries(l.refused ?? {}).map(([reason, v]) => ({ labels: { listener, reason }, value: v }))));
  add('switchyard_listener_engine_workers', 'Workers serving each listener, by the engine that serves it (engine="node" on a listener configured fast: it fell back, see the log)', 'gauge',
    () => listeners().flatMap(([listener, l]) => Object.entries(l.engines ?? {}).map(([engine, v]) => ({ labels: { listener, engine }, value: v }))));
  add('switchyard_active_connections', 'Client connections open per listener', 'gauge',
    () => listeners().map(([listener, l]) => ({ labels: { listener }, value: l.active })));
  add('switchyard_received_bytes_total', 'Bytes read from clients per listener (counted when a connection closes)', 'counter',
    () => listeners().map(([listener, l]) => ({ labels: { listener }, value: l.bytesIn })));
  add('switchyard_sent_bytes_total', 'Bytes written to clients per listener (counted when a connection closes)', 'counter',
    () => listeners().map(([listener, l]) => ({ labels: { listener }, value: l.bytesOut })));
  add('switchyard_active_requests', 'Requests in flight per backend', 'gauge',
    () => backends().map(({ service, backend, inFlight }) => ({ labels: { service, backend }, value: inFlight })));
  add('switchyard_backend_healthy', 'Whether a backend may take requests by health: 1 when its active checks pass and passive outlier detection does not eject it, else 0 (draining is switchyard_backend_draining)', 'gauge',
    () => withState().map(({ service, backend, state }) => ({ labels: { service, backend }, value: state.health === 'healthy' && !state.ejected ? 1 : 0 })));
  add('switchyard_backend_draining', '1 while a backend is draining (config or admin)', 'gauge',
    () => withState().map(({ service, backend, state }) => ({ labels: { service, backend }, value: state.draining ? 1 : 0 })));
  add('switchyard_backend_ejected', '1 while passive outlier detection ejects a backend', 'gauge',
    () => withState().map(({ service, backend, state }) => ({ labels: { service, backend }, value: state.ejected ? 1 : 0 })));
  add('switchyard_breaker_state', 'Circuit breaker state per backend (0 closed, 1 half-open, 2 open)', 'gauge',
    () => withState().filter(({ state }) => state.breaker !== 'off').map(({ service, backend, state }) => ({ labels: { service, backend }, value: state.breaker === 'open' ? 2 : state.breaker === 'half-open' ? 1 : 0 })));
  // Transitions of configured backends go through the limiter with their traffic; those of
  // backends no longer configured (or of other kinds) are shown as counted.
  const transitions = (kind: string) => [
    ...backends().flatMap(({ service, backend, transitions: t }) => TRANSITIONS.map((k, i) => ({ parts: [...k.split('\t'), service, backend], v: t[i] })).filter(({ v }) => v > 0)),
    ...backendRows().removed,
  ].filter(({ parts }) => parts[0] === kind);
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
  const rateLimits = () => Object.entries(latest()?.counters.rateLimits ?? {}).map(([id, c]) => ({ limit: id, c }));
  add('switchyard_ratelimit_requests_total', 'Requests decided by each rate limit: allowed, limited (answered 429), shadow_limited (over a shadow limit, forwarded)', 'counter',
    () => rateLimits().flatMap(({ limit, c }) => [
      { labels: { limit, result: 'allowed' }, value: c.allowed },
      { labels: { limit, result: 'limited' }, value: c.limited },
      { labels: { limit, result: 'shadow_limited' }, value: c.shadowLimited },
    ]));
  add('switchyard_ratelimit_fallback_total', 'Decisions of a fleet rate limit made by its per-process share because Redis was unreachable', 'counter',
    () => rateLimits().map(({ limit, c }) => ({ labels: { limit }, value: c.fallback })));
  add('switchyard_tls_handshakes_total', 'TLS handshakes on https listeners, full or resumed', 'counter',
    () => [{ labels: { kind: 'full' }, value: latest()?.counters.tls.full ?? 0 }, { labels: { kind: 'resumed' }, value: latest()?.counters.tls.resumed ?? 0 }]);
  add('switchyard_config_version', 'Config version in force on this node', 'gauge', () => [{ labels: {}, value: src.configVersion() }]);
  add('switchyard_config_reloads_total', 'Config reloads by result', 'counter',
    () => Object.entries(src.reloads()).map(([result, v]) => ({ labels: { result }, value: v })));
  add('switchyard_workers_resident_memory_bytes', 'Resident memory of all workers together', 'gauge', () => [{ labels: {}, value: latest()?.rssBytes ?? 0 }]);
  for (const e of src.extra?.() ?? []) add(e.name, e.help, e.type ?? 'gauge', () => (src.extra?.().find((x) => x.name === e.name)?.values ?? []));
  registerNodeGauges(reg, src);
  registerRuntimeSeries(reg, src.runtime);
  return reg;
}
