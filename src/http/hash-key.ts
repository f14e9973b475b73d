import type { RequestLike } from './request-like.js';
import type { HashKeyConfig } from '../config/schema.js';

/** Value of cookie `name` in a Cookie header, or undefined. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  let i = 0;
  while (i < header.length) {
    let end = header.indexOf(';', i);
    if (end === -1) end = header.length;
    while (header.charCodeAt(i) === 32) i++;
    // "=" is looked for inside this pair only: a cookie without "=" must not hide the next one.
    const eq = header.indexOf('=', i);
    if (eq !== -1 && eq < end && eq - i === name.length && header.startsWith(name, i)) return header.slice(eq + 1, end).trim();
    i = end + 1;
  }
  return undefined;
}

/** Value of query parameter `name` (decoded), or undefined. `query` excludes the `?`. */
export function queryValue(query: string, name: string): string | undefined {
  if (query === '') return undefined;
  for (const part of query.split('&')) {
    const eq = part.indexOf('=');
    const k = eq === -1 ? part : part.slice(0, eq);
    if (k === name) {
      const v = eq === -1 ? '' : part.slice(eq + 1);
      try { return decodeURIComponent(v.replace(/\+/g, ' ')); } catch { return v; }
    }
  }
  return undefined;
}

/**
 * The key a hash-based balancer hashes for this request, from the service's `hashKey` source.
 * Undefined when the source is absent in the request (the balancer then spreads randomly).
 */
export function hashKeyOf(src: HashKeyConfig | undefined, req: RequestLike, path: string, query: string): string | undefined {
  if (src === undefined) return undefined;
  switch (src.source) {
    case 'client-ip': return req.socket.remoteAddress;
    case 'path': return path;
    case 'header': {
      const v = req.headers[src.name.toLowerCase()];
      return Array.isArray(v) ? v[0] : v;
    }
    case 'cookie': return cookieValue(req.headers.cookie, src.name);
    case 'query': return queryValue(query, src.name);
  }
}
