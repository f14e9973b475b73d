import { parseCidr, type Cidr, type Ip } from '../util/cidr.js';
import { PrefixTable } from './prefix-table.js';

/*
 * Allow/deny rules by CIDR, decided at accept. The most specific matching rule wins (longest
 * prefix, as in routing tables), a deny winning a tie: so "deny 0.0.0.0/0, allow 192.0.2.0/24"
 * admits only that /24, and "allow 10.0.0.0/8, deny 10.66.0.0/16" carves a hole out of the /8.
 * An address no rule matches is admitted, unless there are allow rules (then only what they
 * cover is). Temporary blocks (the admin API, spike mitigation) are deny rules with an expiry
 * that also win over an allow rule of the same or a shorter prefix.
 */

/** Why a connection is refused at accept, or `ok`. */
export type AccessVerdict = 'ok' | 'denied' | 'blocked';

/** One temporary block as the primary sends it to every worker. */
export interface TemporaryBlock {
  /** Canonical `address/len`. */
  cidr: string;
  /** Epoch ms after which it no longer applies. */
  expiresAt: number;
  reason?: string;
  /** Who placed it: `admin` or `spike`. */
  source: 'admin' | 'spike';
}

/** Parses rules, throwing with the first bad one (the schema already refused bad text). */
function cidrs(list: readonly string[]): Cidr[] {
  return list.map((text) => {
    const c = parseCidr(text);
    if (typeof c === 'string') throw new Error(c);
    return c;
  });
}

/** Compiled allow/deny rules of one listener (its own and the global ones together). */
export class AccessList {
  private readonly rules = new PrefixTable<'allow' | 'deny'>();
  private readonly hasAllow: boolean;

  constructor(allow: readonly string[], deny: readonly string[]) {
    for (const c of cidrs(allow)) this.rules.insert(c, 'allow');
    for (const c of cidrs(deny)) this.rules.insert(c, 'deny'); // a prefix in both lists is denied
    this.hasAllow = allow.length > 0;
  }

  /** True when no rule can refuse anything (the accept path then skips reading the address). */
  get empty(): boolean { return this.rules.size === 0; }

  /** The verdict for `ip` with `blocks` in force at `now` (epoch ms). */
  check(ip: Ip, blocks: BlockSet, now: number): AccessVerdict {
    const rule = this.rules.longest(ip);
    const block = blocks.longestActive(ip, now);
    if (block !== undefined && (rule === undefined || rule.value === 'deny' || block >= rule.len)) return 'blocked';
    if (rule !== undefined) return rule.value === 'allow' ? 'ok' : 'denied';
    return this.hasAllow ? 'denied' : 'ok';
  }
}

/** The temporary blocks in force on a worker (replaced whole on every change). */
export class BlockSet {
  private readonly table = new PrefixTable<number>();

  constructor(blocks: readonly TemporaryBlock[] = []) {
    for (const b of blocks) {
      const c = parseCidr(b.cidr);
      if (typeof c !== 'string') this.table.insert(c, b.expiresAt);
    }
  }

  get size(): number { return this.table.size; }

  /** The prefix length of the longest block containing `ip` that has not expired at `now`, or undefined. */
  longestActive(ip: Ip, now: number): number | undefined {
    if (this.table.size === 0) return undefined;
    for (const m of this.table.matches(ip)) if (m.value > now) return m.len;
    return undefined;
  }
}
