import { TopKeys } from '../hotspot/top-keys.js';
import { prefixOf } from '../util/cidr.js';

/*
 * Who sends each route's requests: per route, the heaviest client prefixes (/24, /64) among a
 * sample of the requests, counted in each worker on the request path and collected by the
 * primary about once a second (spike detection names the top offenders). One request in
 * `sampleEvery` is looked at (a random gap with that mean, so periodic traffic is not aliased);
 * the others cost one decrement. Memory: one Space-Saving table of 32 counters per route.
 */

export interface PrefixTapSettings { enabled: boolean; ipv4Prefix: number; ipv6Prefix: number; sampleEvery: number }

/** Counters per route kept at most (routes come from the config; this only guards a huge one). */
const MAX_ROUTES = 1024;

export class PrefixTap {
  private readonly byRoute = new Map<string, TopKeys>();
  private s: PrefixTapSettings = { enabled: false, ipv4Prefix: 24, ipv6Prefix: 64, sampleEvery: 8 };
  private skip = 1;

  /** New settings (a committed config); counts so far are dropped. */
  configure(s: PrefixTapSettings): void {
    this.s = s;
    this.byRoute.clear();
  }

  /** One request of `route` from `ip`. Hot path. */
  add(route: string, ip: string | undefined): void {
    if (!this.s.enabled || --this.skip > 0) return;
    const n = this.s.sampleEvery;
    this.skip = n === 1 ? 1 : 1 + Math.floor(Math.random() * (2 * n - 1));
    if (ip === undefined) return;
    const prefix = prefixOf(ip, this.s.ipv4Prefix, this.s.ipv6Prefix);
    if (prefix === undefined) return;
    let t = this.byRoute.get(route);
    if (t === undefined) {
      if (this.byRoute.size >= MAX_ROUTES) return;
      t = new TopKeys({ capacity: 32 });
      this.byRoute.set(route, t);
    }
    t.add(prefix);
  }

  /** The heaviest prefixes per route since the last take (counts scaled back to all requests); the counters start over. */
  take(n = 8): Record<string, { key: string; count: number }[]> {
    const out: Record<string, { key: string; count: number }[]> = {};
    for (const [route, t] of this.byRoute) {
      const top = t.top(n);
      if (top.length > 0) out[route] = top.map((k) => ({ key: k.key, count: k.count * this.s.sampleEvery }));
      t.reset();
    }
    return out;
  }
}

/** This worker's tap (one per process: the request path of every listener feeds it). */
export const prefixTap = new PrefixTap();
