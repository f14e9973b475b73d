import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import type { ListenerConfig } from '../../config/schema.js';
import type { SnapshotHolder } from '../../snapshot/snapshot.js';
import type { Clock } from '../../util/clock.js';
import { routeRequest, VIA } from '../proxy.js';
import { degradedHead, type DegradedAnswer } from '../degrade.js';
import { admit, needsAdmission } from '../pipeline/admission.js';
import { routeFailureAnswer } from '../pipeline/route-failure.js';
import { NO_HEADERS, ProxyErrors, rawHeaderLines, type ProxyErrorCode } from '../error-response.js';
import { betweenRequests, METHODS, type NativeParser, type ParserCallbacks } from './native-parser.js';
import { requestParsers } from './parser-free-list.js';
import { H1Request } from './h1-request.js';
import { H1Exchange, type ResponseSink } from './h1-exchange.js';
import { tick, track, untrack, type Timed } from '../../util/deadlines.js';
import type { RoutedRequest } from '../proxy.js';
import type { Bulkhead, Ticket } from '../../resilience/bulkhead.js';
import type { UpgradeRequest } from '../upgrade.js';
import { allowedOffer, upgradeOffer } from '../upgrade-offer.js';
import { joinWriteBatch } from '../../net/write-batch.js';

/** What a client connection needs from its listener. */
export interface ConnectionContext {
  readonly holder: SnapshotHolder;
  readonly listener: string;
  /** `http` or `https`: what X-Forwarded-Proto says. */
  readonly proto: string;
  readonly clock: Clock;
  readonly log: Logger;
  config: ListenerConfig;
  draining: boolean;
  /** An upgrade the route allows: the socket and the bytes after the request are handed over. */
  upgrade(up: UpgradeRequest, socket: Socket, head: Buffer): void;
  closed(conn: ClientConnection): void;
  /** The socket closed (first thing in its 'close'): the listener's counts. */
  connectionClosed(socket: Socket): void;
}

type Phase = 'idle' | 'head' | 'body' | 'waiting';

function rawError(status: number, text: string, body: string): string {
  return `HTTP/1.1 ${status} ${text}\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`;
}

/**
 * One client connection on the fast path: Node's strict llhttp parser over the raw socket,
 * requests proxied one at a time in order (pipelined requests wait, their bodies buffered up to
 * a bound), keep-alive, and the slow-client timeouts (head, whole request, idle) enforced by
 * the shared deadline sweep.
 */
export class ClientConnection implements ParserCallbacks, ResponseSink, Timed {
  /**
   * Taken from the free list on the first bytes, given back by the first deadline sweep (every
   * 100 ms) that finds the connection idle between requests: an idle keep-alive connection (or a
   * TLS client that only handshakes) holds none, and a busy one rarely churns its parser (giving
   * it back and initializing it again costs about 0.4 µs).
   */
  private parser: NativeParser | null = null;
  /** When the keep-alive idle timeout expires (the deadline may come earlier, to give the parser back). */
  private idleUntil = 0;
  private phase: Phase = 'idle';
  private active: H1Exchange | null = null;
  /** The request whose body the parser is reading (the active one, or a queued pipelined one). */
  private reading: H1Exchange | QueuedRequest | null = null;
  private readonly queue: QueuedRequest[] = [];
  /** Header fields flushed before the head completed (rare: made when needed). */
  private partialHeaders: string[] | null = null;
  private partialUrl = '';
  private upgradeReq: UpgradeRequest | null = null;
  private closing = false;
  private detached = false;
  /** Waiting for a bulkhead slot (counts as busy: pipelined requests queue behind it). */
  private waitingSlot = false;
  private ticket: Ticket | null = null;
  private ticketOwner: Bulkhead | null = null;
  /** In this turn's write batch (net/write-batch.ts). */
  batched = false;
  /** Responses completed on this connection with keep-alive. */
  private served = 0;
  deadline = 0;
  sweepSlot = -1;
  /** This connection's place in its listener's list of connections. */
  listSlot = -1;

