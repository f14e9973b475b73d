import type { Clock } from '../../util/clock.js';
import type { RoutedRequest } from '../proxy.js';
import { VIA } from '../proxy.js';
import type { Logger } from 'pino';
import { ProxyErrors, type ProxyErrorCode } from '../error-response.js';
import { responseHeaders } from '../headers.js';
import { h1Pools, type H1Pool, type UpstreamConnection, type UpstreamError, type UpstreamUser } from './h1-pool.js';
import type { Endpoint } from '../../upstream/endpoint.js';
import { RetryAttempts } from '../../upstream/retry-attempts.js';
import { classifyUpstream, failureDetail, statusFailureCode } from '../pipeline/upstream-error.js';
import { ReplayBuffer } from '../pipeline/replay-buffer.js';
import { requestFinished, tryFinished } from '../pipeline/finish.js';
import type { FailureKind } from '../../resilience/retry.js';
import { ResponseCapture, degradedAnswer, type DegradedAnswer } from '../degrade.js';
import type { H1Request } from './h1-request.js';
import type { Service } from '../../upstream/service.js';
import { H1Hedge, LoserVerdict, hedgeQueue, type Hedged } from './h1-hedge.js';
import { isHedgeable, verdictMs } from '../../resilience/hedge-delay.js';

/** What an exchange needs of the client connection it answers on. */
export interface ResponseSink {
  /** Writes a degraded answer (stale copy or error page) instead of a proxy error. */
  sendDegraded(a: DegradedAnswer, requestId: string, close: boolean): void;
  readonly draining: boolean;
  /** The logger for access lines when `accessLog` is on, else null. */
  readonly accessLog: Logger | null;
  /** Share of requests logged when on (1 = all). */
  readonly accessLogSample: number;
  /** Writes raw response bytes; false when the client socket is full. */
  write(data: string | Buffer): boolean;
  cork(): void;
  uncork(): void;
  /** Calls `fn` once when the client socket drains. */
  onceDrain(fn: () => void): void;
  /** The exchange is over; `close` ends the client connection after what was written. */
  finished(ex: H1Exchange, close: boolean): void;
  /** Proxy-generated error answer (nothing sent yet). */
  sendError(code: ProxyErrorCode, detail: string, requestId: string, close: boolean): void;
  /** Cuts the client connection (failure after the response started). */
  destroy(): void;
  /** Stops / restarts reading the client (request-body backpressure). */
  pauseReading(): void;
  resumeReading(): void;
}

const STATUS_NO_BODY = (s: number) => s === 204 || s === 304 || (s >= 100 && s < 200);

/**
 * One request proxied on the fast path: the request head is written to a pooled backend
 * connection as a single string, request body chunks follow as the client parser yields them,
 * and the response head and body are written straight to the client socket, corked so a small
 * response leaves in one write. Backpressure both ways pauses the other socket.
 */
export class H1Exchange implements UpstreamUser, Hedged {
  abandoned = false;
  /** When the request is due for a hedge (hedge queue); 0 = not queued. */
  dueAt = 0;
  /** The backup try racing this one (hedging), until one of them produced a response head. */
  private hedge: H1Hedge | null = null;
  private upstream: UpstreamConnection | null = null;
  /** Request body chunks that arrived before a connection was assigned. */
  private pending: (Buffer | null)[] | null = null;
  private requestDone: boolean;
  private bodySent = false;
  private responseStarted = false;
  private chunkedOut = false;
  private closeAfter = false;
  private done = false;
  private pendingHead: string | null = null;
  private status = 0;
  private error: string | undefined;
  private readonly started: number;
  private readonly head: string;
  /** The backend of the current try (changes on retries). */
  private endpoint: Endpoint;
  private tryStarted: number;
  private readonly retry: RetryAttempts;
  /** Copy of the request body for a retry (null: no body). */
  private readonly replay: ReplayBuffer | null;
  /** This try's response is a retryable 5xx being read and dropped instead of relayed. */
  private discarding = false;
  /** Copy of a cacheable GET response being relayed, for the stale cache. */
  private capture: ResponseCapture | null = null;
  /** Per-try response timeout (`retries.perTryTimeout`, grown on timeout retries); 0 = the pool's. */
  headersTimeoutMs = 0;
  /** For the access log and metrics: last try's time, body bytes relayed, retries, degraded answer. */
  private upstreamMs = 0;
  private bytesOut = 0;
  private retries = 0;
  private degraded: DegradedAnswer | undefined;

