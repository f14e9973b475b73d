import type { Logger } from 'pino';
import type { Clock } from '../../util/clock.js';
import type { Endpoint } from '../../upstream/endpoint.js';
import { RetryAttempts } from '../../upstream/retry-attempts.js';
import type { FailureKind } from '../../resilience/retry.js';
import { isHedgeable, verdictMs } from '../../resilience/hedge-delay.js';
import { DueQueue, type Due } from '../../util/due-queue.js';
import { VIA, type RoutedRequest } from '../proxy.js';
import { responseHeaders } from '../headers.js';
import { ProxyErrors, type ProxyErrorCode } from '../error-response.js';
import { ResponseCapture, degradedAnswer, type DegradedAnswer } from '../degrade.js';
import { classifyUpstream, failureDetail, statusFailureCode } from './upstream-error.js';
import { ReplayBuffer } from './replay-buffer.js';
import { requestFinished, tryFinished } from './finish.js';

/** A backup try (hedging) as the driver sees it: the engine's object for a second request in flight. */
export interface BackupTry {
  readonly endpoint: Endpoint;
  /** When the backup was sent (the driver's clock). */
  readonly started: number;
  /** Gives the try up (its connection closed, its request aborted, its queue place left); no verdict. */
  cancel(): void;
}

interface Hedgeable extends Due { hedgeDue(): void }

/** Every request of this worker waiting for its hedge delay, on either engine (one timer for all). */
export const hedgeQueue = new DueQueue<Hedgeable>((d) => d.hedgeDue());

/**
 * Pipeline stages 4–7 of one proxied request, written once for every engine: the upstream
 * exchange under the retry and hedge policy (one try per backend, failures classified by
 * upstream-error.ts, retries re-picked by RetryAttempts with the body replayed from a
 * ReplayBuffer, a backup try racing a slow first one), the response filters (headers rewritten,
 * stale-cache capture), degrade (stale copy or error page when no try produced a response) and
 * the answer, then stage 8 (finish.ts). One instance per request: an engine's exchange class
 * extends it and implements the transport — the abstract members below — so the hot path
 * allocates one object, as before the driver existed.
 *
 * Engine → driver: `begin()` once; the current try's `responseHead` / `responseData` /
 * `responseEnd` / `failed`; a backup's `backupWon` / `backupFailed`; `clientClosed`.
 */
export abstract class ExchangeDriver<B extends BackupTry> implements Hedgeable {
  /** When the request is due for a hedge (hedgeQueue); 0 = not queued. */
  dueAt = 0;
  /** The request is over (answered, or the client left): every later event is ignored. */
  protected done = false;
  /** Tries beyond the first. */
  protected retries = 0;
  /** Copy of the request body for a retry (null: no body). The engine adds what it reads of the client. */
  protected readonly replay: ReplayBuffer | null;
  /**
   * A try began reading the client's body. While false (the node engine streams the body into
   * the first try on demand) a new try can still read it afresh, replay copy or not.
   */
  protected bodyTaken = true;
  /** The backend of the current try (changes on retries and when a backup wins). */
  protected endpoint: Endpoint;
  private tryStarted: number;
  private hedge: B | null = null;
  private readonly started: number;
  private readonly retry: RetryAttempts;
  /** The current try produced a response head (relayed or discarded). */
  private answered = false;
  /** The current try's response head went to the transport. */
  private relaying = false;
  /** The current try's response is a retryable 5xx being read and dropped. */
  private discarding = false;
  private capture: ResponseCapture | null = null;
  /** For the access log and metrics: status, error code, last try's time, body bytes relayed, degraded answer. */
  private status = 0;
  private error: string | undefined;
  private upstreamMs = 0;
  private bytesOut = 0;
  private degraded: DegradedAnswer | undefined;

  constructor(
    readonly routed: RoutedRequest,
    private readonly method: string,
    hasBody: boolean,
    protected readonly clock: Clock,
    /** The logger for access lines when `accessLog` is on, else null; and the share logged. */
    private readonly accessLog: Logger | null,
    private readonly accessLogSample: number,
  ) {
    this.started = clock.now();
    this.tryStarted = this.started;
    this.endpoint = routed.endpoint;
    this.retry = new RetryAttempts(routed.service, method, routed.idempotent, routed.hashKey, routed.service.random, true);
    this.replay = hasBody ? new ReplayBuffer(routed.service.config.retries.maxBufferedBody) : null;
  }

  // ---- the transport: what an engine supplies ----