  constructor(readonly socket: Socket, private readonly ctx: ConnectionContext) {
    // TCP_NODELAY is already on the accepted TCP socket (set by the listener): on TLS, setNoDelay
    // would go through TLSWrap's JS method proxy, 8% of a resumed handshake.
    // Listeners shared by every connection (Node calls them with the socket as `this`), which
    // finds its connection through one property: no closures per connection.
    (socket as OwnedSocket)[kConnection] = this;
    socket.on('data', ClientConnection.socketData);
    socket.on('error', ignoreError);
    socket.on('close', ClientConnection.socketClose);
    socket.on('end', ClientConnection.socketEnd); // emitted once: `once` would add a wrapper per connection
    this.idleDeadline();
    track(this);
  }

  private static socketData(this: OwnedSocket, data: Buffer): void { this[kConnection].onData(data); }
  private static socketClose(this: OwnedSocket): void { this[kConnection].onClose(); }
  private static socketEnd(this: OwnedSocket): void { this[kConnection].onEnd(); }

  /**
   * The client ended its side. With nothing in progress there is nothing left to say: close now
   * instead of letting the socket end ours (on TLS that is a close_notify, an encrypted write and a
   * shutdown — a tenth of a short TLS connection's CPU). Otherwise Node ends our side as usual.
   */
  private onEnd(): void {
    // (writableLength 0: every byte of the last response is with the kernel, which still sends it)
    if (this.phase === 'idle' && this.active === null && this.queue.length === 0 && !this.waitingSlot && this.socket.writableLength === 0) this.socket.destroy();
  }

  get draining(): boolean { return this.ctx.draining || this.closing; }

  get accessLog(): Logger | null { return this.ctx.holder.current.config.accessLog ? this.ctx.log : null; }

  get accessLogSample(): number { return this.ctx.holder.current.config.accessLogSample; }

  private idleDeadline(): void {
    const t = tick();
    this.idleUntil = t + this.ctx.config.timeouts.keepAlive;
    this.deadline = this.parser === null ? this.idleUntil : t; // the next sweep gives the parser back
  }

  private onData(data: Buffer): void {
    if (this.phase === 'idle') {
      this.phase = 'head';
      this.deadline = tick() + this.ctx.config.timeouts.header;
    }
    this.parse(this.parser ??= requestParsers.take(this.ctx.config.maxHeaderSize, this), data);
  }

  private parse(parser: NativeParser, data: Buffer): void {
    let d = data;
    for (;;) {
      const r = parser.execute(d);
      if (r instanceof Error) { this.parseError(r.code); return; }
      if (this.upgradeReq !== null) {
        const up = this.upgradeReq;
        this.upgradeReq = null;
        this.socket.pause();
        this.detach();
        this.ctx.upgrade(up, this.socket, d.subarray(r));
        return;
      }
      // The parser stops after any request that carried `Upgrade`; one served as a plain request
      // leaves the connection in HTTP/1.1 framing: parse on.
      if (r >= d.length || r <= 0 || this.detached) return;
      d = d.subarray(r);
    }
  }

  /**
   * Gives the parser back when nothing is in progress and no byte of a next request has been
   * read (node:http keeps a parser until the socket closes). Never after a request without keep-alive:
   * the connection is closing then, and its parser refuses any further bytes. Called from the
   * deadline sweep, never from inside the parser's own callbacks.
   */
  private releaseParserIfIdle(): void {
    const p = this.parser;
    if (p === null || this.phase !== 'idle' || this.active !== null || this.waitingSlot || this.queue.length > 0 ||
      this.closing || this.detached || !betweenRequests(p)) return;
    this.parser = null;
    requestParsers.release(p);
  }

  private onClose(): void {
    this.ctx.connectionClosed(this.socket);
    this.detach();
    if (this.ticket !== null) { this.ticketOwner?.cancel(this.ticket); this.ticket = null; }
    this.active?.abort();
    for (const q of this.queue) q.body.length = 0;
    this.queue.length = 0;
  }

