import type { Endpoint } from './endpoint.js';
import type { Service } from './service.js';
import type { Random } from '../util/random.js';
import { newRetryState, nextRetry, isRetryableStatus, type FailureKind, type RetryPolicy, type RetryState } from '../resilience/retry.js';

/** Upstream error codes of either engine that mean "never connected": always safe to retry. */
const CONNECT_CODES = new Set([
  'ECONNREFUSED', 'SWY_CONNECT_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL',
]);
const TIMEOUT_CODES = new Set(['SWY_HEADERS_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT']);

/**
 * Classifies an upstream failure that happened before any response byte reached the client:
 * connect failures are 'connect' (the backend never saw the request), response timeouts are
 * 'timeout', anything else after the request may have been read (reset, closed, bad response) is
 * treated like a 5xx ('status': idempotent requests only).
 */
export function failureKind(code: string | undefined): FailureKind {
  if (code !== undefined && CONNECT_CODES.has(code)) return 'connect';
  if (code !== undefined && TIMEOUT_CODES.has(code)) return 'timeout';
  return 'status';
}

/** What to do after a failed try: retry on `endpoint` after `delayMs`, possibly with a longer timeout. */
export interface RetryPlan { endpoint: Endpoint; delayMs: number; perTryTimeoutMs: number }

/**
 * The retry bookkeeping of one request, shared by both engines: the design's rules (retry.ts),
 * the service's retry budget (at most a share of active requests retrying, so a failing pool
 * does not multiply its load; refused connects are exempt, they load nobody), and re-picking
 * that skips backends already tried.
 * Created once per request; allocates its `tried` set only when a retry happens.
 */
export class RetryAttempts {
  private readonly state: RetryState;
  private tried: Set<Endpoint> | null = null;
  private retrying = false;
  private finished = false;

  constructor(
    private readonly service: Service,
    method: string,
    routeIdempotent: boolean,
    private readonly hashKey: string | undefined,
    private readonly random: Random,
    /** False when the request body cannot be replayed (streamed, or larger than the buffer). */
    public replayable: boolean,
  ) {
    this.state = newRetryState(method, routeIdempotent, service.config.timeouts.request);
    service.retryBudget.requestStarted();
  }

  private get policy(): RetryPolicy { return this.service.retryPolicy; }

  /** Whether a response with this status should be discarded and retried instead of relayed. */
  wantsStatusRetry(status: number): boolean {
    const budget = this.service.retryBudget;
    return this.service.config.retries.enabled && this.replayable && this.state.idempotent &&
      isRetryableStatus(status, this.policy) && this.state.status < this.policy.statusRetries &&
      budget.activeRetries < budget.limit();
  }

  /**
   * After try on `failed` failed with `kind`: a plan for the next try, or null (give the client
   * the error). Consumes a retry from the budget; the caller then starts the new try.
   */
  next(kind: FailureKind, failed: Endpoint): RetryPlan | null {
    this.releaseRetry();
    if (!this.service.config.retries.enabled || !this.replayable) return null;
    const d = nextRetry(this.state, kind, this.random, this.policy);
    if (!d.retry) return null;
    (this.tried ??= new Set()).add(failed);
    const endpoint = this.service.pick({ attempt: this.state.attempts, hashKey: this.hashKey, tried: this.tried });
    if (endpoint === undefined) return null;
    // Connect failures are exempt from the budget: the backend never saw the request, so the
    // retry adds no load anywhere, and a burst of them (a backend just died) must not exhaust it.
    if (kind !== 'connect') {
      if (!this.service.retryBudget.tryRetry()) { this.service.counters.retryBudgetExhausted++; return null; }
      this.retrying = true;
    }
    this.service.counters.retries++;
    return { endpoint, delayMs: d.delayMs, perTryTimeoutMs: d.perTryTimeoutMs ?? this.state.perTryTimeoutMs };
  }

  private releaseRetry(): void {
    if (this.retrying) { this.retrying = false; this.service.retryBudget.retryFinished(); }
  }

  /** The request is over (answered, failed for good, or abandoned). Idempotent. */
  finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.releaseRetry();
    this.service.retryBudget.requestFinished();
  }
}
