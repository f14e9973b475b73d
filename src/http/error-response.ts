import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/** Stable codes for what the proxy answers itself; the body names the cause and request id. */
export const ProxyErrors = {
  /** A listener's monitorPath while the node is ready (answered by the listener, never forwarded). */
  SWY_MONITOR_READY: { status: 200, text: 'OK' },
  SWY_REDIRECT: { status: 308, text: 'Permanent Redirect' },
  SWY_BAD_REQUEST: { status: 400, text: 'Bad Request' },
  SWY_NO_ROUTE: { status: 404, text: 'Not Found' },
  SWY_RATE_LIMITED: { status: 429, text: 'Too Many Requests' },
  SWY_UPSTREAM_CONNECT: { status: 502, text: 'Bad Gateway' },
  SWY_UPSTREAM_RESET: { status: 502, text: 'Bad Gateway' },
  SWY_NO_BACKEND: { status: 503, text: 'Service Unavailable' },
  SWY_SHUTTING_DOWN: { status: 503, text: 'Service Unavailable' },
  /** A listener's monitorPath while the node is not ready (starting, draining, too few healthy backends…). */
  SWY_MONITOR_NOT_READY: { status: 503, text: 'Service Unavailable' },
  SWY_BULKHEAD_FULL: { status: 503, text: 'Service Unavailable' },
  SWY_UPSTREAM_TIMEOUT: { status: 504, text: 'Gateway Timeout' },
} as const;

export type ProxyErrorCode = keyof typeof ProxyErrors;

/** The text of a proxy error answer: status, cause, code and request id. */
export function errorBody(code: ProxyErrorCode, detail: string, requestId: string): string {
  const e = ProxyErrors[code];
  return `${e.status} ${e.text}: ${detail} (${code}, request id ${requestId})\n`;
}

/**
 * Answers a request with a proxy-generated error, unless a response has already started.
 * `close` asks an HTTP/1 client to go (HTTP/2 has no connection header; its stream just ends).
 * `extra`: more header fields, flat name/value (a refusal's Retry-After and RateLimit fields).
 */
export function sendError(res: ServerResponse, code: ProxyErrorCode, detail: string, requestId: string, close = false, extra: readonly string[] = NO_HEADERS): void {
  if (res.headersSent || res.destroyed) { res.destroy(); return; }
  if ('stream' in res) close = false;
  const text = errorBody(code, detail, requestId);
  res.writeHead(ProxyErrors[code].status, [
    'content-type', 'text/plain; charset=utf-8',
    'content-length', String(Buffer.byteLength(text)),
    'x-request-id', requestId,
    ...(code === 'SWY_BULKHEAD_FULL' ? ['retry-after', '1'] : []),
    ...(code === 'SWY_REDIRECT' ? ['location', detail] : []),
    ...(close ? ['connection', 'close'] : []),
    ...extra,
  ]);
  res.end(text);
}

/** `extra` header fields as raw HTTP/1 lines (values come from the proxy, never from the client). */
export function rawHeaderLines(extra: readonly string[]): string {
  let out = '';
  for (let i = 0; i < extra.length; i += 2) out += `${extra[i]}: ${extra[i + 1]}\r\n`;
  return out;
}

export const NO_HEADERS: readonly string[] = Object.freeze([]);

/** The same answer written raw onto a socket (for upgrade requests, which have no ServerResponse). */
export function sendRawError(socket: Socket, code: ProxyErrorCode, detail: string, requestId: string, extra: readonly string[] = NO_HEADERS): void {
  if (socket.destroyed) return;
  const e = ProxyErrors[code];
  const text = errorBody(code, detail, requestId);
  socket.end(`HTTP/1.1 ${e.status} ${e.text}\r\ncontent-type: text/plain; charset=utf-8\r\n` +
    `content-length: ${Buffer.byteLength(text)}\r\nx-request-id: ${requestId}\r\n${rawHeaderLines(extra)}connection: close\r\n\r\n${text}`);
}
