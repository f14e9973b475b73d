import { isIP } from 'node:net';

/** An address as bytes (4 for IPv4, 16 for IPv6); IPv4-mapped IPv6 (`::ffff:a.b.c.d`) is taken as IPv4. */
export function addressBytes(text: string): Uint8Array | undefined {
  const t = text.startsWith('::ffff:') && text.includes('.') ? text.slice(7) : text;
  const family = isIP(t);
  if (family === 4) return Uint8Array.from(t.split('.').map(Number));
  if (family !== 6) return undefined;
  const [head, tail] = t.includes('::') ? t.split('::') : [t, undefined];
  const groups = (s: string | undefined) => (s === undefined || s === '' ? [] : s.split(':'));
  const h = groups(head);
  let tl = groups(tail);
  // An embedded IPv4 tail (::ffff:1.2.3.4 style) counts as two groups.
  const last = (tail === undefined ? h : tl).at(-1);
  const v4 = last !== undefined && last.includes('.') ? last.split('.').map(Number) : undefined;
  const words = (xs: string[]) => xs.filter((x) => !x.includes('.')).map((x) => parseInt(x, 16));
  const hw = words(h);
  tl = tl.filter((x) => !x.includes('.'));
  const tw = words(tl);
  const v4w = v4 === undefined ? [] : [(v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]];
  const fill = 8 - hw.length - tw.length - v4w.length;
  const all = tail === undefined ? [...hw, ...v4w] : [...hw, ...Array(fill).fill(0), ...tw, ...v4w];
  const out = new Uint8Array(16);
  all.forEach((w, i) => { out[2 * i] = w >> 8; out[2 * i + 1] = w & 0xff; });
  return out;
}

/** `10.0.0.0/8` → bytes and length; undefined when malformed (bits past the length may be set: they are ignored). */
export function parseCidr(text: string): { bytes: Uint8Array; length: number } | undefined {
  const [addr, len, ...rest] = text.trim().split('/');
  const bytes = addressBytes(addr);
  if (bytes === undefined || rest.length > 0) return undefined;
  const max = bytes.length * 8;
  const length = len === undefined ? max : /^\d{1,3}$/.test(len) ? Number(len) : NaN;
  if (!(length >= 0 && length <= max)) return undefined;
  return { bytes, length };
}

const bit = (b: Uint8Array, i: number) => (b[i >> 3] >> (7 - (i & 7))) & 1;

/** What a lookup found: the value of the longest matching prefix, and the ECS scope (see `CidrTable.lookup`). */
export interface CidrMatch<T> { value: T | undefined; matchedLength: number; scope: number }

/**
 * Longest-prefix match of IPv4 and IPv6 addresses to values (client subnet → region), a binary
 * trie per family kept in flat arrays (a GeoIP export of 100 000 prefixes stays a few MB).
 * A later `add` of the same prefix replaces the value.
 */
export class CidrTable<T> {
  private readonly tries = { 4: new Trie<T>(), 16: new Trie<T>() };

  /** Adds a prefix; throws on a malformed one. */
  add(cidr: string, value: T): void {
    const p = parseCidr(cidr);
    if (p === undefined) throw new Error(`invalid CIDR "${cidr}"`);
    this.tries[p.bytes.length as 4 | 16].add(p.bytes, p.length, value);
  }

  /**
   * The value for `address` (bytes, only the first `prefixLength` bits significant: an ECS
   * source prefix). `scope`: how many leading bits of the address decided the answer (RFC 7871
   * SCOPE PREFIX-LENGTH: every address sharing them gets the same value).
   */
  lookup(address: Uint8Array, prefixLength = address.length * 8): CidrMatch<T> {
    return this.tries[address.length as 4 | 16].lookup(address, prefixLength);
  }
}

class Trie<T> {
  private readonly zero: number[] = [0];
  private readonly one: number[] = [0];
  private readonly value: (T | undefined)[] = [undefined];

  add(bytes: Uint8Array, length: number, v: T): void {
    let n = 0;
    for (let i = 0; i < length; i++) {
      const side = bit(bytes, i) === 0 ? this.zero : this.one;
      if (side[n] === 0) {
        side[n] = this.value.length;
        this.zero.push(0); this.one.push(0); this.value.push(undefined);
      }
      n = side[n];
    }
    this.value[n] = v;
  }

  lookup(bytes: Uint8Array, prefixLength: number): CidrMatch<T> {
    let n = 0;
    let depth = 0;
    let best: T | undefined = this.value[0];
    let matchedLength = 0;
    const max = bytes.length * 8;
    for (; depth < max; depth++) {
      const b = depth < prefixLength ? bit(bytes, depth) : 0;
      const next = b === 0 ? this.zero[n] : this.one[n];
      if (next === 0) break;
      n = next;
      if (this.value[n] !== undefined) { best = this.value[n]; matchedLength = depth + 1; }
    }
    // Past `depth` the path ends: a sibling branch there holds a more specific prefix the
    // client's next bit avoids, so that bit decides too.
    const branches = depth < max && (this.zero[n] !== 0 || this.one[n] !== 0);
    return { value: best, matchedLength, scope: Math.min(max, depth + (branches ? 1 : 0)) };
  }
}
