import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import type { Dispatcher } from 'undici';
import type { Logger } from 'pino';
import type { SnapshotHolder } from '../snapshot/snapshot.js';
import type { Endpoint } from '../upstream/endpoint.js';
import type { Clock } from '../util/clock.js';
import { routeRequest, VIA, type RoutedRequest } from './proxy.js';
import { responseHeaders } from './headers.js';
import { sendError, ProxyErrors } from './error-response.js';
import { RetryAttempts } from '../upstream/retry-attempts.js';
import { classifyUpstream, failureDetail, statusFailureCode } from './pipeline/upstream-error.js';
import { ReplayBuffer } from './pipeline/replay-buffer.js';
import { admit, needsAdmission } from './pipeline/admission.js';
import { routeFailureAnswer } from './pipeline/route-failure.js';
import { requestFinished, tryFinished } from './pipeline/finish.js';
import type { FailureKind } from '../resilience/retry.js';
import { ResponseCapture, degradedAnswer, type DegradedAnswer } from './degrade.js';
import { H2RequestView } from './h2/h2-request.js';
import { NodeTry, nodeHedgeQueue, type TryOwner } from './node-hedge.js';
import { isHedgeable, verdictMs } from '../resilience/hedge-delay.js';
import type { RequestLike } from './request-like.js';
import { undiciPools } from './undici-pool.js';

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
 * One proxied exchange on the node engine, as an undici dispatch handler (the raw handler API,
 * so response bytes go straight from undici's parser to the client socket: no intermediate
 * stream or promise). Backpressure: `onData` returns false when the client socket is full;
 * undici pauses the backend until `drain` calls `resume`. A client that goes away aborts the
 * upstream request. Retries re-dispatch the same handler to another backend; a request body
 * streams to the first try through a ReplayBuffer, and a retry sends the copy (the same rule as
 * the fast engine: bodies read to the end within `retries.maxBufferedBody`), or streams the body
 * afresh when the failed try never started reading it (a refused connection). HTTP/2 clients
 * use it too (`h2`: the response is node:http2's compatibility object, which takes no status
 * text and no connection headers).
 */
class Exchange implements Dispatcher.DispatchHandler, TryOwner {
  /** When the request is due for a hedge (hedge queue); 0 = not queued. */
  dueAt = 0;
  /** Hedging on: the first try and the backup each go through a NodeTry (null: this handler is dispatched directly). */
  private current: NodeTry | null = null;
  private hedge: NodeTry | null = null;
  private readonly hedgeable: boolean;
  private abortUpstream: ((err?: Error) => void) | null = null;
  private resume: (() => void) | null = null;
  private done = false;
  private status = 0;
  private error: string | undefined;
  private discarding = false;
  private capture: ResponseCapture | null = null;
  private readonly started: number;
  private tryStarted: number;
  private endpoint: Endpoint;
  private readonly retry: RetryAttempts;
  /** Copy of the request body for a retry (null: no body). */
  private readonly replay: ReplayBuffer | null;
  /** A try started reading the client's body stream: it cannot be streamed again. */
  private bodyStarted = false;
  /** For the access log and metrics: last try's time, body bytes relayed, retries, degraded answer. */
  private upstreamMs = 0;
  private bytesOut = 0;
  private retries = 0;
  private degraded: DegradedAnswer | undefined;

  constructor(
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
    private readonly routed: RoutedRequest,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly closing: () => boolean,
    private readonly accessLog: boolean,
    private readonly accessLogSample: number,
    private readonly hasBody: boolean,
    private readonly h2: boolean,
  ) {
    this.started = clock.now();
    this.tryStarted = this.started;
    this.endpoint = routed.endpoint;
    this.retry = new RetryAttempts(routed.service, req.method!, routed.idempotent, routed.hashKey, routed.service.random, true);
    this.replay = hasBody ? new ReplayBuffer(routed.service.config.retries.maxBufferedBody) : null;
    routed.endpoint.begin();
    this.hedgeable = routed.hedging && routed.service.hedgeDelay !== null && isHedgeable(req.method!, hasBody);
    res.once('close', this.onClientClose);
  }

  /** Sends (or re-sends, on a retry) the request to the current endpoint. */
  dispatch(headersTimeout = this.retry.perTryTimeoutMs): void {
    let handler: Dispatcher.DispatchHandler = this;
    if (this.hedgeable && this.retries === 0) {
      handler = this.current = new NodeTry(this, this.endpoint, this.tryStarted);
      nodeHedgeQueue.add(this, this.routed.service.hedgeDelay!.delayMs());
    } else {
      this.current = null;
    }
    this.send(this.endpoint, this.bodyOfTry(), headersTimeout, handler);
  }

