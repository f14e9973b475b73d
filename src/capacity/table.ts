import type { CapacityPlan, Dimension } from './planner.js';
import { formatBandwidth, formatBytes, formatCount } from './units.js';

/*
 * The plan as text, shaped like the design's "Growth Projections" (QPS, connections, LB nodes,
 * bandwidth per row, "add N" between rows), with the per-dimension node counts that explain it.
 */

const NAMES: Record<Dimension, string> = { qps: 'QPS', connections: 'connections', bandwidth: 'bandwidth', memory: 'memory' };

function pct(x: number): string {
  return `${Math.round(x * 100)}%`;
}

/** Left-aligns the first column and right-aligns the others. */
function layout(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('   ').trimEnd()).join('\n');
}

/** Renders a plan: assumptions first (per-node figures, headroom, redundancy), then one row per projection. */
export function renderCapacityPlan(plan: CapacityPlan, source = ''): string {
  const withMemory = plan.rows.some((r) => r.byDimension.memory !== undefined);
  const h = plan.headroom;
  const perNode = (c: typeof plan.perNode) => [
    `${formatCount(Math.round(c.qps))} QPS`, `${formatCount(Math.round(c.connections))} connections`, formatBandwidth(c.bandwidthBps),
    ...(withMemory && c.memoryBytes !== undefined ? [formatBytes(c.memoryBytes)] : []),
  ].join(' · ');
  const lines = [
    `Headroom kept unused (design): CPU/QPS ${pct(h.qps)}, connections ${pct(h.connections)}, network ${pct(h.bandwidth)}, memory ${pct(h.memory)}; redundancy N+${plan.redundancy}`,
    `Per node${source === '' ? '' : ` (${source})`}: ${perNode(plan.perNode)}`,
    `Usable per node after headroom: ${perNode(plan.usable)}`,
    ...(plan.zones === undefined ? [] : [plan.zones === 1
      ? 'Zones: 1 — N+1 in the zone; a zone failure cannot be survived with one zone'
      : `Zones: ${plan.zones} — per zone the larger of ceil(N/${plan.zones})+1 (a zone loses one node) and ceil(N/${plan.zones - 1}) (the other zones carry a failed zone's traffic)`]),
    '',
  ];
  const dims: Dimension[] = withMemory ? ['qps', 'connections', 'bandwidth', 'memory'] : ['qps', 'connections', 'bandwidth'];
  const table = [[
    '', 'QPS', 'Connections', 'Bandwidth', ...(withMemory ? ['Memory'] : []),
    `Nodes for ${dims.map((d) => NAMES[d]).join(' / ')}`, 'Bound by', `LB Nodes (N+${plan.redundancy})`, 'Change',
    ...(plan.zones === undefined ? [] : ['Per zone', 'Bound by', `In ${plan.zones} zones`]),
  ]];
  for (const [i, r] of plan.rows.entries()) {
    table.push([
      r.label, formatCount(Math.round(r.demand.qps)), formatCount(Math.round(r.demand.connections)), formatBandwidth(r.demand.bandwidthBps),
      ...(withMemory ? [r.demand.memoryBytes === undefined ? '-' : formatBytes(r.demand.memoryBytes)] : []),
      dims.map((d) => (r.byDimension[d] === undefined ? '-' : formatCount(r.byDimension[d]!))).join(' / '), NAMES[r.bound], formatCount(r.nodes),
      i === 0 ? '' : r.added === 0 ? 'no change' : r.added > 0 ? `add ${formatCount(r.added)}` : `remove ${formatCount(-r.added)}`,
      ...(r.zones === undefined ? [] : [formatCount(r.zones.perZone), r.zones.bound, formatCount(r.zones.total)]),
    ]);
  }
  return `${lines.join('\n')}\n${layout(table)}\n`;
}
