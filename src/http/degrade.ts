import { STATUS_CODES } from 'node:http';
import type { Service } from '../upstream/service.js';
import { ResponseCache, degradedHeaders } from './response-cache.js';

/*
 * Graceful degradation (the design's "all backends down → return cached response or error
 * page"): the last good GET responses of services with `degradation.staleCache`, kept in memory
 * per worker process, and the answer to give when no backend can answer.
 */

const cache = new ResponseCache();

/** Cache key of a request: service, host and target (path + query). */
export function staleKey(service: Service, host: string | undefined, target: string): string {
  return `${service.name}\n${host ?? ''}\n${target}`;
}

/** Collects one successful GET response while it streams, up to the cache's entry limit. */
export class ResponseCapture {
  private chunks: Buffer[] | null = [];
  private bytes = 0;

  constructor(private readonly key: string, private readonly status: number, private readonly headers: string[]) {}

  /** Whether a response of this service, method and status should be captured. */
  static wanted(service: Service, method: string | undefined, status: number): boolean {
    return service.config.degradation.staleCache && method === 'GET' && (status === 200 || status === 203);
  }

  add(chunk: Buffer): void {
    if (this.chunks === null) return;
    this.bytes += chunk.length;
    if (this.bytes > cache.maxEntryBytes) { this.chunks = null; return; }
    this.chunks.push(Buffer.from(chunk));
  }

  /** The response ended complete: store it (Cache-Control, size and status rules apply). */
  commit(): void {
    if (this.chunks === null) return;
    cache.store(this.key, this.status, this.headers, Buffer.concat(this.chunks, this.bytes), Date.now());
  }
}

/** What to send instead of an error: a stale copy, the service's error page, or nothing. */
export interface DegradedAnswer { kind: 'stale' | 'error-page'; status: number; headers: string[]; body: Buffer }

/**
 * The degraded answer for a request no backend could serve: the stale copy of a GET when the
 * service keeps them (with `Age` and `Warning: 110`), else the configured error page.
 */
export function degradedAnswer(service: Service, method: string | undefined, key: string): DegradedAnswer | undefined {
  const d = service.config.degradation;
  if (d.staleCache && method === 'GET') {
    const entry = cache.getStale(key, Date.now());
    if (entry !== undefined && entry.ageSeconds * 1000 <= d.staleMaxAge) {
      service.counters.degradedStale++;
      return { kind: 'stale', status: entry.status, headers: degradedHeaders(entry), body: entry.body };
    }
  }
  if (d.errorPage !== undefined) {
    const body = Buffer.from(d.errorPage.body);
    service.counters.degradedErrorPage++;
    return { kind: 'error-page', status: d.errorPage.status, headers: ['content-type', d.errorPage.contentType, 'content-length', String(body.length)], body };
  }
  return undefined;
}

/** The raw HTTP/1.1 head of a degraded answer (fast engine). */
export function degradedHead(a: DegradedAnswer, via: string, requestId: string, close: boolean): string {
  let head = `HTTP/1.1 ${a.status} ${STATUS_CODES[a.status] ?? 'Unknown'}\r\n`;
  for (let i = 0; i < a.headers.length; i += 2) head += `${a.headers[i]}: ${a.headers[i + 1]}\r\n`;
  head += `via: ${via}\r\nx-request-id: ${requestId}\r\n`;
  if (close) head += 'connection: close\r\n';
  return head + '\r\n';
}
