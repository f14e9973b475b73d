import { bitAt, type Cidr, type Ip } from '../util/cidr.js';

/*
 * A binary trie of CIDR prefixes (one per address family) for longest-prefix match, as routers
 * do it: a lookup walks at most 32 (IPv4) or 128 (IPv6) nodes, whatever the number of prefixes,
 * so a deny list of 100,000 entries costs an accept the same as one of ten. Built once per config
 * (or per change of the temporary blocks) and then only read.
 */

interface Node<T> { zero?: Node<T>; one?: Node<T>; value?: T }

/** One stored prefix that matched an address. */
export interface TrieMatch<T> { len: number; value: T }

/** Prefixes of both families, each with a value; inserting a prefix again replaces its value. */
export class PrefixTrie<T> {
  private readonly v4: Node<T> = {};
  private readonly v6: Node<T> = {};
  private count = 0;

  get size(): number { return this.count; }

  insert(cidr: Cidr, value: T): void {
    let n = cidr.ip.v6 ? this.v6 : this.v4;
    for (let i = 0; i < cidr.len; i++) {
      n = bitAt(cidr.ip, i) === 0 ? (n.zero ??= {}) : (n.one ??= {});
    }
    if (n.value === undefined) this.count++;
    n.value = value;
  }

  /** The longest stored prefix containing `ip`, or undefined. */
  longest(ip: Ip): TrieMatch<T> | undefined {
    let best: TrieMatch<T> | undefined;
    this.walk(ip, (len, value) => { best = { len, value }; return true; });
    return best;
  }

  /**
   * Calls `visit` for every stored prefix containing `ip`, shortest first, until it returns
   * false (temporary blocks: the longest one may have expired while a shorter one holds).
   */
  walk(ip: Ip, visit: (len: number, value: T) => boolean): void {
    let n: Node<T> | undefined = ip.v6 ? this.v6 : this.v4;
    const bits = ip.v6 ? 128 : 32;
    for (let i = 0; n !== undefined; i++) {
      if (n.value !== undefined && !visit(i, n.value)) return;
      if (i === bits) return;
      n = bitAt(ip, i) === 0 ? n.zero : n.one;
    }
  }
}
