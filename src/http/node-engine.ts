import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import type { Dispatcher } from 'undici';
import type { Logger } from 'pino';
import type { SnapshotHolder } from '../snapshot/snapshot.js';
import type { Endpoint } from '../upstream/endpoint.js';
import type { Clock } from '../util/clock.js';
import { routeRequest, VIA, type RoutedRequest } from './proxy.js';
import { sendError, type ProxyErrorCode } from './error-response.js';
import type { ReplayBuffer } from './pipeline/replay-buffer.js';
import { ExchangeDriver } from './pipeline/exchange-driver.js';
import { admit, needsAdmission } from './pipeline/admission.js';
import { routeFailureAnswer } from './pipeline/route-failure.js';
import type { DegradedAnswer } from './degrade.js';
import { H2RequestView } from './h2/h2-request.js';
import { NodeTry, type TryOwner } from './node-hedge.js';
import type { RequestLike } from './request-like.js';
import { onReusedConnection, undiciPools } from './undici-pool.js';
import { IDEMPOTENT_METHODS } from '../resilience/retry.js';

/**
 * Whether the client side of a response is gone. HTTP/2's compatibility response has no
 * `destroyed`: its stream has.
 */
function gone(res: ServerResponse): boolean {
  return res.destroyed || ((res as unknown as Http2ServerResponse).stream?.destroyed ?? false);
}

/** Writes a stale copy or error page instead of a proxy error. */
function sendDegraded(res: ServerResponse, a: DegradedAnswer, requestId: string): void {
  if (res.headersSent || gone(res)) { res.destroy(); return; }
  res.writeHead(a.status, [...a.headers, 'via', VIA, 'x-request-id', requestId]);
  res.end(a.body);
}

/**
 * One proxied exchange on the node engine — the node:http / node:http2 transport under the
 * pipeline's ExchangeDriver (which decides tries, retries, hedges, degrade and answers), as an
 * undici dispatch handler (the raw handler API, so response bytes go straight from undici's
 * parser to the client socket: no intermediate stream or promise). Backpressure: `onData`
 * returns false when the client socket is full; undici pauses the backend until `drain` calls
 * `resume`. A client that goes away aborts the upstream request. A retry re-dispatches the same
 * handler to another backend; a request body streams to the first try through the driver's
 * ReplayBuffer, and a retry sends the copy, or streams the body afresh when the failed try never
 * started reading it (a refused connection). HTTP/2 clients use it too (`h2`: the response is
 * node:http2's compatibility object, which takes no status text and no connection headers).
 */
class Exchange extends ExchangeDriver<NodeTry> implements Dispatcher.DispatchHandler, TryOwner {
  /** Hedging on: the first try and the backup each go through a NodeTry (null: this handler is dispatched directly). */
  private current: NodeTry | null = null;
  private abortUpstream: ((err?: Error) => void) | null = null;
  private resume: (() => void) | null = null;
  /** This try's response timeout, and how often it was sent again after a stale keep-alive connection. */
  private tryTimeoutMs = 0;
  private replays = 0;

  constructor(
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
    routed: RoutedRequest,
    clock: Clock,
    private readonly log: Logger,
    private readonly closing: () => boolean,
    accessLog: Logger | null,
    accessLogSample: number,
    private readonly hasBody: boolean,
    private readonly h2: boolean,
  ) {
    super(routed, req.method!, hasBody, clock, accessLog, accessLogSample);
    this.bodyTaken = false;
    res.once('close', this.onClientClose);
    this.begin();
  }

  /**
   * The body to send on this try: none; the client's stream while no try read from it; else the
   * replay copy (the driver retries only when one of the two exists).
   */
  private bodyOfTry(): Dispatcher.DispatchOptions['body'] {
    const replay = this.replay;
    if (replay === null) return null;
    if (!this.bodyTaken) return this.streamBody(replay) as unknown as Dispatcher.DispatchOptions['body'];
    return replay.body();
  }