  /** Sends the request to `ep` as the current try (the first, or a retry: the body then from `replay`); `racing`: a backup may follow. */
  protected abstract startTry(ep: Endpoint, timeoutMs: number, racing: boolean): void;
  /** Sends the request to `ep` as a backup try racing the current one (bodiless requests only). */
  protected abstract startBackup(ep: Endpoint, timeoutMs: number): B;
  /** The backup `b` won the race: from now on its callbacks are the current try's. */
  protected abstract promote(b: B): void;
  /** The current try on `ep` lost the race: it may answer within `ms` (alive), else `service.recordSlow(ep)`. */
  protected abstract judgeLoser(ep: Endpoint, ms: number): void;
  /** The client left: cancel the current try (never reuse its connection). */
  protected abstract abortTry(): void;
  /** Writes (or holds) the response head; returns null, or an upstream error code when this client cannot take it. */
  protected abstract writeHead(status: number, statusText: string, headers: string[]): string | null;
  /** Writes a body chunk; false when the client is full (the engine pauses the try until it drains). */
  protected abstract writeBody(chunk: Buffer): boolean;
  /** The relayed response is complete. */
  protected abstract endResponse(): void;
  /** Answers with a proxy error; `broken`: after an upstream failure (the request's state upstream is unknown). */
  protected abstract answerError(code: ProxyErrorCode, detail: string, broken: boolean): void;
  /** Answers with a stale copy or error page instead of a proxy error. */
  protected abstract answerDegraded(a: DegradedAnswer, broken: boolean): void;
  /** Cuts the client connection (a failure after response bytes were sent). */
  protected abstract cut(): void;
  /** True once response bytes went to the client: an error can then only cut the connection. */
  abstract get responseBegun(): boolean;
  protected abstract clientAddress(): string | undefined;

  // ---- events from the engine ----

  /** Sends the first try (and queues the hedge). Call once, at the end of the engine's constructor. */
  protected begin(): void {
    const r = this.routed;
    r.endpoint.begin();
    const racing = r.hedging && r.service.hedgeDelay !== null && isHedgeable(this.method, this.replay !== null);
    this.startTry(r.endpoint, this.retry.perTryTimeoutMs, racing);
    if (racing && !this.done) hedgeQueue.add(this, r.service.hedgeDelay!.delayMs());
  }

  /** The hedge delay passed: a backup try on another backend while the first one still waits (budget permitting). */
  hedgeDue(): void {
    if (this.done || this.hedge !== null || this.retries > 0 || this.answered) return;
    const ep = this.retry.hedge(this.endpoint);
    if (ep === null) return;
    ep.begin();
    this.hedge = this.startBackup(ep, this.retry.perTryTimeoutMs);
  }

  /**
   * The backup's head came first (call before passing the head on): it becomes the current try,
   * and the first try gets a verdict (slow for outlier detection unless it answers within twice
   * the hedge delay) — how a frozen backend is ejected and one descheduled for a moment is not.
   */
  backupWon(b: B): void {
    if (this.hedge !== b) return;
    const service = this.routed.service;
    service.counters.hedgesWon++;
    this.endpoint.end(this.clock.now() - this.tryStarted, this.clock);
    this.judgeLoser(this.endpoint, verdictMs(service));
    this.adopt(b);
  }

  /** The backup failed before any response head: it counts as a failure of its backend. */
  backupFailed(b: B): void {
    if (this.hedge !== b) return;
    this.hedge = null;
    b.endpoint.end(this.clock.now() - b.started, this.clock);
    this.routed.service.recordOutcome(b.endpoint, false);
  }

  /**
   * The current try's response head (stage 5: headers rewritten, capture for the stale cache).
   * A retryable status is read and dropped instead. Returns false when the try's body is not
   * wanted: the exchange is over, or the head could not be written (the try failed).
   */
  responseHead(status: number, statusText: string, rawHeaders: readonly string[] | readonly Buffer[]): boolean {
    if (this.done) return false;
    if (this.dueAt !== 0 || this.hedge !== null) this.dropHedge();
    const service = this.routed.service;
    service.hedgeDelay?.record(this.clock.now() - this.tryStarted);
    this.answered = true;
    this.status = status;
    this.retry.replayable = this.replayable();
    if (this.retry.wantsStatusRetry(status)) { this.discarding = true; return true; }
    const headers = responseHeaders(rawHeaders, VIA);
    if (ResponseCapture.wanted(service, this.method, status)) this.capture = new ResponseCapture(this.routed.staleKey, status, headers);
    const refused = this.writeHead(status, statusText, headers);
    if (refused !== null) { this.capture = null; this.failed(refused); return false; }
    this.relaying = true;
    return true;
  }

  /** A chunk of the current try's response body; returns false when the client is full. */
  responseData(chunk: Buffer): boolean {
    if (this.done || this.discarding) return true;
    this.bytesOut += chunk.length;
    this.capture?.add(chunk);
    return this.writeBody(chunk);
  }

