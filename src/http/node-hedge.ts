import type { Dispatcher } from 'undici';
import type { Endpoint } from '../upstream/endpoint.js';

/*
 * Hedging on the node engine (the policy is the pipeline's ExchangeDriver): a hedgeable exchange
 * sends its first try and its backup through one NodeTry each (undici handlers), so the try that
 * loses can be cancelled and anything undici still reports for it is swallowed, while the
 * exchange sees the winner's callbacks only.
 */

/** What a try reports to the exchange it belongs to (node-engine.ts's Exchange). */
export interface TryOwner {
  /** Whether `t` is the exchange's current try (else it is the racing backup). */
  isCurrent(t: NodeTry): boolean;
  /** The backup `t`'s response head came first: it becomes the current try (called before the head is handled). */
  backupWon(t: NodeTry): void;
  /** The backup `t` failed before a response head. */
  backupFailed(t: NodeTry): void;
  onConnect(abort: (err?: Error) => void): void;
  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void, statusText: string): boolean;
  onData(chunk: Buffer): boolean;
  onComplete(trailers: string[] | null): void;
  /** The current try failed (the exchange decides: the backup takes over, a retry, or the answer). */
  onError(err: Error): void;
}

const CANCELLED = Object.assign(new Error('try cancelled: the other one answered first'), { code: 'SWY_HEDGE_CANCELLED' });

/**
 * One try of a hedgeable request: forwards undici's callbacks to its exchange until `cancel()`,
 * after which it aborts the request (at once, or as soon as undici connects it) and swallows the rest.
 */
export class NodeTry implements Dispatcher.DispatchHandler {
  abort: ((err?: Error) => void) | null = null;
  cancelled = false;
  /** Whether this try's response head arrived. */
  answered = false;

  constructor(private readonly owner: TryOwner, readonly endpoint: Endpoint, readonly started: number) {}

  cancel(): void {
    if (this.cancelled) return;
    this.cancelled = true;
    this.abort?.(CANCELLED);
  }

  /** A verdict in progress (see `judge`): called with true when the backend answered in time. */
  private verdict: ((answered: boolean) => void) | null = null;

  /**
   * Leaves the race but not yet the backend: an answer within `ms` calls `done(true)` (alive, just
   * slower this once), none or a failure `done(false)`; either way the request is then aborted.
   */
  judge(ms: number, done: (answered: boolean) => void): void {
    if (this.cancelled) return;
    this.cancelled = true;
    const timer = setTimeout(() => this.decide(false), ms);
    this.verdict = (answered) => { clearTimeout(timer); done(answered); };
  }

  private decide(answered: boolean): void {
    const v = this.verdict;
    if (v === null) return;
    this.verdict = null;
    v(answered);
    this.abort?.(CANCELLED);
  }

  onConnect(abort: (err?: Error) => void): void {
    if (this.cancelled && this.verdict === null) { abort(CANCELLED); return; }
    this.abort = abort;
    if (this.owner.isCurrent(this)) this.owner.onConnect(abort);
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void, statusText: string): boolean {
    if (this.cancelled) { this.decide(true); return false; }
    if (!this.answered) { this.answered = true; if (!this.owner.isCurrent(this)) this.owner.backupWon(this); }
    return this.owner.onHeaders(statusCode, rawHeaders, resume, statusText);
  }

  onData(chunk: Buffer): boolean {
    return this.cancelled ? false : this.owner.onData(chunk);
  }

  onComplete(trailers: string[] | null): void {
    if (!this.cancelled) this.owner.onComplete(trailers);
  }

  onError(err: Error): void {
    if (this.cancelled) { this.decide(false); return; }
    if (this.owner.isCurrent(this)) this.owner.onError(err);
    else { this.cancelled = true; this.owner.backupFailed(this); }
  }
}
