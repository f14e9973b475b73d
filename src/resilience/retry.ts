/*
 * Retry decisions from the design's retry table (scalability-and-reliability.md, "Retry Strategy"):
 *
 *   | connection retry | refused/reset before any byte was sent | 2 retries, immediate, another backend |
 *   | request retry    | 502/503/504                            | 1 retry, idempotent only, backoff     |
 *   | timeout retry    | upstream timeout                       | 1 retry, idempotent only, backoff,    |
 *   |                  |                                        | per-try timeout × 2                   |
 *
 * Pure logic: no clock, no timers; randomness (jitter) is injected. The caller owns the I/O: it
 * classifies a failure, asks `nextRetry`, waits `delayMs`, picks a backend (a different one for a
 * connect retry), and checks the RetryBudget before sending.
 */
import type { Random } from '../util/random.js';
import { TIMER_MAX_MS } from '../util/clock.js';

/** Retry limits and backoff of one route. Counts are retries (not tries): 0 disables that kind. */
export interface RetryPolicy {
  /** Retries after connection refused/reset before any byte was sent; immediate; any method. */
  readonly connectRetries: number;
  /** Retries after a `retryOn` status; idempotent requests only; with backoff. */
  readonly statusRetries: number;
  /** Retries after an upstream (per-try) timeout; idempotent requests only; with backoff. */
  readonly timeoutRetries: number;
  /** Next per-try timeout = previous × this (on a timeout retry). */
  readonly timeoutGrowth: number;
  /** Statuses that count as a 'status' failure. */
  readonly retryOn: readonly number[];
  /** Backoff: delay = min(baseDelayMs × 2^attempt, maxDelayMs) plus up to `jitter` × delay. */
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  readonly jitter: number;
}

/** The design's numbers: 2 connect retries, 1 status retry, 1 timeout retry (timeout × 2), 100 ms–5 s backoff, 10% jitter. */
export const DEFAULT_RETRY: RetryPolicy = Object.freeze({
  connectRetries: 2,
  statusRetries: 1,
  timeoutRetries: 1,
  timeoutGrowth: 2,
  retryOn: Object.freeze([502, 503, 504]),
  baseDelayMs: 100,
  maxDelayMs: 5000,
  jitter: 0.1,
});

/**
 * Why a try failed, as classified by the caller:
 * - 'connect': connection refused/reset (or similar) before any byte of the request was written;
 * - 'status': the backend answered with a status in `policy.retryOn` (see `isRetryableStatus`);
 * - 'timeout': the per-try timeout expired;
 * - 'other': anything else (reset after the request was sent, protocol error, client gone): never retried.
 */
export type FailureKind = 'connect' | 'status' | 'timeout' | 'other';

/**
 * Methods that are idempotent per RFC 9110 §9.2.2: GET HEAD OPTIONS TRACE PUT DELETE.
 * Matched case-sensitively (methods are case-sensitive; Node reports known ones upper-case).
 */
export const IDEMPOTENT_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);

/**
 * Per-request retry bookkeeping, created once per request by `newRetryState` and updated by
 * `nextRetry`. Plain mutable fields so metrics/logs can read them.
 */
export interface RetryState {
  /** Whether status/timeout retries are allowed (idempotent method, or the route says so). */
  readonly idempotent: boolean;
  /** Failed tries reported so far; the next failure is attempt number `attempts` (0 = first try). */
  attempts: number;
  /** Retries granted so far, per kind. */
  connect: number;
  status: number;
  timeout: number;
  /** Per-try timeout of the try in flight, ms; 0 = none. Grown by timeout retries. */
  perTryTimeoutMs: number;
}

/**
 * A fresh RetryState for one request. `method` is the request method; `routeIdempotent` marks a
 * route whose non-idempotent methods (e.g. POST) are safe to repeat (default false);
 * `perTryTimeoutMs` is the first try's timeout (default 0 = none). One small allocation; not
 * called per try.
 */
export function newRetryState(method: string, routeIdempotent = false, perTryTimeoutMs = 0): RetryState {
  return {
    idempotent: routeIdempotent || IDEMPOTENT_METHODS.has(method),
    attempts: 0,
    connect: 0,
    status: 0,
    timeout: 0,
    perTryTimeoutMs,
  };
}

