import { formatCidr, parseCidr } from '../util/cidr.js';
import type { TemporaryBlock } from './access-list.js';

/*
 * The temporary blocks of a node, kept by the primary (which sends the whole list to every
 * worker on each change and with every config). Bounded in count and in lifetime: an admin
 * API that could add blocks without end, or forever, would be a way to exhaust memory or to lock
 * clients out past anyone's memory of why. Pure: the caller passes the time.
 */

export interface BlockLimits { max: number; maxTtlMs: number }

export type AddResult = { ok: true; block: TemporaryBlock; replaced: boolean } | { ok: false; status: 400 | 409; error: string };

export class TemporaryBlockList {
  private readonly blocks = new Map<string, TemporaryBlock>();

  constructor(private limits: BlockLimits) {}

  configure(limits: BlockLimits): void { this.limits = limits; }

  /** Adds (or extends / replaces) a block of `cidrText` for `ttlMs` from `now`. */
  add(cidrText: string, ttlMs: number, now: number, source: TemporaryBlock['source'], reason?: string): AddResult {
    const c = parseCidr(cidrText);
    if (typeof c === 'string') return { ok: false, status: 400, error: c };
    if (!(Number.isFinite(ttlMs) && ttlMs > 0)) return { ok: false, status: 400, error: 'ttl must be a duration > 0' };
    if (ttlMs > this.limits.maxTtlMs) return { ok: false, status: 400, error: `ttl is over access.temporaryBlocks.maxTtl (${this.limits.maxTtlMs} ms)` };
    this.prune(now);
    const cidr = formatCidr(c);
    const replaced = this.blocks.has(cidr);
    if (!replaced && this.blocks.size >= this.limits.max) return { ok: false, status: 409, error: `${this.limits.max} temporary blocks in force (access.temporaryBlocks.max): remove one or wait for one to expire` };
    const block: TemporaryBlock = { cidr, expiresAt: now + ttlMs, source, ...(reason === undefined ? {} : { reason: reason.slice(0, 200) }) };
    this.blocks.set(cidr, block);
    return { ok: true, block, replaced };
  }

  /** Removes the block of `cidrText` (any spelling of the same prefix); false when there is none. */
  remove(cidrText: string): boolean {
    const c = parseCidr(cidrText);
    return typeof c !== 'string' && this.blocks.delete(formatCidr(c));
  }

  /** Forgets expired blocks; returns them. */
  prune(now: number): TemporaryBlock[] {
    const gone: TemporaryBlock[] = [];
    for (const [k, b] of this.blocks) if (b.expiresAt <= now) { gone.push(b); this.blocks.delete(k); }
    return gone;
  }

  /** The blocks in force at `now`, soonest expiry first. */
  list(now: number): TemporaryBlock[] {
    return [...this.blocks.values()].filter((b) => b.expiresAt > now).sort((a, b) => a.expiresAt - b.expiresAt);
  }

  get(cidrText: string): TemporaryBlock | undefined {
    const c = parseCidr(cidrText);
    return typeof c === 'string' ? undefined : this.blocks.get(formatCidr(c));
  }
}