  /** Stops parsing and timing this socket (closed, or handed to a tunnel). */
  private detach(): void {
    if (this.detached) return;
    this.detached = true;
    this.socket.removeListener('data', ClientConnection.socketData);
    untrack(this);
    this.deadline = 0;
    this.reading = null;
    // Not inside execute(): closing a parser from its own callback is unsafe.
    const parser = this.parser;
    this.parser = null;
    if (parser !== null) setImmediate(() => requestParsers.release(parser));
    this.ctx.closed(this);
  }

  onDeadline(): void {
    if (this.phase === 'head' || this.phase === 'body') {
      if (this.active === null || !this.active.responseBegun) {
        this.socket.end(rawError(408, 'Request Timeout', '408 Request Timeout: the request took too long to arrive (SWY_CLIENT_TIMEOUT)\n'));
      } else this.socket.destroy();
      return;
    }
    if (this.phase !== 'idle') return;
    if (tick() < this.idleUntil) { // the earlier wake-up: give the parser back, then wait on
      this.releaseParserIfIdle();
      this.deadline = this.idleUntil;
      return;
    }
    this.socket.end(); // keep-alive idle timeout
  }

  private parseError(code: string): void {
    const [status, text] = code === 'HPE_HEADER_OVERFLOW' ? [431, 'Request Header Fields Too Large'] : [400, 'Bad Request'];
    this.ctx.log.debug({ code, listener: this.ctx.listener }, 'client error');
    const ex = this.active;
    if (ex !== null && ex.responseBegun) { ex.abort(); this.socket.destroy(); return; }
    ex?.abort();
    this.closing = true;
    this.socket.end(rawError(status, text, `${status} ${text}: ${code} (SWY_BAD_REQUEST)\n`));
    this.detach();
  }

  // ---- parser callbacks ----

  headersPartial(headers: string[], url: string): void {
    const partial = this.partialHeaders ??= [];
    for (const h of headers) partial.push(h);
    this.partialUrl += url;
  }

  headersComplete(_maj: number, minor: number, headers: string[] | undefined, method: number, url: string | undefined,
    _s: number, _sm: string, upgrade: boolean, keepAlive: boolean): number {
    // After a refused request nothing more is read: a smuggled second request dies here.
    if (this.closing || this.detached) return 0;
    let raw = headers ?? [];
    if (this.partialHeaders !== null) { raw = this.partialHeaders.concat(raw); this.partialHeaders = null; }
    const fullUrl = this.partialUrl + (url ?? '');
    this.partialUrl = '';
    const req = new H1Request(METHODS[method], fullUrl, minor, raw, keepAlive, this.socket);
    this.phase = 'body';
    this.deadline = tick() + this.ctx.config.timeouts.request;
    const busy = this.active !== null || this.waitingSlot || this.queue.length > 0;
    if (upgrade) {
      if (req.method === 'CONNECT') { this.reply('SWY_BAD_REQUEST', 'CONNECT is not supported', true, 405); return 0; }
      // A tunnel only for a clean offer of a protocol the route allows, never behind a pipelined
      // request; anything else is served as a plain request without its upgrade headers.
      const offered = busy ? undefined : upgradeOffer(req.method, req.rawHeaders);
      if (offered !== undefined) {
        const routed = routeRequest(this.ctx.holder, this.ctx.listener, this.ctx.proto, req, false);
        const protocols = 'code' in routed ? [] : allowedOffer(offered, routed.upgrades);
        if (protocols.length > 0 && !('code' in routed)) { this.upgradeReq = { method: req.method, routed, protocols }; return 0; }
        this.start(req, null, routed);
        return 0;
      }
    }
    if (busy) {
      // Pipelined: answer in order once the current exchange finishes.
      const q: QueuedRequest = { req, body: [], ended: false, size: 0 };
      this.queue.push(q);
      this.reading = q;
      this.socket.pause();
      return 0;
    }
    this.start(req, null);
    return 0;
  }

