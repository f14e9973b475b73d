import type { Logger } from 'pino';
import type { Service } from '../../upstream/service.js';
import type { Endpoint } from '../../upstream/endpoint.js';
import type { Clock } from '../../util/clock.js';
import { logFinished, type FinishedRequest } from '../../observe/access-log.js';

/**
 * The last stage of a proxied request, once its answer is written or the client left: frees the
 * admission slot it held, counts its status (what the client got, a degraded answer's rather than
 * the error it replaced) and time for the service, and writes the access line when `accessLog`
 * is set (a `sample` share of requests). Call exactly once per admitted request.
 */
export function requestFinished(service: Service, accessLog: Logger | null, sample: number, r: FinishedRequest): void {
  service.bulkhead?.release();
  service.counters.recordAnswer(r.status, r.ms);
  logFinished(accessLog, r, sample);
}

/**
 * The end of one try on `endpoint` (retried, won by a hedge, finished, or the client left):
 * its in-flight count and latency, its traffic by status, and — `ok` not null — the outcome for
 * the breaker and outlier detection (null: no verdict). Returns the try's time, ms.
 */
export function tryFinished(service: Service, endpoint: Endpoint, status: number, started: number, clock: Clock, ok: boolean | null): number {
  const ms = clock.now() - started;
  endpoint.end(ms, clock);
  endpoint.traffic.record(status, ms);
  if (ok !== null) service.recordOutcome(endpoint, ok);
  return ms;
}
