import type { IncomingHttpHeaders } from 'node:http';
import type { RouteConfig } from '../config/schema.js';
import { compileLinearRegex } from '../util/linear-regex.js';
import { routingPath } from './normalize-path.js';

/*
 * Routes are tried in config order and the first whose every condition holds wins (like
 * nginx `location` blocks written as a list, Traefik priorities aside). A condition not given
 * always holds. Hosts compare case-insensitively without port; `*.example.com` matches any
 * depth of subdomain but not `example.com` itself. Paths compare against the normalized path.
 */

type PathTest = (path: string) => boolean;
type HeaderTest = (headers: IncomingHttpHeaders) => boolean;

/** Where a route's header tests read the request's headers (a lazy getter on the fast path). */
export interface HeaderSource { readonly headers: IncomingHttpHeaders }

/** A route compiled for matching; `service` is the service name. */
export interface CompiledRoute {
  readonly name: string;
  readonly service: string;
  readonly listeners: ReadonlySet<string> | null;
  readonly idempotent: boolean;
  /** False: requests of this route are never hedged. */
  readonly hedging: boolean;
  readonly redirectToHttps: boolean | number;
  /** Protocols an `Upgrade` request may switch to on this route (lower-case). */
  readonly upgrades: ReadonlySet<string>;
  /** `req.headers` is read only when the route tests headers (building it costs a pass over the head). */
  matches(host: string, path: string, method: string, req: HeaderSource): boolean;
}

function compileHost(hosts: string | string[] | undefined): ((host: string) => boolean) | null {
  if (hosts === undefined) return null;
  const list = (Array.isArray(hosts) ? hosts : [hosts]).map((h) => h.toLowerCase());
  const exact = new Set(list.filter((h) => !h.startsWith('*.')));
  const suffixes = list.filter((h) => h.startsWith('*.')).map((h) => h.slice(1)); // ".example.com"
  return (host) => {
    if (exact.has(host)) return true;
    for (const s of suffixes) if (host.length > s.length && host.endsWith(s)) return true;
    return false;
  };
}

function compilePath(p: RouteConfig['match']['path']): PathTest | null {
  if (p === undefined) return null;
  // Requests are matched on their routing path (normalize-path.ts); a configured path is read the same way.
  if ('prefix' in p) {
    const prefix = routingPath(p.prefix) ?? p.prefix;
    // "/api" matches "/api", "/api/x" and "/api?…" but not "/apix"; "/api/" matches below it.
    if (prefix === '/') return () => true;
    if (prefix.endsWith('/')) return (path) => path.startsWith(prefix);
    return (path) => path.startsWith(prefix) && (path.length === prefix.length || path.charCodeAt(prefix.length) === 47);
  }
  if ('exact' in p) {
    const exact = routingPath(p.exact) ?? p.exact;
    return (path) => path === exact;
  }
  const re = compileLinearRegex(p.regex);
  return (path) => re.test(path);
}

function compileHeaders(list: RouteConfig['match']['headers']): HeaderTest | null {
  if (list === undefined || list.length === 0) return null;
  const tests = list.map((h): HeaderTest => {
    const name = h.name.toLowerCase();
    const value = (headers: IncomingHttpHeaders): string | undefined => {
      const v = headers[name];
      return Array.isArray(v) ? v.join(', ') : v;
    };
    if (h.present !== undefined) return (hs) => (value(hs) !== undefined) === h.present;
    if (h.exact !== undefined) { const e = h.exact; return (hs) => value(hs) === e; }
    if (h.prefix !== undefined) { const p = h.prefix; return (hs) => value(hs)?.startsWith(p) === true; }
    const re = compileLinearRegex(h.regex!);
    return (hs) => { const v = value(hs); return v !== undefined && re.test(v); };
  });
  return (hs) => tests.every((t) => t(hs));
}

/** Compiles a validated route; regexes were checked by the schema and run on RE2 (linear time). */
export function compileRoute(r: RouteConfig, index: number): CompiledRoute {
  const host = compileHost(r.match.host);
  const path = compilePath(r.match.path);
  const methods = r.match.methods ? new Set(r.match.methods) : null;
  const headers = compileHeaders(r.match.headers);
  return {
    name: r.name ?? `route-${index}`,
    service: r.service,
    listeners: r.listeners ? new Set(r.listeners) : null,
    idempotent: r.idempotent,
    hedging: r.hedging !== false,
    redirectToHttps: r.redirectToHttps,
    upgrades: new Set(r.upgrades),
    matches(h, p, m, req) {
      return (host === null || host(h)) && (path === null || path(p)) &&
        (methods === null || methods.has(m)) && (headers === null || headers(req.headers));
    },
  };
}

/** The routes of one listener, in order. `match` is on the hot path. */
export class Router {
  private readonly routes: readonly CompiledRoute[];
  constructor(all: readonly CompiledRoute[], listener: string) {
    this.routes = all.filter((r) => r.listeners === null || r.listeners.has(listener));
  }

  /** First matching route, or undefined (→ 404). `host` is lower-case without port. */
  match(host: string, path: string, method: string, req: HeaderSource): CompiledRoute | undefined {
    for (let i = 0; i < this.routes.length; i++) {
      const r = this.routes[i];
      if (r.matches(host, path, method, req)) return r;
    }
    return undefined;
  }
}
