import { createHash, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import type { IncomingHttpHeaders } from 'node:http';
import { parseHostPort } from '../config/address.js';
import { isLoopbackHost } from '../config/loopback.js';

/*
 * Who may drive the admin API, decided from a request's method, path and headers alone (pure).
 * Against other web sites in the operator's browser: the Host must be one this listener is known
 * by (DNS rebinding), and a write must come from this origin (CSRF) with a JSON body type (a
 * cross-site form or text/plain post cannot set it, and a cross-site fetch that does is stopped by
 * the CORS preflight this API never answers). Against the network: the token, in the header only.
 */

/** Admin settings the guard applies. */
export interface AdminAccess {
  /** When set, requests need `Authorization: Bearer <token>` (see `open`). */
  token?: string;
  /** Host names accepted besides loopback names, IP literals and the admin address's own host. */
  allowedHosts: readonly string[];
  /** Serve /metrics without the token. */
  publicMetrics: boolean;
}

/** A refused request: the status to answer and why. */
export interface Refusal { status: number; message: string }

/** Paths anyone who reaches the listener may GET: the dashboard page and its assets carry no data. */
export const isPagePath = (path: string) => path === '/' || path === '/dashboard' || path.startsWith('/assets/');

/**
 * Probes anyone who reaches the listener may GET: /healthz (the process answers) and /readyz
 * (ready or not, and why). Kubernetes and load-balancer probes cannot be given a secret without
 * putting it in a pod spec or a health-check config; the answer is one line of state.
 */
export const isProbePath = (path: string) => path === '/healthz' || path === '/readyz';

const digest = (s: string) => createHash('sha256').update(s).digest();

/** Compares in time independent of where (and whether) the strings differ, length included. */
export function tokenMatches(given: string, token: string): boolean {
  return timingSafeEqual(digest(given), digest(token));
}

const HOST = /^(?:\[([0-9a-f:.]+)\]|([a-z0-9._-]+))(?::\d{1,5})?$/i;

/** The host name of a Host header (`[::1]:9901` → `::1`), lower case; undefined when not `name[:port]`. */
function hostName(host: string): string | undefined {
  const m = HOST.exec(host);
  return m === null ? undefined : (m[1] ?? m[2]).toLowerCase();
}

/** A write: anything but a read. */
export const isWrite = (method: string | undefined) => method !== 'GET' && method !== 'HEAD';

/** Decides who may use the admin listener at `address` (its configured `host:port`). */
export class AdminGuard {
  private readonly names: Set<string>;

  constructor(address: string, private readonly access: AdminAccess) {
    const own = parseHostPort(address, true)?.host;
    this.names = new Set([...(own !== undefined ? [own] : []), ...access.allowedHosts].map((h) => h.toLowerCase()));
  }

  /**
   * Whether `Host` names this listener. IP literals always do: a rebinding page runs on the
   * attacker's *name*, and a page whose origin is an IP reaching us was served by us. No Host
   * (HTTP/1.0) is not a browser and passes.
   */
  hostAllowed(host: string | undefined): boolean {
    if (host === undefined) return true;
    const name = hostName(host);
    if (name === undefined) return false;
    return isIP(name) !== 0 || isLoopbackHost(name) || this.names.has(name);
  }

  /** The refusal for this request, or undefined when it may proceed: Host, then Origin (writes), then the token, then the body type (writes). */
  check(method: string | undefined, path: string, h: IncomingHttpHeaders): Refusal | undefined {
    if (!this.hostAllowed(h.host)) {
      return { status: 403, message: `host "${h.host}" is not a name of this admin listener (add it to admin.allowedHosts)` };
    }
    const write = isWrite(method);
    if (write) {
      const origin = h.origin;
      if (origin !== undefined && !sameOrigin(origin, h.host)) return { status: 403, message: `cross-origin request refused (Origin ${origin})` };
      const site = h['sec-fetch-site'];
      if (site === 'cross-site' || site === 'same-site') return { status: 403, message: `cross-origin request refused (Sec-Fetch-Site ${site})` };
    }
    if (!this.authorized(method, path, h.authorization)) return { status: 401, message: 'unauthorized: send Authorization: Bearer <admin.token>' };
    if (write && !isJson(h['content-type'])) return { status: 415, message: 'writes need Content-Type: application/json' };
    return undefined;
  }

  /** True when no token is configured, or `auth` carries it (for answers that say more to its holder). */
  hasToken(auth: string | undefined): boolean {
    const token = this.access.token;
    return token === undefined || (auth !== undefined && auth.startsWith('Bearer ') && tokenMatches(auth.slice(7), token));
  }

  private authorized(method: string | undefined, path: string, auth: string | undefined): boolean {
    const token = this.access.token;
    if (token === undefined) return true;
    if (method === 'GET' && (isPagePath(path) || isProbePath(path) || (path === '/metrics' && this.access.publicMetrics))) return true;
    return this.hasToken(auth);
  }
}

/**
 * True when Origin names the host and port of the Host header (`null` and malformed origins never
 * do). The scheme is not compared: behind a TLS-terminating proxy the page is https while this
 * listener is http, and only this listener serves pages on its host and port.
 */
export function sameOrigin(origin: string, host: string | undefined): boolean {
  if (host === undefined) return false;
  try {
    const o = new URL(origin);
    if (o.protocol !== 'http:' && o.protocol !== 'https:') return false;
    // Host read with the origin's scheme, so a default port written out (`x:80`) still matches.
    return o.host === new URL(`${o.protocol}//${host}`).host;
  } catch { return false; }
}

/** `application/json`, with or without parameters. */
export function isJson(contentType: string | undefined): boolean {
  return contentType !== undefined && contentType.split(';')[0].trim().toLowerCase() === 'application/json';
}
