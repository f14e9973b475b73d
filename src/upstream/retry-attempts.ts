import type { Endpoint } from './endpoint.js';
import type { Service } from './service.js';
import type { Random } from '../util/random.js';
import { newRetryState, nextRetry, isRetryableStatus, type FailureKind, type RetryPolicy, type RetryState } from '../resilience/retry.js';

// Which upstream errors are which FailureKind: http/pipeline/upstream-error.ts (one table for both engines).

/** What to do after a failed try: retry on `endpoint` after `delayMs`, possibly with a longer timeout. */
export interface RetryPlan { endpoint: Endpoint; delayMs: number; perTryTimeoutMs: number }

/**
 * The retry bookkeeping of one request, shared by both engines: the design's rules (retry.ts),
 * the service's retry budget (a token bucket: retries and hedges stay a share of requests, so a
 * failing pool does not multiply its load; refused connects are exempt, they load nobody), and
 * re-picking that skips backends already tried.
 * Created once per request; allocates its `tried` set only when a retry or hedge happens.
 */
export class RetryAttempts {
  private readonly state: RetryState;
  private tried: Set<Endpoint> | null = null;

  constructor(
    private readonly service: Service,
    method: string,
    routeIdempotent: boolean,
    private readonly hashKey: string | undefined,
    private readonly random: Random,
    /** False when the request body cannot be replayed (streamed, or larger than the buffer). */
    public replayable: boolean,
  ) {
    const t = service.config;
    this.state = newRetryState(method, routeIdempotent, t.retries.perTryTimeout || t.timeouts.request);
    service.retryBudget.requestStarted();
  }

  private get policy(): RetryPolicy { return this.service.retryPolicy; }

  /** Response timeout of the next try, ms: `retries.perTryTimeout` (else `timeouts.request`), grown by timeout retries. */
  get perTryTimeoutMs(): number { return this.state.perTryTimeoutMs; }

  /** Whether the request may be repeated after it reached a backend (idempotent method or route). */
  get idempotent(): boolean { return this.state.idempotent; }

  /** Whether a response with this status should be discarded and retried instead of relayed. */
  wantsStatusRetry(status: number): boolean {
    return this.service.config.retries.enabled && this.replayable && this.state.idempotent &&
      isRetryableStatus(status, this.policy) && this.state.status < this.policy.statusRetries &&
      this.service.retryBudget.canRetry();
  }

  /**
   * After try on `failed` failed with `kind`: a plan for the next try, or null (give the client
   * the error). Takes a token from the budget; the caller then starts the new try.
   */
  next(kind: FailureKind, failed: Endpoint): RetryPlan | null {
    if (!this.service.config.retries.enabled || !this.replayable) return null;
    const d = nextRetry(this.state, kind, this.random, this.policy);
    if (!d.retry) return null;
    (this.tried ??= new Set()).add(failed);
    const endpoint = this.service.pick({ attempt: this.state.attempts, hashKey: this.hashKey, tried: this.tried });
    if (endpoint === undefined) return null;
    // Connect failures are exempt from the budget: the backend never saw the request, so the
    // retry adds no load anywhere, and a burst of them (a backend just died) must not exhaust it.
    if (kind !== 'connect' && !this.service.retryBudget.tryRetry()) { this.service.counters.retryBudgetExhausted++; return null; }
    this.service.counters.retries++;
    // A per-try timeout grown from `retries.perTryTimeout` stays within `timeouts.request` (without
    // one, the design's rule stands: the retry gets timeouts.request × timeoutGrowth).
    const t = this.service.config;
    if (d.perTryTimeoutMs !== undefined && t.retries.perTryTimeout > 0) this.state.perTryTimeoutMs = Math.min(d.perTryTimeoutMs, Math.max(t.timeouts.request, t.retries.perTryTimeout));
    return { endpoint, delayMs: d.delayMs, perTryTimeoutMs: this.state.perTryTimeoutMs };
  }

  /**
   * A backup request (hedge) while the try on `current` is still waiting: another backend not
   * tried yet, paid from the retry budget; null when none is free or the budget is spent.
   * The caller checks that the request is hedgeable (idempotent, replayable).
   */
  hedge(current: Endpoint): Endpoint | null {
    (this.tried ??= new Set()).add(current);
    const endpoint = this.service.pick({ attempt: this.state.attempts + 1, hashKey: this.hashKey, tried: this.tried });
    if (endpoint === undefined) return null;
    if (!this.service.retryBudget.tryRetry()) { this.service.counters.retryBudgetExhausted++; return null; }
    this.tried.add(endpoint);
    this.service.counters.hedges++;
    return endpoint;
  }
}
