/*
 * What went wrong with one request, in a few stable kinds: the time series and the report count
 * errors by kind, so a failover shows "connect" (refused) apart from "http_5xx" (the LB answered 502).
 */

export type ErrorKind = 'http_4xx' | 'http_5xx' | 'connect' | 'timeout' | 'reset' | 'other';

export const ERROR_KINDS: readonly ErrorKind[] = ['http_5xx', 'http_4xx', 'connect', 'timeout', 'reset', 'other'];

/** A response status as an error kind; null for a success (< 400). */
export function kindOfStatus(status: number): ErrorKind | null {
  if (status >= 500) return 'http_5xx';
  if (status >= 400) return 'http_4xx';
  return null;
}

const CONNECT = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EADDRNOTAVAIL', 'EAI_AGAIN']);
const TIMEOUT = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ETIMEDOUT']);
const RESET = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED', 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH']);

/** Classifies an undici/network error by its `code` (or its cause's: undici wraps socket errors). */
export function kindOfError(e: unknown): ErrorKind {
  for (let cur = e, depth = 0; cur !== null && typeof cur === 'object' && depth < 4; cur = (cur as { cause?: unknown }).cause, depth++) {
    const code = (cur as { code?: unknown }).code;
    if (typeof code !== 'string') continue;
    if (CONNECT.has(code)) return 'connect';
    if (TIMEOUT.has(code)) return 'timeout';
    if (RESET.has(code)) return 'reset';
  }
  return 'other';
}