  /** The current try's response is complete. */
  responseEnd(): void {
    if (this.done) return;
    if (!this.discarding) {
      this.capture?.commit();
      this.finish(this.status < 500);
      this.endResponse();
      return;
    }
    if (this.tryAgain('status')) return;
    // No retry left: a proxy error naming the backend's status (the access line keeps that status).
    const status = this.status;
    this.discarding = false;
    this.error = `SWY_UPSTREAM_STATUS_${status}`;
    this.answerFailure(statusFailureCode(status), `backend answered ${status} (service ${this.routed.service.name})`, false);
  }

  /** The current try failed (`code`: the engine's error code, classified once by upstream-error.ts). */
  failed(code: string | undefined): void {
    if (this.done) return;
    // The first try failed while its backup races on: the backup becomes the try.
    const h = this.hedge;
    if (h !== null) { this.endTry(false); this.adopt(h); return; }
    const failure = classifyUpstream(code);
    if (this.responseBegun) {
      // Mid-response: the only honest signal left is to cut the client connection.
      this.error = code;
      this.finish(false);
      this.cut();
      return;
    }
    if (this.tryAgain(failure.kind)) return;
    this.status = ProxyErrors[failure.code].status;
    this.error = failure.code;
    this.answerFailure(failure.code, failureDetail(failure, code, this.routed.service.name), true);
  }

  /** The client went away: the request ends (499 unless a response was being relayed) and the try is cancelled. */
  clientClosed(): void {
    if (this.done) return;
    if (!this.relaying) { this.status = 499; this.error = 'SWY_CLIENT_CLOSED'; }
    this.finish(null);
    this.abortTry();
  }

  // ---- internals ----

  /** Whether a new try can send the whole request again. */
  private replayable(): boolean {
    return this.replay === null || !this.bodyTaken || this.replay.replayable;
  }

  private adopt(b: B): void {
    this.hedge = null;
    this.endpoint = b.endpoint;
    this.tryStarted = b.started;
    this.promote(b);
  }

  /** Stops a backup try that lost (or is no longer wanted), and the hedge timer. */
  private dropHedge(): void {
    this.dueAt = 0;
    const h = this.hedge;
    if (h === null) return;
    this.hedge = null;
    h.cancel();
    h.endpoint.end(this.clock.now() - h.started, this.clock);
  }

  /** Ends the current try on its backend: in-flight count, latency, and the outcome for breaker/outlier. */
  private endTry(ok: boolean | null): void {
    this.upstreamMs = tryFinished(this.routed.service, this.endpoint, this.status, this.tryStarted, this.clock, ok);
  }

  /**
   * After a failed try: a retry per the service policy (another backend, backoff, budget) when
   * the request can be sent again. Returns false when the caller must answer the failure.
   */
  private tryAgain(kind: FailureKind): boolean {
    this.retry.replayable = this.replayable();
    const plan = this.retry.next(kind, this.endpoint);
    if (plan === null) return false;
    this.retries++;
    this.endTry(false);
    this.endpoint = plan.endpoint;
    this.answered = false;
    this.relaying = false;
    this.discarding = false;
    this.capture = null;
    const go = () => {
      if (this.done) return;
      this.tryStarted = this.clock.now();
      plan.endpoint.begin();
      this.startTry(plan.endpoint, plan.perTryTimeoutMs, false);
    };
    if (plan.delayMs > 0) setTimeout(go, plan.delayMs); else go();
    return true;
  }

  /** Stage 6 then 7: the degraded answer when the service has one, else the proxy error. */
  private answerFailure(code: ProxyErrorCode, detail: string, broken: boolean): void {
    const degraded = this.degraded = degradedAnswer(this.routed.service, this.method, this.routed.staleKey);
    this.finish(false);
    if (degraded !== undefined) this.answerDegraded(degraded, broken);
    else this.answerError(code, detail, broken);
  }

  /** Stage 8. `ok`: the outcome for breaker and outlier detection (null: the client left, no verdict). */
  private finish(ok: boolean | null): void {
    this.done = true;
    this.dropHedge();
    this.endTry(ok);
    const r = this.routed;
    requestFinished(r.service, this.accessLog, this.accessLogSample, {
      requestId: r.requestId, client: this.clientAddress(), method: this.method, target: r.target, route: r.route,
      status: this.degraded?.status ?? this.status, service: r.service.name, backend: this.endpoint.key,
      ms: this.clock.now() - this.started, upstreamMs: this.upstreamMs, bytes: this.bytesOut, retries: this.retries,
      error: this.error, degraded: this.degraded?.kind,
    });
  }
}