  /**
   * The body to send on this try: none; the client's stream while no try read from it; else the
   * replay copy (tryAgain allows a retry only when one of the two exists).
   */
  private bodyOfTry(): Dispatcher.DispatchOptions['body'] {
    const replay = this.replay;
    if (replay === null) return null;
    if (!this.bodyStarted) return this.streamBody(replay) as unknown as Dispatcher.DispatchOptions['body'];
    return replay.body();
  }

  /** The client's request body as an async iterable (backpressure: pulled by undici), copied into `replay`. */
  private async *streamBody(replay: ReplayBuffer): AsyncGenerator<Buffer> {
    this.bodyStarted = true;
    for await (const chunk of this.req) { replay.add(chunk as Buffer); yield chunk as Buffer; }
    replay.end();
  }

  /** Whether a new try can send the whole request again. */
  private replayable(): boolean {
    return this.replay === null || !this.bodyStarted || this.replay.replayable;
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

  // ---- hedging (see node-hedge.ts) ----

  isCurrent(t: NodeTry): boolean { return t === this.current; }

  /** The hedge delay passed: a backup try on another backend while the first one still waits (budget permitting). */
  hedgeDue(): void {
    if (this.done || this.hedge !== null || this.retries > 0 || this.current === null || this.current.answered) return;
    const ep = this.retry.hedge(this.endpoint);
    if (ep === null) return;
    ep.begin();
    this.hedge = new NodeTry(this, ep, this.clock.now());
    this.send(ep, null, this.retry.perTryTimeoutMs, this.hedge);
  }

  /**
   * A try's head arrived: the backup wins (the first try leaves the race and gets a verdict: slow
   * for outlier detection unless it answers within twice the hedge delay), or the backup is dropped.
   */
  tryAnswered(t: NodeTry): void {
    if (t === this.hedge) {
      const service = this.routed.service;
      const ep = this.endpoint;
      service.counters.hedgesWon++;
      ep.end(this.clock.now() - this.tryStarted, this.clock);
      this.current?.judge(verdictMs(service), (answered) => { if (!answered) service.recordSlow(ep); });
      this.adopt(t);
    } else {
      this.dropHedge();
    }
    this.routed.service.hedgeDelay?.record(this.clock.now() - this.tryStarted);
  }

  /** The first try failed: with a backup racing, the backup becomes the try; otherwise the usual error path. */
  tryFailed(_t: NodeTry, err: Error): void {
    const h = this.hedge;
    if (h === null || this.done) { this.onError(err); return; }
    this.endTry(false);
    this.adopt(h);
  }

  hedgeFailed(t: NodeTry): void {
    t.endpoint.end(this.clock.now() - t.started, this.clock);
    this.routed.service.recordOutcome(t.endpoint, false);
    if (this.hedge === t) this.hedge = null;
  }

  private adopt(t: NodeTry): void {
    this.hedge = null;
    this.current = t;
    this.endpoint = t.endpoint;
    this.tryStarted = t.started;
    this.abortUpstream = t.abort;
  }

  private dropHedge(): void {
    this.dueAt = 0;
    const h = this.hedge;
    if (h === null) return;
    this.hedge = null;
    h.cancel();
    h.endpoint.end(this.clock.now() - h.started, this.clock);
  }

  private readonly onClientClose = (): void => {
    if (this.done) return;
    if (this.status === 0) { this.status = 499; this.error = 'SWY_CLIENT_CLOSED'; }
    this.finish(null);
    this.abortUpstream?.(new Error('client closed the connection'));
  };

  private readonly onDrain = (): void => { this.resume?.(); };

  private endTry(ok: boolean | null): void {
    this.upstreamMs = tryFinished(this.routed.service, this.endpoint, this.status, this.tryStarted, this.clock, ok);
  }

  /** Retries on another backend when the policy, budget and request allow; false otherwise. */
  private tryAgain(kind: FailureKind): boolean {
    if (this.done || this.res.headersSent) return false;
    this.retry.replayable = this.replayable();
    const plan = this.retry.next(kind, this.endpoint);
    if (plan === null) return false;
    this.retries++;
    this.endTry(false);
    this.endpoint = plan.endpoint;
    this.discarding = false;
    this.status = 0;
    this.abortUpstream = null;
    const go = () => {
      if (this.done) return;
      this.tryStarted = this.clock.now();
      plan.endpoint.begin();
      this.dispatch(plan.perTryTimeoutMs);
    };
    if (plan.delayMs > 0) setTimeout(go, plan.delayMs); else go();
    return true;
  }

  /** `ok`: the outcome for breaker and outlier detection (null: the client left, no verdict). */
  private finish(ok: boolean | null): void {
    if (this.done) return;
    this.done = true;
    this.dropHedge();
    this.endTry(ok);
    const ms = this.clock.now() - this.started;
    requestFinished(this.routed.service, this.accessLog ? this.log : null, this.accessLogSample, {
      requestId: this.routed.requestId, client: this.req.socket.remoteAddress, method: this.req.method, target: this.routed.target,
      status: this.degraded?.status ?? this.status, service: this.routed.service.name, backend: this.endpoint.key, ms, error: this.error,
      route: this.routed.route, upstreamMs: this.upstreamMs, bytes: this.bytesOut, retries: this.retries, degraded: this.degraded?.kind,
    });
  }


  onConnect(abort: (err?: Error) => void): void {
    if (this.done) { abort(new Error('client closed the connection')); return; }
    this.abortUpstream = abort;
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void, statusText: string): boolean {
    if (this.done) return false;
    this.resume = resume;
    this.status = statusCode;
    this.retry.replayable = this.replayable();
    if (this.retry.wantsStatusRetry(statusCode)) { this.discarding = true; return true; }
    const headers = responseHeaders(rawHeaders, VIA);
    if (ResponseCapture.wanted(this.routed.service, this.req.method, statusCode)) this.capture = new ResponseCapture(this.routed.staleKey, statusCode, headers);
    if (this.h2) {
      try {
        this.res.writeHead(statusCode, headers);
      } catch (e) {
        // A header HTTP/2 forbids (connection-specific) that slipped through: the backend's fault.
        this.onError(Object.assign(new Error(`response not representable in HTTP/2: ${(e as Error).message}`), { code: 'SWY_H2_HEADERS' }));
        return false;
      }
      return true;
    }
    if (this.closing()) headers.push('connection', 'close');
    if (statusText) this.res.writeHead(statusCode, statusText, headers);
    else this.res.writeHead(statusCode, headers);
    return true;
  }

  onData(chunk: Buffer): boolean {
    if (this.discarding) return true;
    this.bytesOut += chunk.length;
    this.capture?.add(chunk);
    if (this.res.write(chunk)) return true;
    this.res.once('drain', this.onDrain);
    return false;
  }

  onComplete(): void {
    if (this.discarding) {
      if (this.tryAgain('status')) return;
      const status = this.status;
      this.error = `SWY_UPSTREAM_STATUS_${status}`;
      this.degraded = degradedAnswer(this.routed.service, this.req.method, this.routed.staleKey);
      this.finish(false);
      const degraded = this.degraded;
      if (degraded !== undefined) { sendDegraded(this.res, degraded, this.routed.requestId); return; }
      sendError(this.res, statusFailureCode(status),
        `backend answered ${status} (service ${this.routed.service.name})`, this.routed.requestId);
      return;
    }
    this.finish(this.status < 500);
    this.capture?.commit();
    this.res.end();
  }

  onError(err: Error): void {
    if (this.done) return;
    const code0 = (err as { code?: string }).code;
    const failure = classifyUpstream(code0);
    if (!this.res.headersSent && !gone(this.res) && this.tryAgain(failure.kind)) return;
    const code = failure.code;
    if (this.status === 0 || this.discarding) { this.status = ProxyErrors[code].status; this.error = code; }
    if (!this.res.headersSent && !gone(this.res)) this.degraded = degradedAnswer(this.routed.service, this.req.method, this.routed.staleKey);
    this.finish(false);
    if (gone(this.res)) return;
    if (this.res.headersSent) {
      // Mid-response failure: the only honest signal left is to cut the client connection.
      this.res.destroy();
      return;
    }
    this.log.debug({ err: err.message, code: code0, backend: this.endpoint.key }, 'upstream error');
    // A request body undici was streaming is in an unknown state: this connection cannot be reused.
    if (this.hasBody) this.res.shouldKeepAlive = false;
    const degraded = this.degraded;
    if (degraded !== undefined) { sendDegraded(this.res, degraded, this.routed.requestId); return; }
    sendError(this.res, code, failureDetail(failure, code0 ?? err.message, this.routed.service.name), this.routed.requestId, this.hasBody && !this.h2);
  }
}

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
      new Exchange(req, res, r, clock, log, closing, holder.current.config.accessLog, holder.current.config.accessLogSample, body, h2).dispatch();
    };
    if (!needsAdmission(r)) { launch(); return; }
    const ticket = admit(r, launch, (code, detail, headers) => sendError(res, code, detail, r.requestId, !h2 && (body || closing()), headers));
    if (ticket !== null) { const bulkhead = r.service.bulkhead!; res.once('close', () => bulkhead.cancel(ticket)); }
  };
}
