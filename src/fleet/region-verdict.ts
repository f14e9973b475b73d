import type { DnsConfig } from '../config/dns-schema.js';
import type { NodeRecord } from './membership.js';

/** What one node's prober last saw of the other regions' VIPs (`PREFIX/region-probes/<node>`, JSON). */
export interface ProbeReport {
  node: string;
  /** The prober's own region (it does not vote on it). */
  region: string;
  /** Rises with every round: a report whose seq stops moving is stale (judged by the reader's clock). */
  seq: number;
  /** Region → whether at least one of its VIPs answered this round. */
  up: Record<string, boolean>;
}

/** One region's raw (undamped) health and why. */
export interface RegionVerdict { up: boolean; reason: string; votesDown: number; votesUp: number; readyNodes: number }

/** The region a fleet zone belongs to (`regions.<r>.zones`), if any. */
export function regionOfZone(dns: DnsConfig, zone: string): string | undefined {
  return Object.entries(dns.regions).find(([, r]) => r.zones.includes(zone))?.[0];
}

/** A node counts for its region while ready and, if it announces a VIP, announced. */
function serving(n: NodeRecord): boolean {
  const a = n.anycast;
  return a !== undefined && a.ready && (a.state === undefined || a.state === 'announced');
}

/**
 * Every region's raw health: down when it has member zones and none of their nodes is serving
 * (ready and announced), or when at least `health.quorum` fresh probers of other regions see
 * all its VIPs down (so one partitioned prober cannot fail a region). Pure: `fresh` are the
 * reports the caller judged current.
 */
export function regionVerdicts(dns: DnsConfig, nodes: readonly NodeRecord[], fresh: readonly ProbeReport[]): Map<string, RegionVerdict> {
  const out = new Map<string, RegionVerdict>();
  for (const [name, r] of Object.entries(dns.regions)) {
    const readyNodes = nodes.filter((n) => r.zones.includes(n.zone) && serving(n)).length;
    const voters = fresh.filter((p) => p.region !== name && p.up[name] !== undefined);
    const votesDown = voters.filter((p) => !p.up[name]).length;
    const votesUp = voters.length - votesDown;
    let reason = 'ok';
    if (r.zones.length > 0 && readyNodes === 0) reason = `no ready node in zones ${r.zones.join(', ')}`;
    else if (votesDown >= dns.health.quorum) reason = `VIPs unreachable from ${votesDown} prober(s) in other regions`;
    out.set(name, { up: reason === 'ok', reason, votesDown, votesUp, readyNodes });
  }
  return out;
}
