import type { CountersSnapshot } from '../observe/stats.js';

/*
 * The dashboard's traffic panels (listeners, TLS, routes, errors by status and cause), computed
 * from the node's merged counters at the two ends of the NodeView window. Counters only grow
 * (runtime/counter-ledger.ts), so a difference is the window's traffic; rates are per second.
 */

/** One listener over the window. Bytes are counted when a connection closes (long-lived ones show at their end). */
export interface ListenerView {
  name: string; address: string; protocol: string;
  active: number; acceptedPerS: number; bytesInPerS: number; bytesOutPerS: number;
  /** Answers the proxy gave itself (no route, bad request, no backend…) by code, over the window. */
  proxyAnswers: Record<string, number>;
  /** Requests matched per route, per second. */
  routes: { name: string; rps: number }[];
}

/** What clients of one service got over the window, by status class, and what the resilience layer did. */
export interface ErrorsView {
  service: string;
  /** Per second; `failed`: no status at all (the connection failed before one). */
  byStatus: { '2xx': number; '3xx': number; '4xx': number; '5xx': number; failed: number };
  /** Answers by exact status code over the window (codes seen only). */
  codes: Record<string, number>;
  /** Counts over the window. */
  causes: { retries: number; retryBudgetExhausted: number; hedges: number; hedgesWon: number; bulkheadRejected: number; degradedStale: number; degradedErrorPage: number; panicPicks: number };
}

export interface TlsView { fullPerS: number; resumedPerS: number; /** resumed ÷ all handshakes in the window; null without any. */ resumption: number | null }

export interface TrafficView { windowS: number; listeners: ListenerView[]; tls: TlsView; errors: ErrorsView[] }

const rate = (later: number, earlier: number | undefined, s: number) => Math.round((Math.max(0, later - (earlier ?? 0)) / s) * 100) / 100;
const delta = (later: number, earlier: number | undefined) => Math.max(0, later - (earlier ?? 0));

/** Per-key differences of two count maps, zero entries left out. */
function deltas(later: Record<string, number>, earlier: Record<string, number> | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(later)) {
    const d = delta(v, earlier?.[k]);
    if (d > 0) out[k] = d;
  }
  return out;
}

/**
 * The traffic panels for counters `first` and `last`, `seconds` apart, and the configured
 * listeners (their order and addresses; a listener without counters yet shows zeros).
 */
export function trafficView(first: CountersSnapshot, last: CountersSnapshot, seconds: number,
  listeners: readonly { name: string; address: string; protocol: string }[]): TrafficView {
  const s = Math.max(0.001, seconds);
  const views = listeners.map((l): ListenerView => {
    const a = last.listeners[l.name];
    const b = first.listeners[l.name];
    if (a === undefined) return { ...l, active: 0, acceptedPerS: 0, bytesInPerS: 0, bytesOutPerS: 0, proxyAnswers: {}, routes: [] };
    return {
      ...l, active: a.active, acceptedPerS: rate(a.accepted, b?.accepted, s), bytesInPerS: rate(a.bytesIn, b?.bytesIn, s), bytesOutPerS: rate(a.bytesOut, b?.bytesOut, s),
      proxyAnswers: deltas(a.proxyErrors, b?.proxyErrors),
      routes: Object.entries(a.routes).map(([name, n]) => ({ name, rps: rate(n, b?.routes[name], s) })),
    };
  });
  const full = delta(last.tls.full, first.tls.full);
  const resumed = delta(last.tls.resumed, first.tls.resumed);
  const errors = Object.entries(last.services).map(([service, c]): ErrorsView => {
    const p = first.services[service];
    const cls = (i: number) => rate(c.traffic.byClass[i] ?? 0, p?.traffic.byClass[i], s);
    return {
      service,
      byStatus: { '2xx': cls(2), '3xx': cls(3), '4xx': cls(4), '5xx': cls(5), failed: cls(0) },
      codes: deltas(c.codes ?? {}, p?.codes),
      causes: {
        retries: delta(c.retries, p?.retries), retryBudgetExhausted: delta(c.retryBudgetExhausted, p?.retryBudgetExhausted),
        hedges: delta(c.hedges, p?.hedges), hedgesWon: delta(c.hedgesWon, p?.hedgesWon), bulkheadRejected: delta(c.bulkheadRejected, p?.bulkheadRejected),
        degradedStale: delta(c.degradedStale, p?.degradedStale), degradedErrorPage: delta(c.degradedErrorPage, p?.degradedErrorPage), panicPicks: delta(c.panicPicks, p?.panicPicks),
      },
    };
  });
  return {
    windowS: Math.round(seconds * 10) / 10, listeners: views, errors,
    tls: { fullPerS: rate(full, 0, s), resumedPerS: rate(resumed, 0, s), resumption: full + resumed === 0 ? null : Math.round((resumed / (full + resumed)) * 1000) / 1000 },
  };
}
