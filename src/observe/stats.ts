/*
 * Per-worker traffic counters, kept as plain numbers on the hot path (an increment and a bucket
 * search per request) and collected by the primary once a second over IPC, where they become
 * Prometheus metrics, the admin API and the dashboard. prom-client's own metrics would cost a
 * label lookup per observation in every worker plus an IPC round per scrape (AggregatorRegistry);
 * the primary needs these numbers every second anyway. AggregatorRegistry would also sum only the
 * workers alive at the scrape; the primary's runtime/counter-ledger.ts keeps what exited workers
 * counted, so node totals never fall (workers also push their counters every 100 ms).
 */

/** Upper bounds (ms) of the latency buckets; the last bucket is +Inf. */
export const LATENCY_BOUNDS_MS = [1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000] as const;

/** Requests by status class and a latency histogram. Counts only grow. */
export class TrafficStats {
  requests = 0;
  /** Index = status / 100 (1xx..5xx); index 0: no status (connection failed before one). */
  readonly byClass = [0, 0, 0, 0, 0, 0];
  /** Counts per LATENCY_BOUNDS_MS bucket, plus +Inf last. */
  readonly latency = new Array<number>(LATENCY_BOUNDS_MS.length + 1).fill(0);
  latencySumMs = 0;

  record(status: number, ms: number): void {
    this.requests++;
    const c = (status / 100) | 0;
    this.byClass[c >= 1 && c <= 5 ? c : 0]++;
    this.latencySumMs += ms;
    let i = 0;
    while (i < LATENCY_BOUNDS_MS.length && ms > LATENCY_BOUNDS_MS[i]) i++;
    this.latency[i]++;
  }

  snapshot(): TrafficSnapshot {
    return { requests: this.requests, byClass: [...this.byClass], latency: [...this.latency], latencySumMs: this.latencySumMs };
  }
}

export interface TrafficSnapshot { requests: number; byClass: number[]; latency: number[]; latencySumMs: number }

export function emptyTraffic(): TrafficSnapshot {
  return { requests: 0, byClass: [0, 0, 0, 0, 0, 0], latency: new Array<number>(LATENCY_BOUNDS_MS.length + 1).fill(0), latencySumMs: 0 };
}

/** a + b, element-wise (merging workers). */
export function addTraffic(a: TrafficSnapshot, b: TrafficSnapshot): TrafficSnapshot {
  return {
    requests: a.requests + b.requests,
    byClass: a.byClass.map((v, i) => v + (b.byClass[i] ?? 0)),
    latency: a.latency.map((v, i) => v + (b.latency[i] ?? 0)),
    latencySumMs: a.latencySumMs + b.latencySumMs,
  };
}

/** b − a, element-wise (a window between two collections; never negative: a restarted worker resets). */
export function diffTraffic(later: TrafficSnapshot, earlier: TrafficSnapshot): TrafficSnapshot {
  const d = (x: number, y: number) => Math.max(0, x - y);
  return {
    requests: d(later.requests, earlier.requests),
    byClass: later.byClass.map((v, i) => d(v, earlier.byClass[i] ?? 0)),
    latency: later.latency.map((v, i) => d(v, earlier.latency[i] ?? 0)),
    latencySumMs: d(later.latencySumMs, earlier.latencySumMs),
  };
}

/** The q-quantile (0..1) of a bucketed latency distribution, interpolated inside its bucket; undefined when empty. */
export function quantileMs(latency: readonly number[], q: number): number | undefined {
  const total = latency.reduce((s, v) => s + v, 0);
  if (total === 0) return undefined;
  const rank = q * total;
  let seen = 0;
  for (let i = 0; i < latency.length; i++) {
    if (seen + latency[i] >= rank && latency[i] > 0) {
      const lo = i === 0 ? 0 : LATENCY_BOUNDS_MS[i - 1];
      const hi = i < LATENCY_BOUNDS_MS.length ? LATENCY_BOUNDS_MS[i] : LATENCY_BOUNDS_MS[LATENCY_BOUNDS_MS.length - 1] * 2;
      return lo + ((rank - seen) / latency[i]) * (hi - lo);
    }
    seen += latency[i];
  }
  return LATENCY_BOUNDS_MS[LATENCY_BOUNDS_MS.length - 1];
}

