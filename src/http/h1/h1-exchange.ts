import type { Clock } from '../../util/clock.js';
import type { RoutedRequest } from '../proxy.js';
import type { Logger } from 'pino';
import type { ProxyErrorCode } from '../error-response.js';
import { h1Pools, type UpstreamConnection, type UpstreamError, type UpstreamUser } from './h1-pool.js';
import type { Endpoint } from '../../upstream/endpoint.js';
import type { DegradedAnswer } from '../degrade.js';
import type { H1Request } from './h1-request.js';
import { ExchangeDriver } from '../pipeline/exchange-driver.js';
import { H1Hedge, LoserVerdict, type Hedged } from './h1-hedge.js';

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
 * One request proxied on the fast path — the raw-socket transport under the pipeline's
 * ExchangeDriver (which decides tries, retries, hedges, degrade and answers): the request head
 * is written to a pooled backend connection as a single string, request body chunks follow as
 * the client parser yields them, and the response head and body are written straight to the
 * client socket; the writes of one event-loop turn leave together (net/write-batch.ts). Backpressure both ways pauses
 * the other socket.
 */
export class H1Exchange extends ExchangeDriver<H1Hedge> implements UpstreamUser, Hedged {
  abandoned = false;
  /** Per-try response timeout (`retries.perTryTimeout`, grown on timeout retries); 0 = the pool's. */
  headersTimeoutMs = 0;
  /** The request head as written upstream. */
  readonly requestHead: string;
  private upstream: UpstreamConnection | null = null;
  /** Request body chunks that arrived before a connection was assigned (null: end of body). */
  private pending: (Buffer | null)[] | null = null;
  private requestDone: boolean;
  private bodySent = false;
  private responseStarted = false;
  private chunkedOut = false;
  private closeAfter = false;
  /** The response head, held back so head and first body chunk leave in one buffer, one write. */
  private pendingHead: string | null = null;

  constructor(
    protected readonly sink: ResponseSink,
    readonly req: H1Request,
    routed: RoutedRequest,
    clock: Clock,
    /** Request framing towards the backend: none, a Content-Length body, or chunked. */
    private readonly bodyKind: 'none' | 'length' | 'chunked',
  ) {
    super(routed, req.method, bodyKind !== 'none', clock, sink.accessLog, sink.accessLogSample);
    this.requestDone = bodyKind === 'none';
    const h = routed.headers;
    let head = `${req.method} ${routed.target} HTTP/1.1\r\n`;
    for (let i = 0; i < h.length; i += 2) head += `${h[i]}: ${h[i + 1]}\r\n`;
    if (bodyKind === 'chunked') head += 'transfer-encoding: chunked\r\n';
    this.requestHead = head + '\r\n';
    this.begin();
  }

  /** True once response bytes went to the client: an error can then only cut the connection. */
  get responseBegun(): boolean { return this.responseStarted && this.pendingHead === null; }

  // ---- request side (called by the client connection) ----

  /** A chunk of the request body from the client parser. */
  requestBody(chunk: Buffer): void {
    if (this.done) return;
    this.replay?.add(chunk);
    if (this.upstream === null) { (this.pending ??= []).push(Buffer.from(chunk)); if (this.pending.length > 16) this.sink.pauseReading(); return; }
    if (!this.writeRequestBody(chunk)) this.sink.pauseReading();
  }

  requestEnd(): void {
    if (this.done) return;
    this.requestDone = true;
    this.replay?.end();
    if (this.upstream === null) { (this.pending ??= []).push(null); return; }
    if (this.bodyKind === 'chunked') this.upstream.write('0\r\n\r\n');
  }

