import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestLike } from './request-like.js';
import { randomUUID } from 'node:crypto';
import type { Dispatcher } from 'undici';
import type { Logger } from 'pino';
import type { SnapshotHolder } from '../runtime/snapshot.js';
import type { Endpoint } from '../upstream/endpoint.js';
import type { Service } from '../upstream/service.js';
import type { PickContext } from '../upstream/balancers/types.js';
import type { Clock } from '../util/clock.js';
import { scanRequestHeaders, ambiguity, responseHeaders, type RequestHead } from './headers.js';
import { normalizePath } from './normalize-path.js';
import { hashKeyOf } from './hash-key.js';
import { sendError, ProxyErrors, type ProxyErrorCode } from './error-response.js';
import { logAccess } from '../observe/access-log.js';

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
}

/** Why routing did not produce a request to send. */
export interface RouteFailure { code: ProxyErrorCode; detail: string; requestId: string }

/** Scratch pick context: pick is synchronous, so one object per worker serves every request. */
const pickCtx: PickContext = { attempt: 0, hashKey: undefined, tried: undefined };

/**
 * Validates, normalizes, routes and picks for one request (shared by HTTP and upgrades).
 * Returns a RouteFailure for a 4xx/5xx the proxy answers itself. Hot path.
 */
export function routeRequest(
  holder: SnapshotHolder, listener: string, proto: string, req: RequestLike, keepUpgrade: boolean,
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
  const path = normalizePath(rawPath, view.config.mergeSlashes);
  if (path === undefined) return { code: 'SWY_BAD_REQUEST', detail: 'invalid request path', requestId };

  const hostHeader = h.host ?? '';
  const host = hostOnly(hostHeader);
  const route = view.router.match(host, path, req.method!, req.headers);
  if (route === undefined) return { code: 'SWY_NO_ROUTE', detail: `no route for ${host}${path}`, requestId };
  const service = holder.current.services.get(route.service)!;

  pickCtx.hashKey = hashKeyOf(service.hashKey, req, path, query);
  const endpoint = service.pick(pickCtx);
  if (endpoint === undefined) return { code: 'SWY_NO_BACKEND', detail: `no available backend in service ${service.name}`, requestId };

  const headers = h.forward;
  const clientIp = req.socket.remoteAddress ?? '';
  headers.push(
    'x-forwarded-for', h.xForwardedFor === undefined ? clientIp : `${h.xForwardedFor}, ${clientIp}`,
    'x-forwarded-proto', proto,
    'x-forwarded-host', hostHeader,
    'via', VIA,
  );
  if (h.requestId === undefined) headers.push('x-request-id', requestId);
  return { requestId, service, endpoint, target: q === -1 ? path : `${path}?${query}`, headers };
}

/** Lower-cased host without port (`Example.com:8080` → `example.com`, `[::1]:80` → `[::1]`). */
function hostOnly(host: string): string {
  const end = host.charCodeAt(0) === 91 ? host.indexOf(']') + 1 : host.indexOf(':');
  return (end <= 0 ? host : host.slice(0, end)).toLowerCase();
}

function errorCodeOf(err: Error & { code?: string }): [ProxyErrorCode, string] {
  switch (err.code) {
    case 'UND_ERR_HEADERS_TIMEOUT': return ['SWY_UPSTREAM_TIMEOUT', 'backend did not answer in time'];
    case 'UND_ERR_BODY_TIMEOUT': return ['SWY_UPSTREAM_TIMEOUT', 'backend stalled while sending'];
    case 'ECONNREFUSED': case 'UND_ERR_CONNECT_TIMEOUT': case 'EHOSTUNREACH': case 'ENETUNREACH': case 'EADDRNOTAVAIL':
      return ['SWY_UPSTREAM_CONNECT', 'cannot connect to backend'];
    default: return ['SWY_UPSTREAM_RESET', `backend connection failed (${err.code ?? err.message})`];
  }
}

/**
 * One proxied exchange, as an undici dispatch handler (the raw handler API, so response bytes go
 * straight from undici's parser to the client socket: no intermediate stream or promise).
 * Backpressure: `onData` returns false when the client socket is full; undici pauses reading the
 * backend until `drain` calls `resume`. A client that goes away aborts the upstream request.
 */