  constructor(
    private readonly sink: ResponseSink,
    readonly req: H1Request,
    private readonly routed: RoutedRequest,
    private readonly pool: H1Pool,
    readonly clock: Clock,
    /** Request framing towards the backend: none, a Content-Length body, or chunked. */
    private readonly bodyKind: 'none' | 'length' | 'chunked',
  ) {
    this.started = clock.now();
    this.requestDone = bodyKind === 'none';
    const h = routed.headers;
    let head = `${req.method} ${routed.target} HTTP/1.1\r\n`;
    for (let i = 0; i < h.length; i += 2) head += `${h[i]}: ${h[i + 1]}\r\n`;
    if (bodyKind === 'chunked') head += 'transfer-encoding: chunked\r\n';
    this.head = head + '\r\n';
    this.endpoint = routed.endpoint;
    this.tryStarted = this.started;
    this.retry = new RetryAttempts(routed.service, req.method, routed.idempotent, routed.hashKey, routed.service.random, true);
    this.headersTimeoutMs = this.retry.perTryTimeoutMs;
    this.replay = bodyKind === 'none' ? null : new ReplayBuffer(routed.service.config.retries.maxBufferedBody);
    routed.endpoint.begin();
    pool.dispatch(this);
    if (routed.hedging && routed.service.hedgeDelay !== null && isHedgeable(req.method, bodyKind !== 'none')) hedgeQueue.add(this, routed.service.hedgeDelay!.delayMs());
  }

  get service(): Service { return this.routed.service; }
  get requestHead(): string { return this.head; }

  /** The hedge delay passed: a backup try on another backend while the first one still waits (budget permitting). */
  hedgeDue(): void {
    if (this.done || this.hedge !== null || this.retries > 0 || this.responseStarted || this.discarding) return;
    const ep = this.retry.hedge(this.endpoint);
    if (ep !== null) this.hedge = new H1Hedge(this, ep);
  }

  /**
   * The backup's head came first: the first try leaves this exchange. Still queued, it is
   * withdrawn and counts as slow for outlier detection; on a connection, it gets a verdict
   * (LoserVerdict: slow unless it answers within twice the hedge delay). That is how a frozen
   * backend gets ejected, and a healthy one descheduled for a moment does not.
   */
  hedgeWon(h: H1Hedge): void {
    const service = this.routed.service;
    service.counters.hedgesWon++;
    this.endpoint.end(this.clock.now() - this.tryStarted, this.clock);
    if (this.upstream !== null) new LoserVerdict(service, this.endpoint, this.upstream, verdictMs(service), this.req.method === 'HEAD');
    // Lost while still waiting for one of the backend's connections: every one of them is busy
    // for longer than the service's tail — slow, no verdict needed.
    else if (service.pools.of(h1Pools, this.endpoint).withdraw(this)) service.recordSlow(this.endpoint);
    this.adopt(h);
  }

  hedgeFailed(_h: H1Hedge): void { this.hedge = null; }

  /** Continues on the backup try: it becomes the current try. */
  private adopt(h: H1Hedge): void {
    h.adopted = true;
    this.hedge = null;
    this.endpoint = h.endpoint;
    this.tryStarted = h.started;
    this.upstream = h.conn;
  }

  /** Stops a backup try that lost (or is no longer wanted). */
  private dropHedge(): void {
    this.dueAt = 0;
    if (this.hedge !== null) { this.hedge.cancel(); this.hedge = null; }
  }

  /** Ends the current try on its backend: in-flight count, latency, and the outcome for breaker/outlier. */
  private endTry(ok: boolean | null): void {
    this.upstreamMs = tryFinished(this.routed.service, this.endpoint, this.status, this.tryStarted, this.clock, ok);
  }

  /**
   * After a failed try: retries per the service policy (another backend, backoff, budget) when
   * the request can be replayed. Returns false when the caller must answer the error.
   */
  private tryAgain(kind: FailureKind): boolean {
    this.retry.replayable = this.replay === null || this.replay.replayable;
    const plan = this.retry.next(kind, this.endpoint);
    if (plan === null) return false; // the caller answers; finish() ends this try
    this.retries++;
    this.endTry(false);
    this.endpoint = plan.endpoint;
    this.headersTimeoutMs = plan.perTryTimeoutMs;
    this.bodySent = false;
    this.discarding = false;
    this.responseStarted = false;
    this.pendingHead = null;
    this.chunkedOut = false;
    if (this.replay !== null) this.pending = [...this.replay.chunks!, null];
    const go = () => {
      if (this.done) return;
      this.tryStarted = this.clock.now();
      plan.endpoint.begin();
      this.routed.service.pools.of(h1Pools, plan.endpoint).dispatch(this);
    };
    if (plan.delayMs > 0) setTimeout(go, plan.delayMs); else go();
    return true;
  }

