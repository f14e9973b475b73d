import type { OutgoingHttpHeaders } from 'node:http2';
import { errorBody, ProxyErrors, type ProxyErrorCode } from '../error-response.js';

/** Fields HTTP/2 forbids (RFC 9113 §8.2.2); responseHeaders already drops them, this is the last guard. */
const CONNECTION_SPECIFIC = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade']);

/** Fields node:http2 accepts once per message (its kSingleValueHeaders): a second one is refused. */
const SINGLE_VALUE = new Set([
  'access-control-allow-credentials', 'access-control-max-age', 'access-control-request-method', 'age',
  'authorization', 'content-encoding', 'content-language', 'content-length', 'content-location', 'content-md5',
  'content-range', 'content-type', 'date', 'dnt', 'etag', 'expires', 'from', 'host', 'if-match',
  'if-modified-since', 'if-none-match', 'if-range', 'if-unmodified-since', 'last-modified', 'location',
  'max-forwards', 'proxy-authorization', 'range', 'referer', 'retry-after', 'tk', 'upgrade-insecure-requests',
  'user-agent', 'x-content-type-options',
]);

/**
 * A response head as HTTP/2 headers: names lower-cased, repeated fields as arrays, connection
 * fields dropped. Null when the head cannot be carried (a single-value field repeated), which
 * the exchange answers as the backend's fault (SWY_H2_HEADERS), as the node engine does.
 */
export function h2Headers(status: number, flat: readonly string[]): OutgoingHttpHeaders | null {
  const out: OutgoingHttpHeaders = { ':status': status };
  for (let i = 0; i < flat.length; i += 2) {
    const name = flat[i].toLowerCase();
    if (CONNECTION_SPECIFIC.has(name) || (name === 'te' && flat[i + 1].toLowerCase() !== 'trailers')) continue;
    const value = flat[i + 1];
    const prev = out[name];
    if (prev === undefined) { out[name] = value; continue; }
    if (SINGLE_VALUE.has(name)) return null;
    if (Array.isArray(prev)) prev.push(value); else out[name] = [prev as string, value];
  }
  return out;
}

/** The proxy's own error answer as HTTP/2 headers and body (the same fields as on HTTP/1.1). */
export function h2ErrorHead(code: ProxyErrorCode, detail: string, requestId: string, extra: readonly string[] = []): { headers: OutgoingHttpHeaders; body: string } {
  const body = errorBody(code, detail, requestId);
  const headers: OutgoingHttpHeaders = {
    ':status': ProxyErrors[code].status,
    'content-type': 'text/plain; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'x-request-id': requestId,
  };
  if (code === 'SWY_BULKHEAD_FULL') headers['retry-after'] = '1';
  if (code === 'SWY_REDIRECT') headers.location = detail;
  for (let i = 0; i < extra.length; i += 2) headers[extra[i].toLowerCase()] = extra[i + 1];
  return { headers, body };
}