  private writeRequestBody(chunk: Buffer): boolean {
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
  abort(): void { this.clientClosed(); }

  // ---- upstream side (called by the pool, or by the backup that won) ----

  onUpstream(conn: UpstreamConnection): void {
    if (this.abandoned) { conn.destroy(); return; }
    this.attach(conn);
  }

  /** Writes the request on `conn` (this try's connection). */
  attach(conn: UpstreamConnection): void {
    this.upstream = conn;
    const pending = this.pending;
    this.pending = null;
    if (pending === null) { conn.write(this.requestHead); return; }
    conn.write(this.requestHead); // head and buffered body leave together (net/write-batch.ts)
    for (const c of pending) {
      if (c === null) { if (this.bodyKind === 'chunked') conn.write('0\r\n\r\n'); } else this.writeRequestBody(c);
    }
    this.sink.resumeReading();
  }

  onUpstreamDrain(): void {
    if (!this.requestDone) this.sink.resumeReading();
  }

  onResponseHead(status: number, statusText: string, rawHeaders: string[]): number {
    this.responseHead(status, statusText, rawHeaders);
    return this.req.method === 'HEAD' ? 1 : 0;
  }

  onResponseData(chunk: Buffer): void {
    if (!this.responseData(chunk)) this.pauseUpstream();
  }

  onResponseEnd(): void {
    this.upstream = null; // back in its pool
    this.responseEnd();
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
    this.failed(err.code);
  }

  /** Closes this try's connection mid-response (its rest is unusable) without telling anyone. */
  protected dropUpstream(): void {
    const up = this.upstream;
    this.upstream = null;
    up?.destroy();
  }

  private pauseUpstream(): void {
    const up = this.upstream;
    if (up === null) return;
    up.pause();
    this.sink.onceDrain(() => up.resume());
  }

  // ---- the transport under the driver ----

  protected startTry(ep: Endpoint, timeoutMs: number): void {
    this.headersTimeoutMs = timeoutMs;
    if (this.retries > 0) {
      // A retry: the request goes again from its start, the body from the replay copy.
      this.bodySent = false;
      this.responseStarted = false;
      this.pendingHead = null;
      this.chunkedOut = false;
      if (this.replay !== null) this.pending = [...this.replay.chunks!, null];
    }
    this.routed.service.pools.of(h1Pools, ep).dispatch(this);
  }

  protected startBackup(ep: Endpoint, timeoutMs: number): H1Hedge {
    return new H1Hedge(this, ep, this.routed.service.pools.of(h1Pools, ep), timeoutMs, this.clock.now());
  }

  protected promote(h: H1Hedge): void {
    h.adopted = true;
    this.upstream = h.conn;
  }

  /**
   * The first try lost its race. On a connection it gets a LoserVerdict; still waiting for one of
   * the backend's connections, every one of them is busy for longer than the service's tail — it
   * is withdrawn and counts as slow, no verdict needed.
   */
  protected judgeLoser(ep: Endpoint, ms: number): void {
    const service = this.routed.service;
    if (this.upstream !== null) new LoserVerdict(service, ep, this.upstream, ms, this.req.method === 'HEAD');
    else if (service.pools.of(h1Pools, ep).withdraw(this)) service.recordSlow(ep);
  }

  protected abortTry(): void {
    this.abandoned = true;
    this.upstream?.destroy();
  }

  protected writeHead(status: number, statusText: string, headers: string[]): string | null {
    this.responseStarted = true;
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
    this.pendingHead = head + '\r\n';
    return null;
  }

  protected writeBody(chunk: Buffer): boolean {
    const head = this.pendingHead;
    if (head !== null) {
      this.pendingHead = null;
      if (!this.chunkedOut) {
        const buf = Buffer.allocUnsafe(head.length + chunk.length);
        buf.write(head, 0, 'latin1');
        chunk.copy(buf, head.length);
        return this.sink.write(buf);
      }
      this.sink.write(head);
    }
    if (!this.chunkedOut) return this.sink.write(chunk);
    this.sink.write(`${chunk.length.toString(16)}\r\n`);
    this.sink.write(chunk);
    return this.sink.write('\r\n');
  }

  protected endResponse(): void {
    if (this.pendingHead !== null) { this.sink.write(this.pendingHead); this.pendingHead = null; }
    if (this.chunkedOut) this.sink.write('0\r\n\r\n');
    // The backend answered before the request body was read (e.g. 413): the rest cannot be skipped safely.
    if (!this.requestDone) this.closeAfter = true;
    this.sink.finished(this, this.closeAfter);
  }

  protected answerError(code: ProxyErrorCode, detail: string, broken: boolean): void {
    this.pendingHead = null;
    const close = broken || !this.req.keepAlive;
    this.sink.sendError(code, detail, this.routed.requestId, close);
    this.sink.finished(this, close);
  }

  protected answerDegraded(a: DegradedAnswer): void {
    this.pendingHead = null;
    this.sink.sendDegraded(a, this.routed.requestId, !this.req.keepAlive);
    this.sink.finished(this, !this.req.keepAlive);
  }

  protected cut(): void { this.sink.destroy(); }

  protected clientAddress(): string | undefined { return this.req.socket.remoteAddress; }
}