  /** True once response bytes went to the client: an error can then only cut the connection. */
  get responseBegun(): boolean { return this.responseStarted && this.pendingHead === null; }

  // ---- request side (called by the client connection) ----

  /** A chunk of the request body from the client parser. */
  requestBody(chunk: Buffer): void {
    if (this.done) return;
    this.replay?.add(chunk);
    if (this.upstream === null) { (this.pending ??= []).push(Buffer.from(chunk)); if (this.pending.length > 16) this.sink.pauseReading(); return; }
    if (!this.writeBody(chunk)) this.sink.pauseReading();
  }

  requestEnd(): void {
    if (this.done) return;
    this.requestDone = true;
    this.replay?.end();
    if (this.upstream === null) { (this.pending ??= []).push(null); return; }
    if (this.bodyKind === 'chunked') this.upstream.write('0\r\n\r\n');
  }

  private writeBody(chunk: Buffer): boolean {
    const up = this.upstream!;
    this.bodySent = true;
    if (this.bodyKind === 'chunked') {
      up.write(`${chunk.length.toString(16)}\r\n`);
      up.write(chunk);
      return up.write('\r\n');
    }
    return up.write(chunk);
  }

  /** The client went away: stop everything, never reuse the upstream connection. */
  abort(): void {
    if (this.done) return;
    this.abandoned = true;
    this.dropHedge();
    if (!this.responseStarted) { this.status = 499; this.error = 'SWY_CLIENT_CLOSED'; }
    this.finish(null);
    this.upstream?.destroy();
  }

  // ---- upstream side (called by the pool) ----

  onUpstream(conn: UpstreamConnection): void {
    if (this.abandoned) { conn.destroy(); return; }
    this.attach(conn);
  }

  /** Writes the request on `conn` (this try's connection). */
  attach(conn: UpstreamConnection): void {
    this.upstream = conn;
    const pending = this.pending;
    this.pending = null;
    if (pending === null) { conn.write(this.head); return; }
    conn.socket.cork();
    conn.write(this.head);
    for (const c of pending) {
      if (c === null) { if (this.bodyKind === 'chunked') conn.write('0\r\n\r\n'); } else this.writeBody(c);
    }
    conn.socket.uncork();
    this.sink.resumeReading();
  }

  onUpstreamDrain(): void {
    if (!this.requestDone) this.sink.resumeReading();
  }

  batchStart(): void { this.sink.cork(); }
  batchEnd(): void { this.sink.uncork(); }

  onResponseHead(status: number, statusText: string, rawHeaders: string[]): number {
    if (this.done) return 0;
    if (this.dueAt !== 0 || this.hedge !== null) this.dropHedge();
    this.routed.service.hedgeDelay?.record(this.clock.now() - this.tryStarted);
    this.retry.replayable = this.replay === null || this.replay.replayable;
    if (this.retry.wantsStatusRetry(status)) {
      // Read and drop this answer; the connection stays reusable and the request goes elsewhere.
      this.discarding = true;
      this.status = status;
      return 0;
    }
    this.responseStarted = true;
    this.status = status;
    const headers = responseHeaders(rawHeaders, VIA);
    let hasLength = false;
    let head = `HTTP/1.1 ${status} ${statusText}\r\n`;
    for (let i = 0; i < headers.length; i += 2) {
      const name = headers[i];
      if (name.length === 14 && name.toLowerCase() === 'content-length') hasLength = true;
      head += `${name}: ${headers[i + 1]}\r\n`;
    }
    const noBody = this.req.method === 'HEAD' || STATUS_NO_BODY(status);
    this.closeAfter = !this.req.keepAlive || this.sink.draining;
    if (!noBody && !hasLength) {
      // Length unknown: chunked to HTTP/1.1 clients, close-delimited to HTTP/1.0 ones.
      if (this.req.httpVersionMinor >= 1) { head += 'transfer-encoding: chunked\r\n'; this.chunkedOut = true; } else this.closeAfter = true;
    }
    if (this.closeAfter) head += 'connection: close\r\n';
    else if (this.req.httpVersionMinor === 0) head += 'connection: keep-alive\r\n';
    if (ResponseCapture.wanted(this.routed.service, this.req.method, status)) this.capture = new ResponseCapture(this.routed.staleKey, status, headers);
    // Held back so head and first body chunk leave in one buffer, one write (see onResponseData).
    this.pendingHead = head + '\r\n';
    return this.req.method === 'HEAD' ? 1 : 0;
  }