  /** The client's request body as an async iterable (backpressure: pulled by undici), copied into `replay`. */
  private async *streamBody(replay: ReplayBuffer): AsyncGenerator<Buffer> {
    this.bodyTaken = true;
    for await (const chunk of this.req) { replay.add(chunk as Buffer); yield chunk as Buffer; }
    replay.end();
  }

  private send(ep: Endpoint, body: Dispatcher.DispatchOptions['body'], headersTimeout: number, handler: Dispatcher.DispatchHandler): void {
    this.routed.service.pools.of(undiciPools, ep).dispatch({
      path: this.routed.target,
      method: this.req.method as Dispatcher.HttpMethod,
      headers: this.routed.headers,
      // As an async iterable rather than the IncomingMessage itself: handed the stream directly,
      // undici stalled on every few keep-alive POSTs (the body's end was never seen).
      body,
      headersTimeout,
    }, handler);
  }

  private readonly onClientClose = (): void => { this.clientClosed(); };

  private readonly onDrain = (): void => { this.resume?.(); };

  // ---- the transport under the driver ----

  protected startTry(ep: Endpoint, timeoutMs: number, racing: boolean): void {
    this.abortUpstream = null;
    this.tryTimeoutMs = timeoutMs;
    this.replays = 0;
    this.current = racing ? new NodeTry(this, ep, this.clock.now()) : null;
    this.send(ep, this.bodyOfTry(), timeoutMs, this.current ?? this);
  }

  protected startBackup(ep: Endpoint, timeoutMs: number): NodeTry {
    const t = new NodeTry(this, ep, this.clock.now());
    this.send(ep, null, timeoutMs, t);
    return t;
  }

  protected promote(t: NodeTry): void {
    this.current = t;
    this.abortUpstream = t.abort;
  }

  protected judgeLoser(ep: Endpoint, ms: number): void {
    const service = this.routed.service;
    this.current?.judge(ms, (answered) => { if (!answered) service.recordSlow(ep); });
  }

  protected abortTry(): void { this.abortUpstream?.(new Error('client closed the connection')); }

  protected writeHead(status: number, statusText: string, headers: string[]): string | null {
    if (this.h2) {
      try {
        this.res.writeHead(status, headers);
      } catch (e) {
        // A header HTTP/2 forbids (connection-specific) that slipped through: the backend's fault.
        this.log.debug({ err: (e as Error).message, backend: this.endpoint.key }, 'response not representable in HTTP/2');
        return 'SWY_H2_HEADERS';
      }
      return null;
    }
    if (this.closing()) headers.push('connection', 'close');
    if (statusText) this.res.writeHead(status, statusText, headers);
    else this.res.writeHead(status, headers);
    return null;
  }

  protected writeBody(chunk: Buffer): boolean { return this.res.write(chunk); }

  protected endResponse(): void { this.res.end(); }

  protected answerError(code: ProxyErrorCode, detail: string, broken: boolean): void {
    if (gone(this.res)) return;
    // A request body undici was streaming is in an unknown state: this connection cannot be reused.
    if (broken && this.hasBody) this.res.shouldKeepAlive = false;
    sendError(this.res, code, detail, this.routed.requestId, broken && this.hasBody && !this.h2);
  }

  protected answerDegraded(a: DegradedAnswer, broken: boolean): void {
    if (broken && this.hasBody) this.res.shouldKeepAlive = false;
    sendDegraded(this.res, a, this.routed.requestId);
  }

  protected cut(): void { this.res.destroy(); }

  get responseBegun(): boolean { return this.res.headersSent || gone(this.res); }

  protected clientAddress(): string | undefined { return this.req.socket.remoteAddress; }

  // ---- undici's callbacks (directly, or through the NodeTry of the current try) ----

  isCurrent(t: NodeTry): boolean { return t === this.current; }

  onConnect(abort: (err?: Error) => void): void {
    if (this.done) { abort(new Error('client closed the connection')); return; }
    this.abortUpstream = abort;
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void, statusText: string): boolean {
    if (this.done) return false;
    this.resume = resume;
    return this.responseHead(statusCode, statusText, rawHeaders);
  }

