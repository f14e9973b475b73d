
/*
 * IP addresses and CIDR prefixes as numbers, for the accept-time access checks and per-client
 * keys. An address is one 32-bit word (IPv4) or four (IPv6, most significant first). An
 * IPv4-mapped IPv6 address (`::ffff:192.0.2.1`, what a dual-stack socket reports for an IPv4
 * client) is the IPv4 address: a rule written for 192.0.2.0/24 must match it.
 */

/** A parsed address: `v6` false → `words` has one entry. Words are unsigned 32-bit. */
export interface Ip { v6: boolean; words: number[] }

/** A prefix: the address with every bit past `len` zero. */
export interface Cidr { ip: Ip; len: number }

/** A hex digit's value, or -1. */
function hexDigit(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  const l = c | 32; // lower case
  return l >= 97 && l <= 102 ? l - 87 : -1;
}

/**
 * The 8 groups of an IPv6 address (zone already removed) as 16-bit numbers, or undefined when the
 * text is not one: 1–4 hex digits per group, at most one `::`, an optional dotted IPv4 tail.
 * Hand-written for the same reason as `quad`.
 */
function v6Groups(s: string): number[] | undefined {
  const n = s.length;
  const groups: number[] = [];
  let gap = -1;
  let i = 0;
  if (n < 2) return undefined;
  if (s.charCodeAt(0) === 58) {
    if (s.charCodeAt(1) !== 58) return undefined;
    gap = 0;
    i = 2;
  }
  while (i < n) {
    let j = i;
    let v = 0;
    for (let d; j < n && j - i < 5 && (d = hexDigit(s.charCodeAt(j))) >= 0; j++) v = v * 16 + d;
    if (j < n && s.charCodeAt(j) === 46) { // a dotted IPv4 tail: the last two groups
      const q = quad(s.slice(i));
      if (q < 0 || groups.length > 6) return undefined;
      groups.push(q >>> 16, q & 0xffff);
      break;
    }
    if (j === i || j - i > 4 || groups.length === 8) return undefined;
    groups.push(v);
    i = j;
    if (i === n) break;
    if (s.charCodeAt(i) !== 58 || ++i === n) return undefined; // a group ends with ':' and something follows it
    if (s.charCodeAt(i) === 58) {
      if (gap >= 0) return undefined;
      gap = groups.length;
      i++;
    }
  }
  if (gap < 0) return groups.length === 8 ? groups : undefined;
  if (groups.length > 7) return undefined;
  return [...groups.slice(0, gap), ...new Array<number>(8 - groups.length).fill(0), ...groups.slice(gap)];
}

/**
 * Dotted-quad IPv4 as a 32-bit word, or -1. Hand-written: it runs once per accepted connection
 * with rules in force, and node:net's isIPv4 plus a split cost over a microsecond.
 */
function quad(s: string): number {
  let word = 0;
  let octet = -1;
  let dots = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 46) { // '.'
      if (octet < 0 || ++dots > 3) return -1;
      word = (word << 8) | octet;
      octet = -1;
    } else if (c >= 48 && c <= 57) {
      if (octet === 0) return -1; // a leading zero (octal in inet_aton): not what a socket reports
      octet = octet < 0 ? c - 48 : octet * 10 + c - 48;
      if (octet > 255) return -1;
    } else return -1;
  }
  return dots === 3 && octet >= 0 ? ((word << 8) | octet) >>> 0 : -1;
}

/** Parses an address (IPv4, IPv6 with an optional zone, IPv4-mapped IPv6 as IPv4); undefined when it is none. */
export function parseIp(text: string): Ip | undefined {
  const q = quad(text);
  if (q >= 0) return { v6: false, words: [q] };
  const zone = text.indexOf('%');
  const g = v6Groups(zone === -1 ? text : text.slice(0, zone));
  if (g === undefined) return undefined;
  if (g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0 && g[5] === 0xffff) {
    return { v6: false, words: [((g[6] << 16) | g[7]) >>> 0] };
  }
  return { v6: true, words: [((g[0] << 16) | g[1]) >>> 0, ((g[2] << 16) | g[3]) >>> 0, ((g[4] << 16) | g[5]) >>> 0, ((g[6] << 16) | g[7]) >>> 0] };
}

/** Bit `i` (0 = most significant) of an address. */
export function bitAt(ip: Ip, i: number): number {
  return (ip.words[i >>> 5] >>> (31 - (i & 31))) & 1;
}

/** The address with every bit from `len` on cleared. */
export function masked(ip: Ip, len: number): Ip {
  return {
    v6: ip.v6,
    words: ip.words.map((w, i) => {
      const keep = Math.max(0, Math.min(32, len - i * 32));
      return keep === 0 ? 0 : keep === 32 ? w : (w & (~0 << (32 - keep))) >>> 0;
    }),
  };
}

/** `a.b.c.d` or the canonical (RFC 5952: lower case, longest zero run as `::`) IPv6 text. */
export function formatIp(ip: Ip): string {
  if (!ip.v6) { const w = ip.words[0]; return `${w >>> 24}.${(w >>> 16) & 255}.${(w >>> 8) & 255}.${w & 255}`; }
  const g = ip.words.flatMap((w) => [w >>> 16, w & 0xffff]);
  let best = -1; let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (g[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) { best = i; bestLen = j - i; }
    i = j;
  }
  const hex = (a: number[]) => a.map((x) => x.toString(16)).join(':');
  return best === -1 ? hex(g) : `${hex(g.slice(0, best))}::${hex(g.slice(best + bestLen))}`;
}

/**
 * Parses `address/len` (or a bare address: /32, /128). Returns the prefix or why it is none:
 * bits set past the length are refused rather than silently cleared (`10.1.2.3/8` is a typo for
 * something, and the operator should say which).
 */
export function parseCidr(text: string): Cidr | string {
  const slash = text.indexOf('/');
  const ip = parseIp(slash === -1 ? text : text.slice(0, slash));
  if (ip === undefined) return `"${text}" is not an IP address or CIDR prefix`;
  const max = ip.v6 ? 128 : 32;
  const lenText = slash === -1 ? String(max) : text.slice(slash + 1);
  const len = /^\d{1,3}$/.test(lenText) ? Number(lenText) : NaN;
  if (!(len >= 0 && len <= max)) return `"${text}": prefix length must be 0..${max}`;
  const m = masked(ip, len);
  if (m.words.some((w, i) => w !== ip.words[i])) return `"${text}" has bits set past /${len} (did you mean ${formatIp(m)}/${len}?)`;
  return { ip: m, len };
}

/** `address/len`, canonical (the form the admin API lists and keys blocks by). */
export function formatCidr(c: Cidr): string {
  return `${formatIp(c.ip)}/${c.len}`;
}

/** The client's prefix of `ip` as `address/len` (v4Len for IPv4, v6Len for IPv6); undefined when `ip` is not an address. */
export function prefixOf(ip: string, v4Len: number, v6Len: number): string | undefined {
  const p = parseIp(ip);
  if (p === undefined) return undefined;
  const len = p.v6 ? v6Len : v4Len;
  return formatCidr({ ip: masked(p, len), len });
}
