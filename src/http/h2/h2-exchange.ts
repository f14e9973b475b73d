import { constants, type OutgoingHttpHeaders, type ServerHttp2Stream } from 'node:http2';
import type { Logger } from 'pino';
import type { Clock } from '../../util/clock.js';
import { VIA, type RoutedRequest } from '../proxy.js';
import type { DegradedAnswer } from '../degrade.js';
import type { ProxyErrorCode } from '../error-response.js';
import type { Endpoint } from '../../upstream/endpoint.js';
import type { H1Request } from '../h1/h1-request.js';
import { H1Exchange, type ResponseSink } from '../h1/h1-exchange.js';
import { h2ErrorHead, h2Headers } from './h2-answer.js';

/**
 * The client side of one HTTP/2 stream on the fast engine: what ClientConnection is to an
 * HTTP/1.1 exchange. Raw HTTP/1.1 bytes never reach a stream, so `write` is not used: the
 * exchange below answers through `respond`/`stream.write` itself.
 */
export class H2StreamSink implements ResponseSink {
  constructor(
    readonly stream: ServerHttp2Stream,
    readonly accessLog: Logger | null,
    readonly accessLogSample: number,
    private readonly closing: () => boolean,
  ) {}

  get draining(): boolean { return this.closing(); }
  write(): boolean { throw new Error('H2StreamSink: raw HTTP/1.1 bytes cannot go to an HTTP/2 stream'); }
  /**
   * Unlike a socket, a stream can finish while its last write waits for the window: the paused
   * backend connection must then be resumed too, or it goes back to its pool unread.
   */
  onceDrain(fn: () => void): void {
    const s = this.stream;
    const once = () => { s.off('drain', once); s.off('close', once); fn(); };
    s.on('drain', once);
    s.on('close', once);
  }
  finished(): void {}
  sendError(): void {}
  sendDegraded(): void {}
  destroy(): void { this.stream.close(constants.NGHTTP2_INTERNAL_ERROR); }
  pauseReading(): void { this.stream.pause(); }
  resumeReading(): void { this.stream.resume(); }
}

/**
 * One HTTP/2 stream proxied on the fast engine: H1Exchange's upstream half (an H1Pool
 * connection, retries, hedges, replay — all of the pipeline) with the response going to the
 * stream through node:http2's core API (`respond`, `write`, `end`) instead of raw HTTP/1.1
 * bytes. The compatibility API (Http2ServerRequest/Response) and undici, which the node engine
 * uses, cost about as much CPU per stream as the whole of this exchange.
 */
export class H2Exchange extends H1Exchange {
  /** The response headers, held until the first body chunk or the end (an error can still replace them). */
  private head: OutgoingHttpHeaders | null = null;
  /**
   * The first body chunk, held with the headers: a response that is one chunk (the usual small
   * one) leaves as HEADERS + one DATA frame carrying END_STREAM through one `end(chunk)`, instead
   * of a write and an end (a second, empty DATA frame and a second pass through the stream).
   */
  private held: Buffer | null = null;
  private responded = false;

  constructor(sink: H2StreamSink, req: H1Request, routed: RoutedRequest, clock: Clock, bodyKind: 'none' | 'length' | 'chunked') {
    super(sink, req, routed, clock, bodyKind);
  }

  private get stream(): ServerHttp2Stream { return (this.sink as H2StreamSink).stream; }

  override get responseBegun(): boolean { return this.responded; }

  protected override startTry(ep: Endpoint, timeoutMs: number): void {
    this.head = null; // a retry: the last try's held headers are void
    this.held = null;
    super.startTry(ep, timeoutMs);
  }

  protected override writeHead(status: number, _statusText: string, headers: string[]): string | null {
    const h = h2Headers(status, headers);
    if (h === null) {
      // A field HTTP/2 cannot carry: the backend's fault. The rest of its response is never read.
      this.dropUpstream();
      return 'SWY_H2_HEADERS';
    }
    this.head = h;
    return null;
  }

  /** Sends the held headers; false when the stream is gone or node:http2 refused them. */
  private flushHead(endStream: boolean): boolean {
    const h = this.head!;
    this.head = null;
    const s = this.stream;
    if (s.destroyed || s.closed) return false;
    this.responded = true;
    try {
      s.respond(h, { endStream });
    } catch {
      // h2Headers already dropped what HTTP/2 refuses; should node:http2 still throw (we are inside
      // the backend parser's callback), the stream is reset rather than the worker taken down.
      s.close(constants.NGHTTP2_INTERNAL_ERROR);
      return false;
    }
    return true;
  }

  protected override writeBody(chunk: Buffer): boolean {
    if (this.head !== null) {
      if (this.held === null) { this.held = chunk; this.responded = true; return true; }
      if (!this.flushHead(false)) return true;
    }
    const s = this.stream;
    if (s.destroyed) return true;
    const first = this.held;
    if (first !== null) { this.held = null; s.write(first); }
    return s.write(chunk);
  }

  protected override endResponse(): void {
    const first = this.held;
    this.held = null;
    if (this.head !== null) {
      const noBody = first === null && (this.req.method === 'HEAD' || (this.head[':status'] as number) === 204 || (this.head[':status'] as number) === 304);
      if (noBody) { this.flushHead(true); return; }
      if (!this.flushHead(false)) return;
    }
    if (this.stream.destroyed) return;
    if (first !== null) this.stream.end(first); else this.stream.end();
  }

  protected override answerError(code: ProxyErrorCode, detail: string): void {
    this.head = null;
    this.held = null;
    answerStream(this.stream, code, detail, this.routed.requestId, this.req.method === 'HEAD');
  }

  protected override answerDegraded(a: DegradedAnswer): void {
    this.head = null;
    this.held = null;
    degradedStream(this.stream, a, this.routed.requestId, this.req.method === 'HEAD');
  }

  protected override cut(): void { this.sink.destroy(); }
}

/** A proxy error on a stream whose response has not started (else the stream is reset). */
export function answerStream(stream: ServerHttp2Stream, code: ProxyErrorCode, detail: string, requestId: string, head: boolean, extra?: readonly string[]): void {
  if (stream.destroyed || stream.closed) return;
  if (stream.headersSent) { stream.close(constants.NGHTTP2_INTERNAL_ERROR); return; }
  const { headers, body } = h2ErrorHead(code, detail, requestId, extra);
  stream.respond(headers, { endStream: head });
  if (!head) stream.end(body);
}

/** A stale copy or error page on a stream (graceful degradation). */
export function degradedStream(stream: ServerHttp2Stream, a: DegradedAnswer, requestId: string, head: boolean): void {
  if (stream.destroyed || stream.closed) return;
  if (stream.headersSent) { stream.close(constants.NGHTTP2_INTERNAL_ERROR); return; }
  const h = h2Headers(a.status, [...a.headers, 'via', VIA, 'x-request-id', requestId]) ?? { ':status': a.status };
  stream.respond(h, { endStream: head });
  if (!head) stream.end(a.body);
}
