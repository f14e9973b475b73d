import type { Readiness } from '../runtime/readiness.js';
import type { AnnouncementState } from '../anycast/announcer.js';

/** What a node's fleet record says about its readiness and anycast announcement (small: written to etcd on every change). */
export interface AnycastRecord {
  ready: boolean;
  readyReason: string;
  /** announced / withdrawn / unknown; absent when the node has no `anycast` block. */
  state?: AnnouncementState['state'];
  reason?: string;
  since?: string;
  vips?: string[];
  birdReachable?: boolean;
  /** BGP sessions: name, BIRD state, BGP state, neighbor. */
  bgp?: { name: string; state: string; bgpState?: string; neighbor?: string }[];
  bfd?: { address: string; iface: string; state: string }[];
}

/** The record from the node's readiness and its announcer's state. */
export function anycastRecord(r: Readiness, a: AnnouncementState | undefined): AnycastRecord {
  const base = { ready: r.ready, readyReason: r.reason };
  if (a === undefined) return base;
  return {
    ...base, state: a.state, reason: a.reason, since: a.since, vips: a.vips, birdReachable: a.bird.reachable,
    bgp: a.bird.protocols.filter((p) => p.proto === 'BGP').map((p) => ({ name: p.name, state: p.state, bgpState: p.bgpState, neighbor: p.neighbor })),
    bfd: a.bird.bfd,
  };
}

/** One column of `switchyard fleet`: `announced`, `withdrawn (draining)`, with BGP/BFD up counts. */
export function formatAnycast(a: AnycastRecord | undefined): string {
  if (a === undefined) return '-';
  if (a.state === undefined) return a.ready ? 'ready' : `not ready (${a.readyReason})`;
  const bgp = a.bgp ?? [];
  const bfd = a.bfd ?? [];
  const sessions = `bgp ${bgp.filter((b) => b.bgpState === 'Established').length}/${bgp.length} bfd ${bfd.filter((b) => b.state === 'Up').length}/${bfd.length}`;
  const why = a.state === 'announced' ? '' : ` (${a.reason})`;
  return `${a.state}${why} ${a.birdReachable === false ? 'bird unreachable' : sessions}`;
}
