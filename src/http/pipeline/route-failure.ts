import type { Logger } from 'pino';
import type { RouteFailure } from '../proxy.js';
import { ProxyErrors } from '../error-response.js';
import { degradedAnswer, type DegradedAnswer } from '../degrade.js';
import { logAccess } from '../../observe/access-log.js';

/**
 * What the client gets when routing produced no request to send (pipeline stage 2): a degraded
 * answer (stale copy or error page) when a matched service has none available and has one,
 * else undefined and the engine writes the proxy error `r.code`. Logs the access line when
 * `accessLog` is given. Failure path only.
 */
export function routeFailureAnswer(
  r: RouteFailure, method: string | undefined, target: string | undefined, client: string | undefined, accessLog: Logger | null,
): DegradedAnswer | undefined {
  if (accessLog !== null) {
    logAccess(accessLog, { requestId: r.requestId, client, method, target, status: ProxyErrors[r.code].status, ms: 0, error: r.code });
  }
  return r.service !== undefined ? degradedAnswer(r.service, method, r.staleKey!) : undefined;
}
