import type { Endpoint } from '../../upstream/endpoint.js';
import type { Service } from '../../upstream/service.js';
import { now } from '../../util/deadlines.js';
import type { H1Pool, UpstreamConnection, UpstreamError, UpstreamUser } from './h1-pool.js';

/*
 * Hedging on the fast engine (tail-tolerant requests; the policy is the pipeline's
 * ExchangeDriver): a bodiless idempotent request still waiting for its response head after the
 * service's learned delay gets a backup try on another backend. Until one of the two tries
 * produces a response head they race; the first head wins, the other try is cancelled (its
 * connection closed, or its place in a pool queue given up).
 */

/** What a backup try needs of the exchange it races for; the pool callbacks are forwarded once the backup won. */
export interface Hedged extends Omit<UpstreamUser, 'abandoned' | 'headersTimeoutMs' | 'onUpstream'> {
  /** The request head as written upstream. */
  readonly requestHead: string;
  /** The backup's response head arrived first: the exchange continues on `h`. */
  backupWon(h: H1Hedge): void;
  /** The backup failed before any response head. */
  backupFailed(h: H1Hedge): void;
  /** Writes the request on the backup's connection once it won (instead of `onUpstream`). */
  attach(conn: UpstreamConnection): void;
}

/**
 * The backup try of one request: its own pooled connection to `endpoint`, racing the first try
 * until a response head arrives. Once it won (`adopted`), it only forwards the pool's callbacks
 * to the exchange, which then treats it as its current try. The driver counts its time on the
 * backend (begin, end, outcome); this class only moves bytes.
 */
export class H1Hedge implements UpstreamUser {
  abandoned = false;
  adopted = false;
  conn: UpstreamConnection | null = null;

  constructor(private readonly ex: Hedged, readonly endpoint: Endpoint, pool: H1Pool, readonly headersTimeoutMs: number, readonly started: number) {
    pool.dispatch(this);
  }

  /** Gives up this try (the first one answered, or the client left). */
  cancel(): void {
    if (this.abandoned || this.adopted) return;
    this.abandoned = true;
    this.conn?.destroy();
    this.conn = null;
  }

  onUpstream(conn: UpstreamConnection): void {
    if (this.adopted) { this.ex.attach(conn); return; }
    if (this.abandoned) { conn.destroy(); return; }
    this.conn = conn;
    conn.write(this.ex.requestHead);
  }

  onResponseHead(status: number, statusText: string, rawHeaders: string[]): number {
    if (!this.adopted) {
      if (this.abandoned) return 0;
      this.ex.backupWon(this);
    }
    return this.ex.onResponseHead(status, statusText, rawHeaders);
  }

  onUpstreamError(err: UpstreamError): void {
    if (this.adopted) { this.ex.onUpstreamError(err); return; }
    if (this.abandoned) return;
    this.abandoned = true;
    this.conn = null;
    this.ex.backupFailed(this);
  }

  onResponseData(chunk: Buffer): void { if (this.adopted) this.ex.onResponseData(chunk); }
  onResponseEnd(): void { if (this.adopted) this.ex.onResponseEnd(); }
  onUpstreamDrain(): void { if (this.adopted) this.ex.onUpstreamDrain(); }
}

/**
 * The first try after its backup won, when it had a connection: it keeps that connection for
 * `verdictMs` more (give or take the 100 ms deadline sweep). An answer in that time means the
 * backend is alive, merely slower this once (the answer is read and dropped, the connection
 * reused); no answer, or a failure, counts as slow for outlier detection — so a frozen backend is
 * ejected after a few lost races, while one descheduled for a moment is not.
 */
export class LoserVerdict implements UpstreamUser {
  readonly abandoned = false;

  constructor(private readonly service: Service, private readonly endpoint: Endpoint, conn: UpstreamConnection, verdictMs: number, private readonly head: boolean) {
    conn.user = this;
    conn.deadline = now() + verdictMs;
  }

  onUpstream(conn: UpstreamConnection): void { conn.destroy(); } // never queued
  onResponseHead(): number { return this.head ? 1 : 0; }
  onResponseData(): void {}
  onResponseEnd(): void {}
  onUpstreamError(): void { this.service.recordSlow(this.endpoint); }
  onUpstreamDrain(): void {}
}