  body(chunk: Buffer): void {
    const r = this.reading;
    if (r === null || this.detached) return;
    if (r instanceof H1Exchange) { r.requestBody(chunk); return; }
    r.body.push(Buffer.from(chunk));
    r.size += chunk.length;
    if (r.size > 1 << 20) this.socket.destroy(); // a pipelined body this large is abuse
  }

  messageComplete(): void {
    // Trailer fields arrive through headersPartial at the end of a chunked body: they are not
    // forwarded, and must not become headers (or a URL prefix) of the next request.
    this.partialHeaders = null;
    this.partialUrl = '';
    if (this.detached) return;
    const r = this.reading;
    this.reading = null;
    if (r instanceof H1Exchange) r.requestEnd();
    else if (r !== null) r.ended = true;
    if (this.upgradeReq !== null) return;
    this.phase = this.active === null && !this.waitingSlot && this.queue.length === 0 ? 'idle' : 'waiting';
    if (this.phase === 'idle') this.idleDeadline(); else this.deadline = 0;
  }

  // ---- proxying ----

  /** `pre`: the request was already routed (an upgrade request served as a plain one). */
  private start(req: H1Request, queued: QueuedRequest | null, pre?: ReturnType<typeof routeRequest>): void {
    const ctx = this.ctx;
    const te = req.header('transfer-encoding');
    const kind = te !== undefined ? 'chunked' : (req.header('content-length') ?? '0') !== '0' ? 'length' : 'none';
    const routed = pre ?? routeRequest(ctx.holder, ctx.listener, ctx.proto, req, false);
    if ('code' in routed) {
      const ambiguous = routed.code === 'SWY_BAD_REQUEST';
      if (ambiguous) { this.closing = true; this.reading = null; }
      const bodyUnread = kind !== 'none' && (queued === null || !queued.ended);
      const degraded = routeFailureAnswer(routed, req.method, req.url, this.socket.remoteAddress, this.accessLog);
      if (degraded !== undefined) this.sendDegraded(degraded, routed.requestId, !req.keepAlive || bodyUnread);
      // A HEAD answer has no body (its length is still the GET's): a body would be read as the next response.
      else this.reply(routed.code, routed.detail, ambiguous || !req.keepAlive, undefined, routed.requestId, bodyUnread, NO_HEADERS, req.method === 'HEAD');
      if (!this.closing && queued !== null) this.finishedReply();
      return;
    }
    if (req.header('expect')?.toLowerCase() === '100-continue' && queued === null) this.socket.write('HTTP/1.1 100 Continue\r\n\r\n');
    if (!needsAdmission(routed)) { this.launch(req, routed, kind, queued); return; }
    // Wait for admission (a bulkhead slot may take a while); body chunks meanwhile go to a buffer.
    const buffer: QueuedRequest = queued ?? { req, body: [], ended: false, size: 0 };
    if (queued === null) this.reading = buffer;
    this.waitingSlot = true;
    this.ticketOwner = routed.service.bulkhead;
    this.ticket = admit(routed, () => {
      this.ticket = null;
      this.waitingSlot = false;
      if (this.detached) { routed.service.bulkhead?.release(); return; }
      this.launch(req, routed, kind, buffer);
    }, (code, detail, headers) => {
      this.ticket = null;
      this.waitingSlot = false;
      if (this.reading === buffer) this.reading = null;
      this.reply(code, detail, !req.keepAlive, undefined, routed.requestId, kind !== 'none' && !buffer.ended, headers, req.method === 'HEAD');
      if (!this.closing) this.finishedReply();
    });
  }

  /** Starts the exchange of an admitted request, feeding it any body already buffered. */
  private launch(req: H1Request, routed: RoutedRequest, kind: 'none' | 'length' | 'chunked', buffered: QueuedRequest | null): void {
    const ex = new H1Exchange(this, req, routed, this.ctx.clock, kind);
    this.active = ex;
    if (buffered === null) { this.reading = ex; return; }
    for (const c of buffered.body) ex.requestBody(c);
    if (buffered.ended) ex.requestEnd();
    else this.reading = ex;
  }

