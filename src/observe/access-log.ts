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
  status: number;
  service: string;
  backend: string;
  ms: number;
  error: string | undefined;
}

/** Logs a finished proxied request when `log` is set (access log on). Both engines call this. */
export function logFinished(log: Logger | null, r: FinishedRequest): void {
  if (log !== null) logAccess(log, { ...r, ms: Math.round(r.ms * 10) / 10 });
}