/** Outcome of `nextRetry`. `perTryTimeoutMs` is set only for a timeout retry with a per-try timeout. */
export type RetryDecision =
  | { readonly retry: false }
  | { readonly retry: true; readonly delayMs: number; readonly perTryTimeoutMs?: number };

/** The shared "no" (frozen, so a refusal allocates nothing). */
export const NO_RETRY: RetryDecision = Object.freeze({ retry: false as const });

/** Whether `status` is one of `policy.retryOn` (i.e. a 'status' failure). O(retryOn), no allocation. */
export function isRetryableStatus(status: number, policy: RetryPolicy = DEFAULT_RETRY): boolean {
  return policy.retryOn.includes(status);
}

/**
 * Decides whether the try that just failed with `kind` may be retried, and after how long.
 * Call exactly once per failed try; the failed try's number is `state.attempts` (0 = the first
 * try), which this increments. A granted retry is counted in `state` (so call it only when the
 * request would really be retried if allowed), then:
 * - 'connect': up to `connectRetries`, any method, `delayMs` 0; the caller must pick a different backend;
 * - 'status': up to `statusRetries`, only if `state.idempotent`, `delayMs` = backoffMs(attempt);
 *   the caller classifies with `isRetryableStatus` (this does not re-check the status);
 * - 'timeout': up to `timeoutRetries`, only if `state.idempotent`, `delayMs` = backoffMs(attempt),
 *   and when `state.perTryTimeoutMs` > 0 the next try's timeout, `perTryTimeoutMs` =
 *   round(current × timeoutGrowth) capped at TIMER_MAX_MS, also stored in `state.perTryTimeoutMs`;
 * - 'other': never.
 * Returns NO_RETRY (shared) or a new small decision object. Failure path only, not the hot path.
 * `random` supplies the jitter. Does not throw.
 */
export function nextRetry(state: RetryState, kind: FailureKind, random: Random, policy: RetryPolicy = DEFAULT_RETRY): RetryDecision {
  const attempt = state.attempts++;
  switch (kind) {
    case 'connect':
      if (state.connect >= policy.connectRetries) return NO_RETRY;
      state.connect++;
      return { retry: true, delayMs: 0 };
    case 'status':
      if (!state.idempotent || state.status >= policy.statusRetries) return NO_RETRY;
      state.status++;
      return { retry: true, delayMs: backoffMs(attempt, random, policy.baseDelayMs, policy.maxDelayMs, policy.jitter) };
    case 'timeout': {
      if (!state.idempotent || state.timeout >= policy.timeoutRetries) return NO_RETRY;
      state.timeout++;
      const delayMs = backoffMs(attempt, random, policy.baseDelayMs, policy.maxDelayMs, policy.jitter);
      if (state.perTryTimeoutMs <= 0) return { retry: true, delayMs };
      // Capped: growth^retries can pass Node's timer limit, where a timer fires after 1 ms.
      const perTryTimeoutMs = Math.min(TIMER_MAX_MS, Math.round(state.perTryTimeoutMs * policy.timeoutGrowth));
      state.perTryTimeoutMs = perTryTimeoutMs;
      return { retry: true, delayMs, perTryTimeoutMs };
    }
    default:
      return NO_RETRY;
  }
}

/**
 * The design's backoff: delay = min(base × 2^attempt, max); jitter = random(0, delay × jitter);
 * returns delay + jitter in ms (not rounded), so the result lies in [delay, delay × (1 + jitter)).
 * `attempt` is the failed try's number (0 = first try), an integer ≥ 0, else RangeError.
 * Defaults: base 100 ms, max 5000 ms, jitter 0.1. `random` returns [0, 1). No allocation.
 */
export function backoffMs(attempt: number, random: Random, base = 100, max = 5000, jitter = 0.1): number {
  if (!Number.isInteger(attempt) || attempt < 0) throw new RangeError(`backoff attempt must be an integer ≥ 0, got ${attempt}`);
  // 2^attempt overflows to Infinity for huge attempts; min() then yields max (base 0 stays 0).
  const delay = base <= 0 ? 0 : Math.min(base * 2 ** attempt, max);
  return delay + random() * delay * jitter;
}
