import type { Logger } from 'pino';

/** One access-log line (config `accessLog: true`), written at info level when a request ends. */
export interface AccessRecord {
  requestId: string;
  client: string | undefined;
  method: string | undefined;
  target: string | undefined;
  status: number;
  service?: string;
  backend?: string;
  ms: number;
  /** Set when the proxy answered itself (SWY_NO_ROUTE, SWY_UPSTREAM_CONNECT, …). */
  error?: string;
  route?: string;
  upstreamMs?: number;
  bytes?: number;
  retries?: number;
  degraded?: string;
}

/** Writes the record; callers check the config flag first so the hot path pays nothing when off. */
export function logAccess(log: Logger, r: AccessRecord): void {
  log.info({ access: r }, 'request');
}

/** The parts of a finished proxied request an access line needs. */
export interface FinishedRequest {
  requestId: string;
  client: string | undefined;
  method: string | undefined;
  target: string;
  route: string;
  status: number;
  service: string;
  /** The backend of the last try. */
  backend: string;
  /** Total time, as the client saw it. */
  ms: number;
  /** Time of the last try at its backend. */
  upstreamMs: number;
  /** Response body bytes relayed to the client. */
  bytes: number;
  /** Tries beyond the first (retries on other backends). */
  retries: number;
  /** Set when the proxy answered itself or the backend failed (SWY_UPSTREAM_CONNECT, …). */
  error: string | undefined;
  /** Why the client got a degraded answer instead of an error: `stale` copy or `error-page`. */
  degraded: string | undefined;
}

const round = (ms: number) => Math.round(ms * 10) / 10;

/**
 * Logs a finished proxied request when `log` is set (access log on), for a `sample` share of
 * requests (1 = all). Both engines call this; with the access log off it costs one null check.
 */
export function logFinished(log: Logger | null, r: FinishedRequest, sample = 1): void {
  if (log === null || (sample < 1 && Math.random() >= sample)) return;
  logAccess(log, { ...r, ms: round(r.ms), upstreamMs: round(r.upstreamMs) });
}