  onResponseData(chunk: Buffer): void {
    if (this.done || this.discarding) return;
    this.bytesOut += chunk.length;
    this.capture?.add(chunk);
    let ok: boolean;
    const head = this.pendingHead;
    if (head !== null) {
      this.pendingHead = null;
      if (!this.chunkedOut) {
        const buf = Buffer.allocUnsafe(head.length + chunk.length);
        buf.write(head, 0, 'latin1');
        chunk.copy(buf, head.length);
        ok = this.sink.write(buf);
        if (!ok) this.pauseUpstream();
        return;
      }
      this.sink.write(head);
    }
    if (this.chunkedOut) {
      this.sink.write(`${chunk.length.toString(16)}\r\n`);
      this.sink.write(chunk);
      ok = this.sink.write('\r\n');
    } else {
      ok = this.sink.write(chunk);
    }
    if (!ok) this.pauseUpstream();
  }

  private pauseUpstream(): void {
    const up = this.upstream;
    if (up === null) return;
    up.pause();
    this.sink.onceDrain(() => up.resume());
  }

  onResponseEnd(): void {
    if (this.done) return;
    if (this.discarding) {
      this.upstream = null;
      if (this.tryAgain('status')) return;
      // No retry left: answer with a proxy error naming the backend's status.
      this.discarding = false;
      this.error = `SWY_UPSTREAM_STATUS_${this.status}`;
      this.degraded = degradedAnswer(this.routed.service, this.req.method, this.routed.staleKey);
      this.finish(false);
      if (this.answerDegraded()) return;
      this.sink.sendError(statusFailureCode(this.status),
        `backend answered ${this.status} (service ${this.routed.service.name})`, this.routed.requestId, !this.req.keepAlive);
      this.sink.finished(this, !this.req.keepAlive);
      return;
    }
    if (this.pendingHead !== null) { this.sink.write(this.pendingHead); this.pendingHead = null; }
    this.capture?.commit();
    if (this.chunkedOut) this.sink.write('0\r\n\r\n');
    this.upstream = null;
    // The backend answered before the request body was read (e.g. 413): the rest cannot be skipped safely.
    if (!this.requestDone) this.closeAfter = true;
    this.finish(this.status < 500);
    this.sink.finished(this, this.closeAfter);
  }

  onUpstreamError(err: UpstreamError): void {
    if (this.done) return;
    this.upstream = null;
    // A reused keep-alive connection the backend had just closed: replay once on a fresh one
    // when nothing of the request body was sent (the request never reached the application).
    if (err.beforeResponse && err.reused && !this.bodySent && (err.code === 'SWY_UPSTREAM_CLOSED' || err.code === 'ECONNRESET' || err.code === 'EPIPE')) {
      this.routed.service.pools.of(h1Pools, this.endpoint).dispatch(this, true);
      return;
    }
    // The first try failed while its backup races on: the backup becomes the try.
    if (this.hedge !== null && !this.responseStarted) {
      this.endTry(false);
      this.adopt(this.hedge);
      return;
    }
    // A head still held back was never sent: the client can still get a clean error answer.
    const sent = this.responseStarted && this.pendingHead === null;
    const failure = classifyUpstream(err.code);
    if (!sent && this.tryAgain(failure.kind)) return;
    const code = failure.code;
    this.pendingHead = null;
    if (!sent) { this.status = ProxyErrors[code].status; this.error = code; } else this.error = err.code;
    if (!sent) this.degraded = degradedAnswer(this.routed.service, this.req.method, this.routed.staleKey);
    this.finish(false);
    if (sent) { this.sink.destroy(); return; }
    if (this.answerDegraded()) return;
    this.sink.sendError(code, failureDetail(failure, err.code, this.routed.service.name), this.routed.requestId, true);
    this.sink.finished(this, true);
  }

  /** Stale copy or error page instead of a proxy error, when the service has one. */
  private answerDegraded(): boolean {
    const a = this.degraded;
    if (a === undefined) return false;
    this.sink.sendDegraded(a, this.routed.requestId, !this.req.keepAlive);
    this.sink.finished(this, !this.req.keepAlive);
    return true;
  }

  /** `ok`: the outcome for breaker and outlier detection (null: the client left, no verdict). */
  private finish(ok: boolean | null): void {
    if (this.done) return;
    this.done = true;
    this.dropHedge();
    this.endTry(ok);
    requestFinished(this.routed.service, this.sink.accessLog, this.sink.accessLogSample, {
      requestId: this.routed.requestId, client: this.req.socket.remoteAddress, method: this.req.method, target: this.routed.target,
      route: this.routed.route, status: this.degraded?.status ?? this.status, service: this.routed.service.name, backend: this.endpoint.key,
      ms: this.clock.now() - this.started, upstreamMs: this.upstreamMs, bytes: this.bytesOut, retries: this.retries, error: this.error,
      degraded: this.degraded?.kind,
    });
  }

}
