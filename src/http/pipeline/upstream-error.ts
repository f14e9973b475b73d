import type { ProxyErrorCode } from '../error-response.js';
import type { FailureKind } from '../../resilience/retry.js';

/**
 * One upstream failure class, as data: the code the client is answered with, a stable detail,
 * which side failed, and how it may be retried — `connect`: the backend never saw the request,
 * always safe; `timeout` and `status` (a reset, a bad response, a 5xx): idempotent requests only.
 */
export interface UpstreamFailure {
  readonly code: ProxyErrorCode;
  readonly side: 'upstream';
  readonly kind: FailureKind;
  readonly detail: string;
}

const CONNECT: UpstreamFailure = Object.freeze({ code: 'SWY_UPSTREAM_CONNECT', side: 'upstream', kind: 'connect', detail: 'cannot connect to backend' });
const NO_ANSWER: UpstreamFailure = Object.freeze({ code: 'SWY_UPSTREAM_TIMEOUT', side: 'upstream', kind: 'timeout', detail: 'backend did not answer in time' });
// A stalled body is retried like a reset (idempotent only), not with a grown per-try timeout.
const STALLED: UpstreamFailure = Object.freeze({ code: 'SWY_UPSTREAM_TIMEOUT', side: 'upstream', kind: 'status', detail: 'backend stalled while sending' });
const RESET: UpstreamFailure = Object.freeze({ code: 'SWY_UPSTREAM_RESET', side: 'upstream', kind: 'status', detail: 'backend connection failed' });

/**
 * Every upstream error code either engine raises (the fast engine's `SWY_*`, undici's `UND_ERR_*`,
 * the kernel's `E*`), in one table: adding a code here classifies it for both engines and for
 * the retry policy.
 */
const BY_CODE: ReadonlyMap<string, UpstreamFailure> = new Map([
  ['SWY_BACKEND_UNAVAILABLE', CONNECT], ['SWY_CONNECT_TIMEOUT', CONNECT], ['UND_ERR_CONNECT_TIMEOUT', CONNECT],
  ['ECONNREFUSED', CONNECT], ['EHOSTUNREACH', CONNECT], ['ENETUNREACH', CONNECT], ['EADDRNOTAVAIL', CONNECT],
  ['SWY_HEADERS_TIMEOUT', NO_ANSWER], ['UND_ERR_HEADERS_TIMEOUT', NO_ANSWER],
  ['SWY_BODY_TIMEOUT', STALLED], ['UND_ERR_BODY_TIMEOUT', STALLED],
]);

/**
 * Classifies an upstream error code of either engine. Unknown codes (resets, closed connections,
 * unparsable responses, anything after the request may have been read) are a reset: 502,
 * retried like a 5xx. Returns a shared frozen object: no allocation.
 */
export function classifyUpstream(code: string | undefined): UpstreamFailure {
  return (code !== undefined ? BY_CODE.get(code) : undefined) ?? RESET;
}

/** The detail line of an error answer: the class's detail, the raw code for a reset, the service. */
export function failureDetail(f: UpstreamFailure, rawCode: string | undefined, service: string): string {
  return f === RESET ? `${f.detail} (${rawCode ?? 'unknown'}) (service ${service})` : `${f.detail} (service ${service})`;
}

/** What a client gets when every try ended in a retryable 5xx that was discarded: 504 stays a timeout. */
export function statusFailureCode(status: number): ProxyErrorCode {
  return status === 504 ? 'SWY_UPSTREAM_TIMEOUT' : 'SWY_UPSTREAM_RESET';
}
