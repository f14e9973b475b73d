import { createHash } from 'node:crypto';
import { prefixOf } from '../util/cidr.js';

/*
 * What a rate limit counts by: the key of one request. A header, cookie or identity a request
 * does not carry falls back to its client address (`ip:` prefix), so leaving the header out is
 * never a way around the limit. Keys longer than MAX_KEY characters are replaced by their hash,
 * so a client cannot make a stored key (nor a Redis key) larger than that.
 */

/** How a limit derives keys (the config's `key`, validated). */
export type KeySpec =
  | { by: 'client-ip'; ipv4Prefix: number; ipv6Prefix: number }
  | { by: 'header'; name: string }
  | { by: 'cookie'; name: string }
  | { by: 'identity'; header: string }
  | { by: 'route' }
  | { by: 'global' };

/** What a key is read from: the client address, the request headers (flat name/value list) and the route name. */
export interface KeySource { clientIp: string; headers: readonly string[]; route: string }

const MAX_KEY = 64;

/** Reads one key kind from requests; `of` is on the hot path. */
export type KeyFn = (s: KeySource) => string;

/** The key function of `spec`. */
export function keyFunction(spec: KeySpec): KeyFn {
  switch (spec.by) {
    case 'client-ip': {
      const { ipv4Prefix, ipv6Prefix } = spec;
      // The whole address needs no parse (IPv4-mapped IPv6, what a dual-stack socket reports, as IPv4);
      // a network is util/cidr.ts's prefixOf, the one the abuse defences key their prefixes by.
      if (ipv4Prefix >= 32 && ipv6Prefix >= 128) return (s) => (s.clientIp.startsWith('::ffff:') && s.clientIp.includes('.') ? s.clientIp.slice(7) : s.clientIp);
      return (s) => prefixOf(s.clientIp, ipv4Prefix, ipv6Prefix) ?? s.clientIp;
    }
    case 'header': case 'identity': {
      const name = (spec.by === 'header' ? spec.name : spec.header).toLowerCase();
      // Identities are shown in the admin top list; other header values are masked there (h:).
      const tag = spec.by === 'header' ? 'h:' : 'id:';
      return (s) => { const v = headerValue(s.headers, name); return v === undefined || v === '' ? `ip:${s.clientIp}` : bounded(tag + v); };
    }
    case 'cookie': {
      const name = spec.name;
      return (s) => { const v = cookieValue(s.headers, name); return v === undefined || v === '' ? `ip:${s.clientIp}` : bounded(`c:${v}`); };
    }
    case 'route': return (s) => s.route;
    case 'global': return () => '*';
  }
}

function bounded(key: string): string {
  return key.length <= MAX_KEY ? key : `#${createHash('sha256').update(key).digest('base64url')}`;
}

/** The value of header `lower` (all its lines joined by ", "), or undefined. */
export function headerValue(flat: readonly string[], lower: string): string | undefined {
  let out: string | undefined;
  for (let i = 0; i < flat.length; i += 2) {
    const n = flat[i];
    if (n.length === lower.length && n.toLowerCase() === lower) out = out === undefined ? flat[i + 1] : `${out}, ${flat[i + 1]}`;
  }
  return out;
}

/** The first value of cookie `name` over every Cookie header line, or undefined. */
export function cookieValue(flat: readonly string[], name: string): string | undefined {
  for (let i = 0; i < flat.length; i += 2) {
    if (flat[i].length !== 6 || flat[i].toLowerCase() !== 'cookie') continue;
    for (const part of flat[i + 1].split(';')) {
      const eq = part.indexOf('=');
      if (eq !== -1 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
    }
  }
  return undefined;
}