class Exchange implements Dispatcher.DispatchHandler {
  private abortUpstream: ((err?: Error) => void) | null = null;
  private resume: (() => void) | null = null;
  private done = false;
  private status = 0;
  private error: string | undefined;
  private readonly started: number;

  constructor(
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
    private readonly routed: RoutedRequest,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly closing: () => boolean,
    private readonly accessLog: boolean,
  ) {
    this.started = clock.now();
    routed.endpoint.begin();
    res.once('close', this.onClientClose);
  }

  private readonly onClientClose = (): void => {
    if (this.done) return;
    if (this.status === 0) { this.status = 499; this.error = 'SWY_CLIENT_CLOSED'; }
    this.finish(null);
    this.abortUpstream?.(new Error('client closed the connection'));
  };

  private readonly onDrain = (): void => { this.resume?.(); };

  /** `ok`: the outcome for breaker and outlier detection (null: the client left, no verdict). */
  private finish(ok: boolean | null): void {
    if (this.done) return;
    this.done = true;
    const ms = this.clock.now() - this.started;
    this.routed.endpoint.end(ms, this.clock);
    if (ok !== null) this.routed.service.recordOutcome(this.routed.endpoint, ok);
    if (this.accessLog) {
      logAccess(this.log, {
        requestId: this.routed.requestId, client: this.req.socket.remoteAddress, method: this.req.method, target: this.routed.target,
        status: this.status, service: this.routed.service.name, backend: this.routed.endpoint.key, ms: Math.round(ms * 10) / 10, error: this.error,
      });
    }
  }

  onConnect(abort: (err?: Error) => void): void {
    if (this.done) { abort(new Error('client closed the connection')); return; }
    this.abortUpstream = abort;
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void, statusText: string): boolean {
    if (this.done) return false;
    this.resume = resume;
    this.status = statusCode;
    const headers = responseHeaders(rawHeaders, VIA);
    if (this.closing()) headers.push('connection', 'close');
    if (statusText) this.res.writeHead(statusCode, statusText, headers);
    else this.res.writeHead(statusCode, headers);
    return true;
  }

  onData(chunk: Buffer): boolean {
    if (this.res.write(chunk)) return true;
    this.res.once('drain', this.onDrain);
    return false;
  }

  onComplete(): void {
    this.finish(this.status < 500);
    this.res.end();
  }

  onError(err: Error): void {
    const wasDone = this.done;
    const [code, detail] = errorCodeOf(err as Error & { code?: string });
    if (this.status === 0) { this.status = ProxyErrors[code].status; this.error = code; }
    this.finish(false);
    if (wasDone || this.res.destroyed) return;
    if (this.res.headersSent) {
      // Mid-response failure: the only honest signal left is to cut the client connection.
      this.res.destroy();
      return;
    }
    this.log.debug({ err: err.message, code: (err as { code?: string }).code, backend: this.routed.endpoint.key }, 'upstream error');
    sendError(this.res, code, `${detail} (service ${this.routed.service.name})`, this.routed.requestId);
  }
}

/** Whether the request carries a body: Content-Length above 0 or chunked. */
function hasBody(req: IncomingMessage): boolean {
  const te = req.headers['transfer-encoding'];
  if (te !== undefined) return true;
  const cl = req.headers['content-length'];
  return cl !== undefined && cl !== '0';
}

/** Request handler for one HTTP listener. */
export function createHttpHandler(
  holder: SnapshotHolder, listener: string, proto: string, clock: Clock, log: Logger, closing: () => boolean,
): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const r = routeRequest(holder, listener, proto, req, false);
    if ('code' in r) {
      // An ambiguous request may hide a second one in its body: answer and close the connection.
      sendError(res, r.code, r.detail, r.requestId, r.code === 'SWY_BAD_REQUEST' || closing());
      if (holder.current.config.accessLog) {
        logAccess(log, { requestId: r.requestId, client: req.socket.remoteAddress, method: req.method, target: req.url,
          status: ProxyErrors[r.code].status, ms: 0, error: r.code });
      }
      return;
    }
    const exchange = new Exchange(req, res, r, clock, log, closing, holder.current.config.accessLog);
    r.service.poolOf(r.endpoint).dispatch({
      path: r.target,
      method: req.method as Dispatcher.HttpMethod,
      headers: r.headers,
      body: hasBody(req) ? req : null,
    }, exchange);
  };
}
