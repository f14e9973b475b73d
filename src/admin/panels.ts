import type { Config } from '../config/schema.js';
import type { HealthChange } from '../upstream/health/source.js';
import type { NodeView } from './node-view.js';
import { trafficView, type TrafficView } from './traffic-view.js';
import type { HistoryRow } from './history.js';

/*
 * What the dashboard shows beside the services: traffic per listener and TLS, the routes with
 * their request rates, errors by status and cause, and why each backend last changed health.
 * Also the history rows recorded once a second for its charts.
 */

/** One route as the dashboard lists it: its match in words, its service and listeners, its rate. */
export interface RouteView { name: string; match: string; service: string; listeners: string; rps: number }

/** A route's match in words, e.g. `host api.example.com · path prefix /v1 · GET,POST`. */
export function describeMatch(m: Config['routes'][number]['match']): string {
  const parts: string[] = [];
  if (m.host !== undefined) parts.push(`host ${[m.host].flat().join(',')}`);
  if (m.path !== undefined) parts.push(`path ${Object.entries(m.path).map(([k, v]) => `${k} ${String(v)}`).join(' ')}`);
  if (m.methods !== undefined) parts.push(m.methods.join(','));
  if (m.headers !== undefined) parts.push(`${m.headers.length} header test${m.headers.length === 1 ? '' : 's'}`);
  return parts.length === 0 ? 'everything' : parts.join(' · ');
}

/** The routes in match order, with their request rate summed over the listeners that matched them. */
export function routeViews(config: Config, traffic: TrafficView | undefined): RouteView[] {
  const rps = new Map<string, number>();
  for (const l of traffic?.listeners ?? []) for (const r of l.routes) rps.set(r.name, (rps.get(r.name) ?? 0) + r.rps);
  return config.routes.map((r, i) => {
    const name = r.name ?? `route-${i}`; // the router's default name (routing/router.ts)
    return { name, match: describeMatch(r.match), service: r.service, listeners: r.listeners?.join(',') ?? 'all', rps: Math.round((rps.get(name) ?? 0) * 100) / 100 };
  });
}

/** The panels for one snapshot. */
export function panels(view: NodeView, config: Config, health: Record<string, Record<string, HealthChange>>) {
  const w = view.counterWindow();
  const traffic = w === undefined ? undefined : trafficView(w.first, w.last, w.seconds, config.listeners);
  return { traffic: traffic ?? null, routes: routeViews(config, traffic), health };
}

/**
 * The history rows of one collection at `at` (ms): per service `svc:NAME` → [t, rps, error %,
 * p50, p99]; the node → [t, open connections, new connections/s, TLS handshakes/s].
 */
export function historyRows(view: NodeView, config: Config, at: number): Map<string, HistoryRow> {
  const t = Math.round(at / 1000);
  const rows = new Map<string, HistoryRow>();
  for (const s of view.services()) rows.set(`svc:${s.name}`, [t, s.rps, s.errorRate * 100, s.p50Ms, s.p99Ms]);
  const w = view.counterWindow();
  if (w !== undefined) {
    const tv = trafficView(w.first, w.last, w.seconds, config.listeners);
    const sum = (f: (l: TrafficView['listeners'][number]) => number) => tv.listeners.reduce((a, l) => a + f(l), 0);
    rows.set('node', [t, sum((l) => l.active), Math.round(sum((l) => l.acceptedPerS) * 100) / 100, tv.tls.fullPerS + tv.tls.resumedPerS]);
  }
  return rows;
}