  onData(chunk: Buffer): boolean {
    if (this.responseData(chunk)) return true;
    this.res.once('drain', this.onDrain);
    return false;
  }

  onComplete(): void { this.responseEnd(); }

  onError(err: Error): void {
    if (this.done) return;
    const code = (err as { code?: string }).code;
    this.log.debug({ err: err.message, code, backend: this.endpoint.key }, 'upstream error');
    // A reused keep-alive connection the backend had just closed, before any response byte and
    // with no body to resend: the request never reached the application, so it goes again and is
    // not a retry — as on the fast engine (h1-exchange.ts), which asks its pool for a fresh
    // connection. undici cannot be asked that, and may hand over another stale idle one: each
    // failure closes one, so at most one replay per pool connection reaches a fresh one. Sent
    // from the next turn: dispatched inside this callback, undici queued it on the client it was
    // tearing down and failed it with the same error. A hedged try is left to the hedge.
    // Idempotent requests only (unlike the fast engine): "reused" here means the socket had read
    // bytes, which a fresh connection with a partial response before a close also has.
    if (this.current === null && !this.hasBody && !this.responseBegun && code !== undefined && STALE_CONNECTION.has(code)
      && (this.routed.idempotent || IDEMPOTENT_METHODS.has(this.req.method!))
      && onReusedConnection(err) && this.replays < this.routed.service.config.maxConnectionsPerBackend) {
      this.replays++;
      setImmediate(() => { if (!this.done) this.send(this.endpoint, null, this.tryTimeoutMs, this); });
      return;
    }
    this.failed(code ?? err.message);
  }
}

/** How a stale keep-alive connection fails a request written to it (undici's SocketError: "other side closed"). */
const STALE_CONNECTION = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET']);

/** Whether the request carries a body: Content-Length above 0 or chunked. */
function hasBody(req: IncomingMessage): boolean {
  const te = req.headers['transfer-encoding'];
  if (te !== undefined) return true;
  const cl = req.headers['content-length'];
  return cl !== undefined && cl !== '0';
}

/** Request handler for HTTP/2 streams (node:http2's compatibility API), on either engine. */
export function createH2Handler(
  holder: SnapshotHolder, listener: string, clock: Clock, log: Logger, closing: () => boolean,
): (req: Http2ServerRequest, res: Http2ServerResponse) => void {
  const handle = createHttpHandler(holder, listener, 'https', clock, log, closing, true);
  return handle as unknown as (req: Http2ServerRequest, res: Http2ServerResponse) => void;
}

/** Request handler for one node-engine HTTP listener (`h2`: see createH2Handler). */
export function createHttpHandler(
  holder: SnapshotHolder, listener: string, proto: string, clock: Clock, log: Logger, closing: () => boolean, h2 = false,
): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const view: RequestLike = h2 ? new H2RequestView(req as unknown as Http2ServerRequest) : req;
    const r = routeRequest(holder, listener, proto, view, false);
    if ('code' in r) {
      const config = holder.current.config;
      const degraded = routeFailureAnswer(r, req.method, req.url, req.socket.remoteAddress, config.accessLog ? log : null);
      // An ambiguous request may hide a second one in its body: answer and close the connection.
      if (degraded !== undefined) sendDegraded(res, degraded, r.requestId);
      else sendError(res, r.code, r.detail, r.requestId, !h2 && (r.code === 'SWY_BAD_REQUEST' || closing()));
      return;
    }
    const body = h2 ? (view as H2RequestView).hasBody : hasBody(req);
    const launch = () => {
      if (gone(res)) { r.service.bulkhead?.release(); return; }
      const config = holder.current.config;
      new Exchange(req, res, r, clock, log, closing, config.accessLog ? log : null, config.accessLogSample, body, h2);
    };
    if (!needsAdmission(r)) { launch(); return; }
    const ticket = admit(r, launch, (code, detail, headers) => sendError(res, code, detail, r.requestId, !h2 && (body || closing()), headers));
    if (ticket !== null) { const bulkhead = r.service.bulkhead!; res.once('close', () => bulkhead.cancel(ticket)); }
  };
}
