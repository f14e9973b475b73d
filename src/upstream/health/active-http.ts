import { request, type ClientRequest, type IncomingMessage } from 'node:http';

/** Why a health probe failed; `SWY_HC_ABORTED` means the caller's signal stopped it (not a verdict). */
export type HealthProbeCode = 'SWY_HC_TIMEOUT' | 'SWY_HC_STATUS' | 'SWY_HC_BODY' | 'SWY_HC_CONNECT' | 'SWY_HC_ABORTED';

/**
 * The rejection of a probe: `code` says why, `status` is the HTTP status for `SWY_HC_STATUS`
 * (and `SWY_HC_BODY`), `cause` is the socket error for `SWY_HC_CONNECT`.
 */
export class HealthProbeError extends Error {
  readonly code: HealthProbeCode;
  readonly status: number | undefined;
  constructor(code: HealthProbeCode, message: string, extra: { status?: number; cause?: unknown } = {}) {
    super(message, extra.cause === undefined ? undefined : { cause: extra.cause });
    this.name = 'HealthProbeError';
    this.code = code;
    this.status = extra.status;
  }
}

/** What an HTTP health check sends and what answer counts as healthy. */
export interface HttpProbeOptions {
  /** Request method (config default `GET`). */
  method: string;
  /** Request path with optional query (config default `/`). */
  path: string;
  /** Inclusive status ranges that count as healthy (config default `[[200, 399]]`). */
  expectedStatuses: readonly (readonly [number, number])[];
  /** When set, the first 64 KiB of the body must contain this text. */
  bodyContains?: string | undefined;
  /** Host header (default: the target's `host:port`, IPv6 bracketed). */
  host?: string | undefined;
  /** Hard limit for the whole probe: connect, headers and the body read (config default 2000). */
  timeoutMs: number;
}

/** Bytes of body read at most when looking for `bodyContains`. */
export const MAX_PROBE_BODY_BYTES = 64 * 1024;

function hostHeader(target: { host: string; port: number }): string {
  return `${target.host.includes(':') ? `[${target.host}]` : target.host}:${target.port}`;
}

function formatRanges(ranges: readonly (readonly [number, number])[]): string {
  return ranges.map(([lo, hi]) => (lo === hi ? `${lo}` : `${lo}-${hi}`)).join(',');
}

function errorCode(err: unknown): string {
  if (err instanceof Error && typeof (err as NodeJS.ErrnoException).code === 'string') return (err as NodeJS.ErrnoException).code!;
  return err instanceof Error ? err.message : String(err);
}

/**
 * One HTTP health check of `target`: resolves when the status is in `expectedStatuses` (and the
 * body contains `bodyContains`, if set); otherwise rejects with a HealthProbeError whose code is
 * SWY_HC_STATUS, SWY_HC_BODY, SWY_HC_TIMEOUT (nothing decided within `timeoutMs`), SWY_HC_CONNECT
 * (refused, reset, or closed before an answer) or SWY_HC_ABORTED (`signal` fired); an invalid
 * method, path or Host header rejects with node:http's own validation error. Never throws
 * synchronously. Each probe opens a fresh connection (`agent: false`, `Connection: close`), so a
 * backend that only fails new connections is caught; the connection is closed once decided.
 */
export function probeHttp(target: { host: string; port: number }, opts: HttpProbeOptions, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal.aborted) {
      reject(new HealthProbeError('SWY_HC_ABORTED', 'probe aborted before it started'));
      return;
    }
    let settled = false;
    let res: IncomingMessage | undefined;
    let req: ClientRequest;
    try {
      req = request({
        host: target.host,
        port: target.port,
        method: opts.method,
        path: opts.path,
        agent: false,
        headers: { host: opts.host ?? hostHeader(target), 'user-agent': 'switchyard-health-check', connection: 'close', accept: '*/*' },
      });
    } catch (err) {
      // An invalid method, path or Host header: node:http's own error (e.g. ERR_UNESCAPED_CHARACTERS).
      reject(err instanceof Error ? err : new Error(String(err)));
      return;
    }

    const finish = (err: HealthProbeError | null): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      // The verdict is in: drop the connection (a fresh one is opened for the next probe).
      if (res !== undefined) res.destroy();
      req.destroy();
      if (err === null) resolve(); else reject(err);
    };
    const onAbort = (): void => finish(new HealthProbeError('SWY_HC_ABORTED', 'probe aborted'));
    const timer = setTimeout(() => finish(new HealthProbeError('SWY_HC_TIMEOUT', `no verdict within ${opts.timeoutMs}ms`)), opts.timeoutMs);
    signal.addEventListener('abort', onAbort, { once: true });

    req.on('error', (err) => finish(new HealthProbeError('SWY_HC_CONNECT', `connection failed: ${errorCode(err)}`, { cause: err })));
    req.on('response', (r) => {
      res = r;
      const status = r.statusCode ?? 0;
      r.on('error', (err) => finish(new HealthProbeError('SWY_HC_CONNECT', `body read failed: ${errorCode(err)}`, { cause: err, status })));
      r.on('aborted', () => finish(new HealthProbeError('SWY_HC_CONNECT', 'connection closed during the body', { status })));
      if (!opts.expectedStatuses.some(([lo, hi]) => status >= lo && status <= hi)) {
        finish(new HealthProbeError('SWY_HC_STATUS', `status ${status} not in ${formatRanges(opts.expectedStatuses)}`, { status }));
        return;
      }
      const needle = opts.bodyContains;
      if (needle === undefined || needle === '') {
        finish(null);
        return;
      }
      const want = Buffer.from(needle, 'utf8');
      const chunks: Buffer[] = [];
      let size = 0;
      const check = (): boolean => {
        const body = Buffer.concat(chunks, size);
        if (body.subarray(0, MAX_PROBE_BODY_BYTES).includes(want)) { finish(null); return true; }
        if (size >= MAX_PROBE_BODY_BYTES) {
          finish(new HealthProbeError('SWY_HC_BODY', `first ${MAX_PROBE_BODY_BYTES} bytes of the body do not contain ${JSON.stringify(needle)}`, { status }));
          return true;
        }
        return false;
      };
      r.on('data', (chunk: Buffer) => {
        if (settled) return;
        chunks.push(chunk);
        size += chunk.length;
        check();
      });
      r.on('end', () => {
        if (settled) return;
        if (!check()) finish(new HealthProbeError('SWY_HC_BODY', `body (${size} bytes) does not contain ${JSON.stringify(needle)}`, { status }));
      });
    });
    req.end();
  });
}
