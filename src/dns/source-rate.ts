import type { Clock } from '../util/clock.js';
import { addressBytes } from '../util/cidr-table.js';

/** The key a source is limited under: an IPv4 address, or the /56 of an IPv6 one (a host's share of a typical assignment). */
export function sourceKey(address: string): string {
  if (!address.includes(':') || address.startsWith('::ffff:')) return address.startsWith('::ffff:') ? address.slice(7) : address;
  const b = addressBytes(address);
  return b === undefined ? address : Buffer.from(b.subarray(0, 7)).toString('hex');
}

interface Bucket { tokens: number; at: number }

/**
 * Per-source token buckets (`rate` per second, up to `burst` at once) with bounded memory: at
 * most `maxSources` buckets, the least recently seen forgotten first (a forgotten source starts
 * with a full bucket, so a spoofed-source flood costs memory only up to the bound).
 */
export class SourceRate {
  private readonly buckets = new Map<string, Bucket>();

  constructor(private readonly clock: Clock, private rate: number, private burst: number, private maxSources: number) {}

  /** New settings (a reload); existing buckets keep their tokens, capped at the new burst. */
  configure(rate: number, burst: number, maxSources: number): void {
    this.rate = rate; this.burst = burst; this.maxSources = maxSources;
  }

  /** Takes one token for `address`; false when it has none (the query is to be dropped). */
  allow(address: string): boolean {
    const key = sourceKey(address);
    const now = this.clock.now();
    let b = this.buckets.get(key);
    if (b === undefined) {
      b = { tokens: this.burst, at: now };
      if (this.buckets.size >= this.maxSources) this.buckets.delete(this.buckets.keys().next().value!);
    } else {
      this.buckets.delete(key); // re-inserted below: Map order is recency order
      b.tokens = Math.min(this.burst, b.tokens + ((now - b.at) / 1000) * this.rate);
      b.at = now;
    }
    this.buckets.set(key, b);
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  /** Sources tracked now. */
  get size(): number { return this.buckets.size; }
}
