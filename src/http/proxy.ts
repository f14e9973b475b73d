import type { RequestLike } from './request-like.js';
import { randomUUID } from 'node:crypto';
import type { SnapshotHolder } from '../snapshot/snapshot.js';
import type { Endpoint } from '../upstream/endpoint.js';
import type { Service } from '../upstream/service.js';
import type { PickContext } from '../upstream/balancers/types.js';
import { scanRequestHeaders, ambiguity, type RequestHead } from './headers.js';
import { normalizePath, routingPath } from '../routing/normalize-path.js';
import type { ProxyErrorCode } from './error-response.js';
import { hashKeyOf } from './hash-key.js';
import { staleKey } from './degrade.js';
import { listenerCounters, type ListenerCounters } from '../observe/stats.js';
import { prefixTap } from '../defence/prefix-tap.js';
import type { RateLimiter } from '../ratelimit/limiter.js';
import { nodeReadiness } from '../observe/node-readiness.js';

export const VIA = '1.1 switchyard';

/** A routed request: what both the plain proxy and the upgrade tunnel need. */
export interface RoutedRequest {
  requestId: string;
  service: Service;
  endpoint: Endpoint;
  /** Normalized path plus the original query, as sent upstream. */
  target: string;
  /** Headers to send upstream (flat), forwarding headers included. */
  headers: string[];
  /** The balancer's hash key for this request (re-picks on retries use it too). */
  hashKey: string | undefined;
  /** The route allows retrying any method. */
  idempotent: boolean;
  /** The route allows hedging (when its service hedges). */
  hedging: boolean;
  /** Key of this request in the stale-response cache ('' when its service keeps no stale copies). */
  staleKey: string;
  /** Name of the route that matched (access log). */
  route: string;
  /** Protocols the route lets an `Upgrade` request switch to. */
  upgrades: ReadonlySet<string>;
  /** The client's address as the socket reports it (rate-limit keys). */
  clientIp: string;
  /** Rate limits this request must pass (admission stage); usually empty. */
  rateLimits: readonly RateLimiter[];
}

/** Why routing did not produce a request to send. */
export interface RouteFailure {
  code: ProxyErrorCode; detail: string; requestId: string;
  /** Set for SWY_NO_BACKEND: the service and stale-cache key, for a degraded answer. */
  service?: Service; staleKey?: string;
}

/** Scratch pick context: pick is synchronous, so one object per worker serves every request. */
const pickCtx: PickContext = { attempt: 0, hashKey: undefined, tried: undefined };

/**
 * Validates, normalizes, routes and picks for one request (shared by HTTP and upgrades).
 * Returns a RouteFailure for a 4xx/5xx the proxy answers itself. Hot path. Counts matched routes
 * and the proxy's own answers per listener.
 */
export function routeRequest(
  holder: SnapshotHolder, listener: string, proto: string, req: RequestLike, keepUpgrade: boolean,
): RoutedRequest | RouteFailure {
  const counters = listenerCounters(listener);
  const r = routeOnce(holder, listener, proto, req, keepUpgrade, counters);
  if ('code' in r) counters.proxyErrors[r.code] = (counters.proxyErrors[r.code] ?? 0) + 1;
  return r;
}

function routeOnce(
  holder: SnapshotHolder, listener: string, proto: string, req: RequestLike, keepUpgrade: boolean, counters: ListenerCounters,
): RoutedRequest | RouteFailure {
  const h: RequestHead = scanRequestHeaders(req.rawHeaders, keepUpgrade);
  const requestId = h.requestId ?? randomUUID();
  const bad = ambiguity(h, req.httpVersionMinor);
  if (bad !== undefined) return { code: 'SWY_BAD_REQUEST', detail: bad, requestId };
  const view = holder.current.listeners.get(listener);
  if (view === undefined) return { code: 'SWY_NO_ROUTE', detail: 'listener removed', requestId };

  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const rawPath = q === -1 ? url : url.slice(0, q);
  const query = q === -1 ? '' : url.slice(q + 1);
  // A fragment is never part of a request target (RFC 9112 §3.2); it could hide dot segments.
  const path = rawPath.indexOf('#') === -1 ? normalizePath(rawPath, view.config.mergeSlashes) : undefined;
  const matchPath = path === undefined ? undefined : routingPath(path);
  if (path === undefined || matchPath === undefined) return { code: 'SWY_BAD_REQUEST', detail: 'invalid request path', requestId };
  // The probe path is the listener's own answer (HAProxy's monitor-uri): never routed nor forwarded.
  if (path === view.config.monitorPath) {
    const r = nodeReadiness();
    return r.ready ? { code: 'SWY_MONITOR_READY', detail: 'ready', requestId } : { code: 'SWY_MONITOR_NOT_READY', detail: `not ready: ${r.code}`, requestId };
  }

  const hostHeader = h.host ?? '';
  const host = hostOnly(hostHeader);
  const route = view.router.match(host, matchPath, req.method!, req);
  if (route === undefined) return { code: 'SWY_NO_ROUTE', detail: `no route for ${host}${path}`, requestId };
  counters.routes.set(route.name, (counters.routes.get(route.name) ?? 0) + 1);
  prefixTap.add(route.name, req.socket.remoteAddress);
  if (route.redirectToHttps !== false && proto === 'http') {
    const port = route.redirectToHttps === true || route.redirectToHttps === 443 ? '' : `:${route.redirectToHttps}`;
    return { code: 'SWY_REDIRECT', detail: `https://${host}${port}${q === -1 ? path : `${path}?${query}`}`, requestId };
  }
  const service = holder.current.services.get(route.service)!;

  pickCtx.hashKey = hashKeyOf(service.hashKey, req, path, query);
  const endpoint = service.pick(pickCtx);
  if (endpoint !== undefined && endpoint.topKeys !== null && pickCtx.hashKey !== undefined) endpoint.topKeys.add(pickCtx.hashKey);
  if (endpoint === undefined) {
    return { code: 'SWY_NO_BACKEND', detail: `no available backend in service ${service.name}`, requestId, service,
      staleKey: staleKey(service, hostHeader, q === -1 ? path : `${path}?${query}`) };
  }

  const headers = h.forward;
  const clientIp = req.socket.remoteAddress ?? '';
  headers.push(
    'x-forwarded-for', h.xForwardedFor === undefined ? clientIp : `${h.xForwardedFor}, ${clientIp}`,
    'x-forwarded-proto', proto,
    'x-forwarded-host', hostHeader,
    'via', VIA,
  );
  if (h.requestId === undefined) headers.push('x-request-id', requestId);
  const target = q === -1 ? path : `${path}?${query}`;
  // The stale-cache key is read only by services that keep stale copies: others skip building it.
  return { requestId, service, endpoint, route: route.name, upgrades: route.upgrades, clientIp, rateLimits: holder.current.routeLimits.get(route)!, target, headers, hashKey: pickCtx.hashKey, idempotent: route.idempotent, hedging: route.hedging,
    staleKey: service.config.degradation.staleCache ? staleKey(service, hostHeader, target) : '' };
}

/** Lower-cased host without port (`Example.com:8080` → `example.com`, `[::1]:80` → `[::1]`). */
function hostOnly(host: string): string {
  const end = host.charCodeAt(0) === 91 ? host.indexOf(']') + 1 : host.indexOf(':');
  return (end <= 0 ? host : host.slice(0, end)).toLowerCase();
}
