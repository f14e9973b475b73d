import { createHash } from 'node:crypto';

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
      return (s) => ipPrefix(s.clientIp, ipv4Prefix, ipv6Prefix);
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

/**
 * The address, or its network for the given prefix lengths (`203.0.113.0/24`, `2001:db8:1:2::/64`).
 * IPv4-mapped IPv6 addresses (`::ffff:1.2.3.4`, what a dual-stack socket reports) count as IPv4.
 */
export function ipPrefix(ip: string, v4: number, v6: number): string {
  if (ip.startsWith('::ffff:') && ip.indexOf('.') !== -1) ip = ip.slice(7);
  if (ip.indexOf(':') === -1) {
    if (v4 >= 32) return ip;
    const p = ip.split('.').map(Number);
    if (p.length !== 4 || p.some((n) => !(n >= 0 && n <= 255))) return ip;
    const n = (((p[0] << 24) | (p[1] << 16) | (p[2] << 8) | p[3]) >>> 0) & (v4 === 0 ? 0 : (~0 << (32 - v4)) >>> 0);
    return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}/${v4}`;
  }
  if (v6 >= 128) return ip;
  const groups = expandV6(ip);
  if (groups === undefined) return ip;
  const out: number[] = [];
  for (let i = 0; i < 8; i++) {
    const bits = Math.max(0, Math.min(16, v6 - i * 16));
    out.push(bits === 0 ? 0 : groups[i] & ((0xffff << (16 - bits)) & 0xffff));
  }
  return `${out.map((g) => g.toString(16)).join(':')}/${v6}`;
}

/** The eight 16-bit groups of an IPv6 address (zone id dropped), or undefined when it is not one. */
function expandV6(ip: string): number[] | undefined {
  const pct = ip.indexOf('%');
  if (pct !== -1) ip = ip.slice(0, pct);
  const halves = ip.split('::');
  if (halves.length > 2) return undefined;
  const parse = (s: string) => (s === '' ? [] : s.split(':').map((g) => parseInt(g, 16)));
  const head = parse(halves[0]);
  const tail = halves.length === 2 ? parse(halves[1]) : [];
  const fill = 8 - head.length - tail.length;
  if (fill < 0 || (halves.length === 1 && fill !== 0)) return undefined;
  const all = [...head, ...new Array<number>(fill).fill(0), ...tail];
  return all.some((g) => !(g >= 0 && g <= 0xffff)) ? undefined : all;
}
