import { masked, type Cidr, type Ip } from '../util/cidr.js';

/*
 * CIDR prefixes of both families with a value each, for longest-prefix match: one hash table per
 * prefix length in use, probed from the longest length down (the first hit is the longest
 * match). A lookup costs one probe per distinct length — a deny list of 100,000 /24s is one
 * probe — and memory is one entry per prefix (a bit trie of the same list held ~2 million nodes,
 * 56 MB, and a lookup missed the cache at every level). Built once per config (or change of the
 * temporary blocks), then only read.
 */

/** One stored prefix that matched an address. */
export interface PrefixMatch<T> { len: number; value: T }

/** An IPv6 address's first `len` bits as a table key (IPv4 keys are the masked word itself). */
const key6 = (ip: Ip, len: number) => masked(ip, len).words.join(',');

export class PrefixTable<T> {
  private readonly v4 = new Map<number, Map<number, T>>();
  private readonly v6 = new Map<number, Map<string, T>>();
  /** Lengths in use, longest first. */
  private lens4: number[] = [];
  private lens6: number[] = [];
  private count = 0;

  get size(): number { return this.count; }

  /** Stores `value` for `cidr` (replacing the value of the same prefix). */
  insert(cidr: Cidr, value: T): void {
    if (cidr.ip.v6) {
      let t = this.v6.get(cidr.len);
      if (t === undefined) { t = new Map(); this.v6.set(cidr.len, t); this.lens6 = [...this.v6.keys()].sort((a, b) => b - a); }
      const k = key6(cidr.ip, cidr.len);
      if (!t.has(k)) this.count++;
      t.set(k, value);
      return;
    }
    let t = this.v4.get(cidr.len);
    if (t === undefined) { t = new Map(); this.v4.set(cidr.len, t); this.lens4 = [...this.v4.keys()].sort((a, b) => b - a); }
    const k = masked(cidr.ip, cidr.len).words[0];
    if (!t.has(k)) this.count++;
    t.set(k, value);
  }

  /** The longest stored prefix containing `ip`, or undefined. */
  longest(ip: Ip): PrefixMatch<T> | undefined {
    if (!ip.v6) {
      const w = ip.words[0];
      for (const len of this.lens4) {
        const v = this.v4.get(len)!.get(len === 0 ? 0 : (w & (~0 << (32 - len))) >>> 0);
        if (v !== undefined) return { len, value: v };
      }
      return undefined;
    }
    for (const len of this.lens6) {
      const v = this.v6.get(len)!.get(key6(ip, len));
      if (v !== undefined) return { len, value: v };
    }
    return undefined;
  }

  /** Every stored prefix containing `ip`, longest first (temporary blocks: the longest may have expired while a shorter one holds). */
  *matches(ip: Ip): Generator<PrefixMatch<T>> {
    if (!ip.v6) {
      const w = ip.words[0];
      for (const len of this.lens4) {
        const v = this.v4.get(len)!.get(len === 0 ? 0 : (w & (~0 << (32 - len))) >>> 0);
        if (v !== undefined) yield { len, value: v };
      }
      return;
    }
    for (const len of this.lens6) {
      const v = this.v6.get(len)!.get(key6(ip, len));
      if (v !== undefined) yield { len, value: v };
    }
  }
}
