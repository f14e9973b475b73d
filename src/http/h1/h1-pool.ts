import { connect, type Socket } from 'node:net';
import { createParser, type NativeParser, type ParserCallbacks } from './native-parser.js';
import { now, track, untrack, type Timed } from '../../util/deadlines.js';
import type { PoolKind } from '../../upstream/pool.js';
import { joinWriteBatch } from '../../net/write-batch.js';

/*
 * Keep-alive HTTP/1.1 connections to one backend for the fast path: the upstream half of
 * "header parsing only, bodies piped". One request per connection at a time (no pipelining),
 * connections reused LIFO (the warmest first), at most `connections` open, further requests
 * queued in order. Responses are parsed by Node's llhttp; the pool never buffers a body.
 */

export interface H1PoolOptions {
  connections: number;
  connectTimeout: number;
  /** Request written → response head received. */
  headersTimeout: number;
  /** Longest silence while a response body streams. */
  bodyTimeout: number;
  /** Idle pooled connections are closed after this long (below typical backend keep-alive of 5 s). */
  keepAliveTimeout?: number;
}

/** Upstream failures as data; `beforeResponse` + `reused` tell whether a replay on a fresh connection is safe. */
export class UpstreamError extends Error {
  constructor(readonly code: string, message: string, readonly beforeResponse: boolean, readonly reused: boolean) {
    super(message);
  }
}

/** The request side of one exchange, as the pool sees it. */
export interface UpstreamUser {
  /** True once the client is gone: a queued user is skipped. */
  readonly abandoned: boolean;
  /** Response timeout for this request in ms (a longer one on timeout retries); 0 = the pool's. */
  readonly headersTimeoutMs?: number;
  /** A connection is assigned: write the request (head and any body). */
  onUpstream(conn: UpstreamConnection): void;
  /** Returns 1 to tell the parser there is no body (response to HEAD). */
  onResponseHead(status: number, statusText: string, rawHeaders: string[]): number;
  onResponseData(chunk: Buffer): void;
  onResponseEnd(): void;
  onUpstreamError(err: UpstreamError): void;
  /** The upstream socket drained after a write returned false (request-body backpressure). */
  onUpstreamDrain(): void;
}

/** One keep-alive connection to the backend. */
export class UpstreamConnection implements ParserCallbacks, Timed {
  readonly socket: Socket;
  private readonly parser: NativeParser;
  user: UpstreamUser | null = null;
  /** Served a request before: a failure before any response byte may be a stale keep-alive. */
  reused = false;
  private responded = false;
  private connected = false;
  private headers: string[] = [];
  deadline = 0;
  sweepSlot = -1;
  private closed = false;
  /** In this turn's write batch (net/write-batch.ts). */
  batched = false;

  constructor(private readonly pool: H1Pool, host: string, port: number) {
    this.parser = createParser('response', 0, this);
    this.socket = connect({ host, port, noDelay: true });
    this.deadline = now() + pool.opts.connectTimeout;
    track(this);
    this.socket.on('connect', () => {
      this.connected = true;
      this.deadline = 0;
      pool.connected(this);
    });
    this.socket.on('data', (d: Buffer) => this.onData(d));
    this.socket.on('drain', () => this.user?.onUpstreamDrain());
    this.socket.on('end', () => {
      const r = this.parser.finish(); // ends a close-delimited body
      if (r instanceof Error) this.fail('SWY_UPSTREAM_PROTOCOL', `invalid response: ${r.code}`);
      this.socket.end();
    });
    this.socket.on('error', (e: NodeJS.ErrnoException) => this.fail(e.code ?? 'SWY_UPSTREAM_RESET', e.message));
    this.socket.on('close', () => this.fail('SWY_UPSTREAM_CLOSED', 'backend closed the connection'));
  }

