import type { Logger } from 'pino';
import type { Service } from '../../upstream/service.js';
import { logFinished, type FinishedRequest } from '../../observe/access-log.js';

/**
 * The last stage of a proxied request, once its answer is written or the client left: frees the
 * admission slot it held, counts its status (what the client got, a degraded answer's rather than
 * the error it replaced) and time for the service, and writes the access line when `accessLog`
 * is set (a `sample` share of requests). Call exactly once per admitted request.
 */
export function requestFinished(service: Service, accessLog: Logger | null, sample: number, r: FinishedRequest): void {
  service.bulkhead?.release();
  service.counters.traffic.record(r.status, r.ms);
  logFinished(accessLog, r, sample);
}
