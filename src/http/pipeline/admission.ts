import type { Ticket } from '../../resilience/bulkhead.js';
import type { ProxyErrorCode } from '../error-response.js';
import type { RoutedRequest } from '../proxy.js';
import { admissionFilters } from './filters.js';

/**
 * Why a filter turned a request away: the code and detail of the proxy's answer, and header
 * fields the answer carries (flat name/value, e.g. a 429's Retry-After and RateLimit fields).
 */
export interface Refusal { readonly code: ProxyErrorCode; readonly detail: string; readonly headers?: readonly string[] }

/**
 * An admission filter (pipeline stage 3): looks at a routed request before it takes a backend
 * slot and either lets it through (null) or refuses it. Synchronous and side-effect free on a
 * refusal of another filter: filters run in registration order and the first refusal wins. A
 * filter that must wait (queue) is not a filter but the bulkhead, which always runs last.
 * One file per filter, registered with one line in filters.ts.
 */
export interface AdmissionFilter {
  readonly name: string;
  /** Whether this request needs the filter at all (false lets it skip the admission stage); default true. */
  applies?(r: RoutedRequest): boolean;
  check(r: RoutedRequest): Refusal | null;
}

/** What an engine's transport does with an admission verdict. */
export type Admitted = () => void;
export type Refused = (code: ProxyErrorCode, detail: string, headers?: readonly string[]) => void;

/**
 * Whether a request to this route needs the admission stage at all. False on the common path (no
 * filter registered, no bulkhead): the engine launches directly and allocates no callbacks.
 */
export function needsAdmission(r: RoutedRequest): boolean {
  if (r.service.bulkhead !== null) return true;
  for (let i = 0; i < admissionFilters.length; i++) {
    const f = admissionFilters[i];
    if (f.applies === undefined || f.applies(r)) return true;
  }
  return false;
}

/** The registered filters in order; the first refusal, or null when every filter lets `r` through. */
export function filterRefusal(r: RoutedRequest): Refusal | null {
  for (let i = 0; i < admissionFilters.length; i++) {
    const no = admissionFilters[i].check(r);
    if (no !== null) return no;
  }
  return null;
}

/**
 * Runs the admission stage for `r`: the registered filters in order, then the service's
 * bulkhead. Calls exactly one of `admitted` / `refused`, now or (bulkhead queue) later, and
 * returns the bulkhead ticket of a queued request (the engine cancels it when the client goes
 * away), else null. An admitted request holds a bulkhead slot until the exchange finishes
 * (`service.bulkhead.release()`).
 */
export function admit(r: RoutedRequest, admitted: Admitted, refused: Refused): Ticket | null {
  const no = filterRefusal(r);
  if (no !== null) { refused(no.code, no.detail, no.headers); return null; }
  const service = r.service;
  const bulkhead = service.bulkhead;
  if (bulkhead === null) { admitted(); return null; }
  return bulkhead.acquire(admitted, (reason) => {
    service.counters.bulkheadRejected++;
    refused('SWY_BULKHEAD_FULL', `service ${service.name} is at its limit (${reason})`);
  });
}