  /** Hands the connection to `user`, who writes the request; arms the response timeout. */
  assign(user: UpstreamUser): void {
    this.user = user;
    this.responded = false;
    this.deadline = now() + (user.headersTimeoutMs || this.pool.opts.headersTimeout);
    user.onUpstream(this);
  }

  write(data: string | Buffer): boolean {
    joinWriteBatch(this);
    return typeof data === 'string' ? this.socket.write(data, 'latin1') : this.socket.write(data);
  }

  pause(): void { this.socket.pause(); }
  resume(): void { this.socket.resume(); }

  onDeadline(): void {
    if (!this.connected) this.fail('SWY_CONNECT_TIMEOUT', 'connect timed out');
    else if (this.user === null) this.destroy(); // idle too long
    else if (!this.responded) this.fail('SWY_HEADERS_TIMEOUT', 'no response head in time');
    else this.fail('SWY_BODY_TIMEOUT', 'response body stalled');
  }

  private onData(d: Buffer): void {
    const user = this.user;
    if (user === null) { this.destroy(); return; } // bytes nobody asked for: the connection is unusable
    const r = this.parser.execute(d);
    if (r instanceof Error) this.fail('SWY_UPSTREAM_PROTOCOL', `invalid response from backend: ${r.code}`);
  }

  headersPartial(headers: string[]): void {
    for (const h of headers) this.headers.push(h);
  }

  headersComplete(_maj: number, _min: number, headers: string[] | undefined, _m: number, _u: string | undefined,
    status: number, statusText: string, _upgrade: boolean, keepAlive: boolean): number {
    let raw = headers ?? [];
    if (this.headers.length > 0) { raw = this.headers.concat(raw); this.headers = []; }
    if (status < 200) return 0; // 1xx: informational, the real head follows
    this.responded = true;
    this.keepAlive = keepAlive;
    this.deadline = now() + this.pool.opts.bodyTimeout;
    return this.user?.onResponseHead(status, statusText, raw) ?? 0;
  }

  private keepAlive = false;

  body(chunk: Buffer): void {
    this.deadline = now() + this.pool.opts.bodyTimeout;
    this.user?.onResponseData(chunk);
  }

  messageComplete(): void {
    if (!this.responded) return; // end of a 1xx
    const user = this.user;
    this.user = null;
    this.deadline = 0;
    this.reused = true;
    if (this.keepAlive && !this.closed) this.pool.release(this);
    else this.destroy();
    user?.onResponseEnd();
  }

  /** Ends the connection with an error for its user (if any) and leaves the pool. */
  fail(code: string, message: string): void {
    if (this.closed) return;
    const user = this.user;
    this.user = null;
    const err = new UpstreamError(code, message, !this.responded, this.reused);
    const wasConnected = this.connected;
    this.destroy();
    if (user !== null) user.onUpstreamError(err);
    else if (!wasConnected) this.pool.connectFailed(err);
  }

  /** Closes without telling anyone (idle timeout, abandoned exchange, pool shutdown). */
  destroy(): void {
    if (this.closed) return;
    this.closed = true;
    this.deadline = 0;
    untrack(this);
    this.user = null;
    this.socket.destroy();
    // Deferred: destroy() may run inside a parser callback, and closing a parser from its own
    // callback crashes the process.
    const parser = this.parser;
    setImmediate(() => parser.close());
    this.pool.removed(this);
  }
}

/** What a withdrawn waiter's place in the queue holds: skipped like an abandoned user. */
const WITHDRAWN = { abandoned: true } as UpstreamUser;

/** Connections to one backend; `dispatch` is on the hot path. */
export class H1Pool {
  private readonly idle: UpstreamConnection[] = [];
  private readonly waiting: UpstreamUser[] = [];
  private waitHead = 0;
  private open = 0;
  private closing: (() => void) | null = null;

  constructor(private readonly host: string, private readonly port: number, readonly opts: H1PoolOptions) {}