/** Service-level counters; kept by name so they survive the reloads that rebuild Service objects. */
export class ServiceCounters {
  /** Downstream: what clients of this service got, total time. */
  readonly traffic = new TrafficStats();
  retries = 0;
  retryBudgetExhausted = 0;
  /** Backup requests sent, and those whose answer was the one relayed. */
  hedges = 0;
  hedgesWon = 0;
  bulkheadRejected = 0;
  degradedStale = 0;
  degradedErrorPage = 0;
  /** Picks made while the panic threshold was crossed (every endpoint considered). */
  panicPicks = 0;
  /** Downstream answers by exact status (index = status, 100..599); index 0: anything else. Bounded: 600 slots. */
  readonly byCode = new Array<number>(600).fill(0);

  /** Counts what the client got: its status class and time (traffic) and its exact code. */
  recordAnswer(status: number, ms: number): void {
    this.traffic.record(status, ms);
    this.byCode[status >= 100 && status <= 599 ? status : 0]++;
  }
}

/** The non-zero entries of a byCode array, keyed by code ('other' for index 0). */
function codesOf(byCode: readonly number[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (let i = 0; i < byCode.length; i++) if (byCode[i] > 0) out[i === 0 ? 'other' : String(i)] = byCode[i];
  return out;
}

export class ListenerCounters {
  accepted = 0;
  active = 0;
  bytesIn = 0;
  bytesOut = 0;
  /** Answers the proxy gave itself before a backend was involved, by code (404, 400, 503 no backend…). */
  readonly proxyErrors: Record<string, number> = {};
  /** Requests matched per route name. */
  readonly routes = new Map<string, number>();
  /** Connections closed at accept by the abuse defences, by reason (denied, blocked, client-connections, client-rate). */
  readonly refused: Record<string, number> = {};
  /** DNS listeners: queries by outcome (answer, nxdomain, formerr, truncated, dropped-rate…). */
  readonly dns: Record<string, number> = {};
  /** Gauge: 1 under the engine that serves this listener in this worker (fast, or node — configured or fallen back to). */
  engines: Record<string, number> = {};
}

/** Per rate limit (by id, e.g. `route:api:per-ip`): decisions, kept across reloads like service counters. */
export class RateLimitCounters {
  /** Requests this limit let through; refused (429); that shadow mode would have refused (forwarded). */
  allowed = 0;
  limited = 0;
  shadowLimited = 0;
  /** Decisions a fleet limit made by its per-process share because Redis was unreachable. */
  fallback = 0;
}

const rateLimits = new Map<string, RateLimitCounters>();

export function rateLimitCounters(id: string): RateLimitCounters {
  let c = rateLimits.get(id);
  if (c === undefined) { c = new RateLimitCounters(); rateLimits.set(id, c); }
  return c;
}

const services = new Map<string, ServiceCounters>();
const listeners = new Map<string, ListenerCounters>();
/** Resilience transitions seen by this worker, keyed `kind\tto` (breaker → open, outlier → ejected…). */
const transitions = new Map<string, number>();
export const tlsHandshakes = { full: 0, resumed: 0 };

export function serviceCounters(name: string): ServiceCounters {
  let c = services.get(name);
  if (c === undefined) { c = new ServiceCounters(); services.set(name, c); }
  return c;
}

export function listenerCounters(name: string): ListenerCounters {
  let c = listeners.get(name);
  if (c === undefined) { c = new ListenerCounters(); listeners.set(name, c); }
  return c;
}

export function countTransition(kind: string, to: string, service: string, backend: string): void {
  const k = `${kind}\t${to}\t${service}\t${backend}`;
  transitions.set(k, (transitions.get(k) ?? 0) + 1);
}

/** Counts a socket's bytes once it closes, and its time as an active connection. */
export function trackConnection(c: ListenerCounters, socket: { bytesRead: number; bytesWritten: number; on(e: 'close', f: () => void): unknown }): void {
  countAccepted(c);
  // `on`, not `once`: a socket emits 'close' once, and `once` costs a wrapper per connection.
  socket.on('close', () => countClosed(c, socket));
}

/** trackConnection's halves, for a listener that already has a 'close' listener of its own to call countClosed from. */
export function countAccepted(c: ListenerCounters): void {
  c.accepted++;
  c.active++;
}

/** See countAccepted: once per accepted connection, when it closed. */
export function countClosed(c: ListenerCounters, socket: { bytesRead: number; bytesWritten: number }): void {
  c.active--;
  c.bytesIn += socket.bytesRead;
  c.bytesOut += socket.bytesWritten;
}

/** A listener's DNS counts as a snapshot field, present only on listeners that answered DNS. */
function dnsOf(c: { dns?: Readonly<Record<string, number>> }): { dns?: Record<string, number> } {
  return c.dns === undefined || Object.keys(c.dns).length === 0 ? {} : { dns: { ...c.dns } };
}

/** A listener's connections refused at accept as a snapshot field, present only once the abuse defences refused one. */
function refusedOf(c: { refused?: Readonly<Record<string, number>> }): { refused?: Record<string, number> } {
  return c.refused === undefined || Object.keys(c.refused).length === 0 ? {} : { refused: { ...c.refused } };
}

/** Everything above as plain data (for IPC to the primary). */
export function countersSnapshot() {
  return {
    services: Object.fromEntries([...services].map(([n, c]) => [n, {
      traffic: c.traffic.snapshot(), retries: c.retries, retryBudgetExhausted: c.retryBudgetExhausted, hedges: c.hedges, hedgesWon: c.hedgesWon, bulkheadRejected: c.bulkheadRejected,
      degradedStale: c.degradedStale, degradedErrorPage: c.degradedErrorPage, panicPicks: c.panicPicks, codes: codesOf(c.byCode),
    }])),
    listeners: Object.fromEntries([...listeners].map(([n, c]) => [n, { accepted: c.accepted, active: c.active, bytesIn: c.bytesIn, bytesOut: c.bytesOut, proxyErrors: { ...c.proxyErrors }, routes: Object.fromEntries(c.routes), engines: { ...c.engines }, ...dnsOf(c), ...refusedOf(c) }])),
    transitions: Object.fromEntries(transitions),
    tls: { ...tlsHandshakes },
    rateLimits: Object.fromEntries([...rateLimits].map(([id, c]) => [id, { ...c }])),
  };
}

export type CountersSnapshot = ReturnType<typeof countersSnapshot>;

export function emptyCounters(): CountersSnapshot {
  return { services: {}, listeners: {}, transitions: {}, tls: { full: 0, resumed: 0 }, rateLimits: {} };
}

/** Adds `c` into `into`, key by key (merging workers; `into` owns no object of `c` afterwards). */
export function addCounters(into: CountersSnapshot, c: CountersSnapshot): void {
  for (const [name, s] of Object.entries(c.services)) {
    const cur = into.services[name];
    if (cur === undefined) { into.services[name] = { ...s, traffic: addTraffic(emptyTraffic(), s.traffic), codes: { ...s.codes } }; continue; }
    cur.traffic = addTraffic(cur.traffic, s.traffic);
    cur.retries += s.retries; cur.retryBudgetExhausted += s.retryBudgetExhausted; cur.hedges += s.hedges; cur.hedgesWon += s.hedgesWon; cur.bulkheadRejected += s.bulkheadRejected;
    cur.degradedStale += s.degradedStale; cur.degradedErrorPage += s.degradedErrorPage; cur.panicPicks += s.panicPicks;
    for (const [k, v] of Object.entries(s.codes ?? {})) cur.codes[k] = (cur.codes[k] ?? 0) + v;
  }
  for (const [name, l] of Object.entries(c.listeners)) {
    const cur = into.listeners[name];
    if (cur === undefined) { into.listeners[name] = { ...l, proxyErrors: { ...l.proxyErrors }, routes: { ...l.routes }, engines: { ...l.engines }, ...dnsOf(l), ...refusedOf(l) }; continue; }
    cur.accepted += l.accepted; cur.active += l.active; cur.bytesIn += l.bytesIn; cur.bytesOut += l.bytesOut;
    for (const [k, v] of Object.entries(l.proxyErrors)) cur.proxyErrors[k] = (cur.proxyErrors[k] ?? 0) + v;
    for (const [k, v] of Object.entries(l.routes)) cur.routes[k] = (cur.routes[k] ?? 0) + v;
    for (const [k, v] of Object.entries(l.engines ?? {})) cur.engines[k] = (cur.engines[k] ?? 0) + v;
    if (l.dns !== undefined) {
      const d = (cur.dns ??= {});
      for (const [k, v] of Object.entries(l.dns)) d[k] = (d[k] ?? 0) + v;
    }
    if (l.refused !== undefined) {
      const r = (cur.refused ??= {});
      for (const [k, v] of Object.entries(l.refused)) r[k] = (r[k] ?? 0) + v;
    }
  }
  for (const [k, v] of Object.entries(c.transitions)) into.transitions[k] = (into.transitions[k] ?? 0) + v;
  for (const [id, r] of Object.entries(c.rateLimits ?? {})) {
    const cur = into.rateLimits[id] ??= { allowed: 0, limited: 0, shadowLimited: 0, fallback: 0 };
    cur.allowed += r.allowed; cur.limited += r.limited; cur.shadowLimited += r.shadowLimited; cur.fallback += r.fallback;
  }
  into.tls.full += c.tls.full;
  into.tls.resumed += c.tls.resumed;
}