  /** Answers a request the proxy refuses or cannot route. `readingBody`: the body is still to come; `extra`: more header fields (flat). */
  private reply(code: ProxyErrorCode, detail: string, close: boolean, status?: number, requestId = '-', readingBody = false, extra = NO_HEADERS, head = false): void {
    const e = ProxyErrors[code];
    const st = status ?? e.status;
    const text = status === 405 ? 'Method Not Allowed' : e.text;
    const body = `${st} ${text}: ${detail} (${code}, request id ${requestId})\n`;
    // An unread request body would be parsed as the next request: close instead of draining it.
    const mustClose = close || readingBody || this.draining;
    this.socket.write(`HTTP/1.1 ${st} ${text}\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\n` +
      `x-request-id: ${requestId}\r\n${rawHeaderLines(extra)}${code === 'SWY_BULKHEAD_FULL' ? 'retry-after: 1\r\n' : ''}${code === 'SWY_REDIRECT' ? `location: ${detail}\r\n` : ''}${mustClose ? 'connection: close\r\n' : ''}\r\n${head ? '' : body}`, 'latin1');
    if (mustClose) { this.closing = true; this.socket.end(); this.detach(); }
  }

  /** Writes a stale copy or error page instead of a proxy error. */
  sendDegraded(a: DegradedAnswer, requestId: string, close: boolean): void {
    const mustClose = close || this.draining;
    this.socket.write(degradedHead(a, VIA, requestId, mustClose), 'latin1');
    this.socket.write(a.body);
    if (mustClose) { this.closing = true; this.socket.end(); this.detach(); }
  }

  // ---- ResponseSink ----

  write(data: string | Buffer): boolean {
    joinWriteBatch(this);
    return typeof data === 'string' ? this.socket.write(data, 'latin1') : this.socket.write(data);
  }

  onceDrain(fn: () => void): void { this.socket.once('drain', fn); }
  pauseReading(): void { this.socket.pause(); }
  resumeReading(): void { if (this.queue.length === 0) this.socket.resume(); }
  destroy(): void { this.socket.destroy(); }

  sendError(code: ProxyErrorCode, detail: string, requestId: string, close: boolean): void {
    this.reply(code, detail, close, undefined, requestId);
  }

  finished(ex: H1Exchange, close: boolean): void {
    if (this.active !== ex) return;
    this.active = null;
    if (this.reading === ex) { this.reading = null; close = true; }
    if (close || this.ctx.draining) {
      this.closing = true;
      this.socket.end();
      this.detach();
      return;
    }
    this.finishedReply();
  }

  /** After a response on a kept-alive connection: next pipelined request, or idle. */
  private finishedReply(): void {
    this.served++;
    const next = this.queue.shift();
    if (next !== undefined) {
      this.start(next.req, next);
      if (this.queue.length === 0 && !this.closing) this.socket.resume();
      return;
    }
    if (this.phase === 'waiting') { this.phase = 'idle'; this.idleDeadline(); }
    // Reading may still be paused from the body: a body write that filled the backend's socket
    // paused it, and the request's end came in the same read, so the backend's drain did not
    // resume it (nothing more of that request to read). Paused, the next request is never read.
    if (this.socket.isPaused() && !this.closing) this.socket.resume();
  }

  /** Drain: an idle connection closes now; a busy one after its response. */
  drain(): void {
    // A connection that has not sent its first request yet was just accepted (during a rolling
    // restart, after the cluster handed it over): serve that request, then close. Only idle
    // keep-alive connections are closed at once; the head timeout bounds the rest.
    if (this.active === null && this.phase === 'idle' && this.served > 0) { this.socket.end(); this.detach(); }
  }
}

interface QueuedRequest { req: H1Request; body: Buffer[]; ended: boolean; size: number }

const kConnection = Symbol('ClientConnection');
type OwnedSocket = Socket & { [kConnection]: ClientConnection };

/** Socket errors end in 'close', handled there; one shared listener instead of one per connection. */
function ignoreError(): void {}
