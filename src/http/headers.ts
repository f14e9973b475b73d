/*
 * Header handling on the hot path, over Node's flat `rawHeaders` arrays ([name, value, ...]):
 * one pass validates what would make a request ambiguous (request smuggling), drops hop-by-hop
 * headers and collects the few values the proxy needs. Names are lower-cased only when their
 * length matches a header we care about, which keeps the common case allocation-light.
 */

/** Lengths of every header name this module looks at (see `interesting`). */
const INTERESTING_LENGTHS = new Set([2, 3, 4, 6, 7, 10, 12, 14, 15, 16, 17]);

/**
 * Hop-by-hop headers (RFC 9110 §7.6.1) plus `expect`, which the server already answered, and
 * `http2-settings`, which only means something on an h2c upgrade (never forwarded).
 */
const HOP_BY_HOP = new Set([
  'connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'expect', 'http2-settings',
]);

/** What one pass over a request's headers found. Reused per call: read it before the next call. */
export interface RequestHead {
  host: string | undefined;
  hostCount: number;
  contentLengthCount: number;
  transferEncoding: string | undefined;
  transferEncodingCount: number;
  connection: string | undefined;
  upgrade: string | undefined;
  xForwardedFor: string | undefined;
  requestId: string | undefined;
  /** Forwardable headers (flat), without hop-by-hop and without the X-Forwarded-* we set. */
  forward: string[];
}

const head: RequestHead = {
  host: undefined, hostCount: 0, contentLengthCount: 0, transferEncoding: undefined, transferEncodingCount: 0,
  connection: undefined, upgrade: undefined, xForwardedFor: undefined, requestId: undefined, forward: [],
};

/**
 * Scans request headers. Returns the shared RequestHead (valid until the next call).
 * `keepUpgrade` keeps Connection/Upgrade for a WebSocket tunnel.
 */
export function scanRequestHeaders(raw: readonly string[], keepUpgrade = false): RequestHead {
  head.host = undefined; head.hostCount = 0; head.contentLengthCount = 0;
  head.transferEncoding = undefined; head.transferEncodingCount = 0; head.connection = undefined;
  head.upgrade = undefined; head.xForwardedFor = undefined; head.requestId = undefined;
  const out: string[] = [];
  head.forward = out;
  let extraHop = false;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i];
    const value = raw[i + 1];
    if (!INTERESTING_LENGTHS.has(name.length)) { out.push(name, value); continue; }
    const lower = name.toLowerCase();
    switch (lower) {
      case 'host': head.hostCount++; head.host = value; out.push(name, value); continue;
      case 'content-length': head.contentLengthCount++; out.push(name, value); continue;
      case 'transfer-encoding': head.transferEncodingCount++; head.transferEncoding = value; continue;
      case 'connection':
        head.connection = head.connection === undefined ? value : `${head.connection}, ${value}`;
        if (keepUpgrade) out.push(name, value);
        continue;
      case 'upgrade': head.upgrade = value; if (keepUpgrade) out.push(name, value); continue;
      case 'x-forwarded-for':
        head.xForwardedFor = head.xForwardedFor === undefined ? value : `${head.xForwardedFor}, ${value}`;
        continue;
      case 'x-forwarded-proto': case 'x-forwarded-host': continue;
      case 'x-request-id': head.requestId = value; out.push(name, value); continue;
    }
    if (HOP_BY_HOP.has(lower)) continue;
    out.push(name, value);
  }
  if (head.connection !== undefined) extraHop = hasNominatedHeaders(head.connection);
  if (extraHop) head.forward = dropNominated(out, head.connection!, keepUpgrade);
  return head;
}

/** True when Connection names headers beyond the usual keep-alive/close/upgrade tokens. */
function hasNominatedHeaders(connection: string): boolean {
  // The usual single token first: no split, no allocation (every keep-alive response carries it).
  const n = connection.length;
  if (n === 10 || n === 5 || n === 7) {
    const l = connection.toLowerCase();
    if (l === 'keep-alive' || l === 'close' || l === 'upgrade') return false;
  }
  for (const t of connection.split(',')) {
    const tok = t.trim().toLowerCase();
    if (tok !== '' && tok !== 'keep-alive' && tok !== 'close' && tok !== 'upgrade') return true;
  }
  return false;
}

/** Drops the headers a Connection header nominates as hop-by-hop (rare path). */
function dropNominated(flat: string[], connection: string, keepUpgrade: boolean): string[] {
  const named = new Set(connection.split(',').map((t) => t.trim().toLowerCase()));
  if (keepUpgrade) named.delete('upgrade');
  // Framing and routing headers are never dropped this way: they were already counted and checked.
  named.delete('host');
  named.delete('content-length');
  const kept: string[] = [];
  for (let i = 0; i < flat.length; i += 2) {
    if (!named.has(flat[i].toLowerCase())) kept.push(flat[i], flat[i + 1]);
  }
  return kept;
}

/**
 * Why a request must not be forwarded, or undefined when it is unambiguous. Node's parser
 * already rejects invalid characters, oversized heads and Content-Length with Transfer-Encoding;
 * these are the cases it lets through that a proxy must not (RFC 9112 §6.3, §3.2).
 */
export function ambiguity(h: RequestHead, httpVersionMinor: number): string | undefined {
  if (h.hostCount > 1) return 'more than one Host header';
  if (h.hostCount === 0 && httpVersionMinor >= 1) return 'missing Host header';
  if (h.contentLengthCount > 1) return 'more than one Content-Length header';
  if (h.transferEncodingCount > 0) {
    if (h.contentLengthCount > 0) return 'both Content-Length and Transfer-Encoding';
    // RFC 9112 §6.1: an HTTP/1.0 message with Transfer-Encoding has faulty framing.
    if (httpVersionMinor === 0) return 'Transfer-Encoding in an HTTP/1.0 request';
    if (h.transferEncodingCount > 1 || h.transferEncoding!.trim().toLowerCase() !== 'chunked') {
      return 'Transfer-Encoding other than a single "chunked"';
    }
  }
  return undefined;
}

/**
 * Filters an upstream response's raw headers (Buffers from undici) into a flat string array for
 * `res.writeHead`, dropping hop-by-hop headers (Node frames the body itself) and appending Via.
 */
export function responseHeaders(raw: readonly Buffer[] | readonly string[], via: string): string[] {
  const out: string[] = [];
  let viaSeen = -1;
  let connection: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i].toString();
    const value = raw[i + 1].toString('latin1');
    if (INTERESTING_LENGTHS.has(name.length)) {
      const lower = name.toLowerCase();
      if (lower === 'connection') connection = connection === undefined ? value : `${connection}, ${value}`;
      if (HOP_BY_HOP.has(lower)) continue;
      if (lower === 'via') { viaSeen = out.length + 1; }
    }
    out.push(name, value);
  }
  if (viaSeen >= 0) out[viaSeen] = `${out[viaSeen]}, ${via}`;
  else out.push('via', via);
  if (connection !== undefined && hasNominatedHeaders(connection)) return dropNominated(out, connection, false);
  return out;
}
