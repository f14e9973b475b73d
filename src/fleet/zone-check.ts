import type { NodeRecord } from './membership.js';

/*
 * The fleet's N+1 per zone, from the member list: each zone must keep serving its own traffic
 * after losing one LB node (zone-aware balancing keeps traffic in its zone), and the other zones
 * must carry a whole zone's traffic after it fails — both below the design's CPU headroom. Load
 * is the nodes' published CPU (every node assumed the same size), so the check follows the
 * traffic the fleet really has.
 */

/** The design's CPU headroom: a node should stay at or under 70% (capacity/planner.ts DESIGN_HEADROOM.qps). */
export const DEFAULT_MAX_CPU_PERCENT = 70;

export interface ZoneStatus {
  zone: string;
  /** LB nodes serving (ready) in the zone. */
  nodes: number;
  /** Their summed CPU, in percent of one node. */
  cpuPercent: number;
  /** Average CPU of the zone's other nodes if one is lost (null: none would be left). */
  afterNodeLoss: number | null;
  /** Average CPU of the other zones' nodes if this zone fails (null: no other zone). */
  afterZoneLoss: number | null;
  /** What is wrong (empty: N+1 holds). */
  warnings: string[];
}

/** Whether a member serves traffic now: an LB node that says it is ready (nodes without a readiness record count). */
const serving = (n: Pick<NodeRecord, 'roles' | 'anycast'>) => n.roles.some((r) => r === 'lb') && n.anycast?.ready !== false;

const round1 = (x: number) => Math.round(x * 10) / 10;

/**
 * Per zone, the LB nodes and what losing one node or the whole zone would do to the others'
 * CPU against `maxCpuPercent`. A zone with a single LB node is always below N+1.
 */
export function checkZones(nodes: readonly Pick<NodeRecord, 'zone' | 'roles' | 'anycast' | 'load'>[], maxCpuPercent = DEFAULT_MAX_CPU_PERCENT): ZoneStatus[] {
  const by = new Map<string, { nodes: number; cpu: number }>();
  for (const n of nodes) {
    if (!serving(n)) continue;
    const z = by.get(n.zone) ?? { nodes: 0, cpu: 0 };
    z.nodes++;
    z.cpu += Math.max(0, n.load.cpuPercent);
    by.set(n.zone, z);
  }
  const totalNodes = [...by.values()].reduce((s, z) => s + z.nodes, 0);
  const totalCpu = [...by.values()].reduce((s, z) => s + z.cpu, 0);
  return [...by].sort(([a], [b]) => a.localeCompare(b)).map(([zone, z]) => {
    const afterNodeLoss = z.nodes > 1 ? round1(z.cpu / (z.nodes - 1)) : null;
    const afterZoneLoss = totalNodes > z.nodes ? round1(totalCpu / (totalNodes - z.nodes)) : null;
    const warnings: string[] = [];
    if (afterNodeLoss === null) warnings.push(`zone ${zone}: 1 LB node, below N+1 (losing it sends the zone's traffic to other zones)`);
    else if (afterNodeLoss > maxCpuPercent) warnings.push(`zone ${zone}: below N+1 — losing one of its ${z.nodes} LB nodes puts the others at ${afterNodeLoss}% CPU (over ${maxCpuPercent}%)`);
    if (afterZoneLoss !== null && afterZoneLoss > maxCpuPercent) warnings.push(`zone ${zone}: if it fails, the other zones' ${totalNodes - z.nodes} LB nodes run at ${afterZoneLoss}% CPU (over ${maxCpuPercent}%)`);
    return { zone, nodes: z.nodes, cpuPercent: round1(z.cpu), afterNodeLoss, afterZoneLoss, warnings };
  });
}