  /** Gives `user` a connection now or when one frees up. `fresh` skips idle ones (replay after a stale one). */
  dispatch(user: UpstreamUser, fresh = false): void {
    if (!fresh) {
      const conn = this.idle.pop();
      if (conn !== undefined) { conn.assign(user); return; }
    }
    if (this.open < this.opts.connections || fresh) {
      this.open++;
      this.waiting.push(user);
      new UpstreamConnection(this, this.host, this.port);
      return;
    }
    this.waiting.push(user);
  }

  /** A new connection is up: serve the oldest waiter, or keep it idle. */
  connected(conn: UpstreamConnection): void {
    this.release(conn);
  }

  /** A connection finished a response (or just connected) and may be reused. */
  release(conn: UpstreamConnection): void {
    const user = this.nextWaiter();
    if (user !== undefined) { conn.assign(user); return; }
    if (this.closing !== null) { conn.destroy(); return; }
    conn.deadline = now() + (this.opts.keepAliveTimeout ?? 4000);
    this.idle.push(conn);
  }

  /** A connection is gone (closed, failed or timed out). */
  removed(conn: UpstreamConnection): void {
    this.open--;
    const i = this.idle.lastIndexOf(conn);
    if (i !== -1) this.idle.splice(i, 1);
    if (this.closing !== null) { if (this.open === 0) this.closing(); return; }
    // A busy connection that failed (e.g. timed out on a hung backend) frees a slot: the requests
    // queued for one would otherwise wait until some other connection finished a response.
    if (this.waitHead < this.waiting.length && this.open < this.opts.connections) {
      this.open++;
      new UpstreamConnection(this, this.host, this.port);
    }
  }

  /** A connection opened for a waiter failed to connect: that waiter (the oldest) gets the error. */
  connectFailed(err: UpstreamError): void {
    const user = this.nextWaiter();
    if (user !== undefined) user.onUpstreamError(err);
  }

  /**
   * Fails every queued request with `code` before it was sent (so it may be retried anywhere, even
   * a POST: the backend never saw it). Connections in use are left alone.
   */
  failWaiters(code: string, message: string): void {
    for (let user = this.nextWaiter(); user !== undefined; user = this.nextWaiter()) {
      user.onUpstreamError(new UpstreamError(code, message, true, false));
    }
  }

  /** Takes `user` out of the queue (a try that lost its race before it got a connection); false when not queued. Rare path: O(queue). */
  withdraw(user: UpstreamUser): boolean {
    const i = this.waiting.indexOf(user, this.waitHead);
    if (i === -1) return false;
    this.waiting[i] = WITHDRAWN;
    return true;
  }

  private nextWaiter(): UpstreamUser | undefined {
    while (this.waitHead < this.waiting.length) {
      const user = this.waiting[this.waitHead];
      this.waiting[this.waitHead++] = undefined as unknown as UpstreamUser;
      if (this.waitHead > 1024 && this.waitHead * 2 > this.waiting.length) { this.waiting.splice(0, this.waitHead); this.waitHead = 0; }
      if (!user.abandoned) return user;
    }
    if (this.waitHead > 0) { this.waiting.length = 0; this.waitHead = 0; }
    return undefined;
  }

  /** Stops reuse: idle connections close now, busy ones after their response. */
  close(): Promise<void> {
    for (const c of this.idle.splice(0)) c.destroy();
    if (this.open === 0) return Promise.resolve();
    return new Promise((resolve) => { this.closing = resolve; });
  }
}

/** The fast engine's upstream pools, one H1Pool per backend with the service's connection cap and timeouts. */
export const h1Pools: PoolKind<H1Pool> = {
  name: 'h1',
  create: (ep, cfg) => new H1Pool(ep.host, ep.port, {
    connections: cfg.maxConnectionsPerBackend, connectTimeout: cfg.timeouts.connect, headersTimeout: cfg.timeouts.request, bodyTimeout: cfg.timeouts.idle,
  }),
};
