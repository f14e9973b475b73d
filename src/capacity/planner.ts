import type { GrowthStep } from './units.js';
import { sizeZones, type ZoneSizing } from './zones.js';

/*
 * The design's capacity math (scalability-and-reliability.md, "Capacity Planning"): for each
 * dimension, the nodes needed so that every node keeps the design's headroom unused, the largest of
 * those, plus N+2 redundancy — now and at each growth projection.
 */

/** What the fleet must carry. Memory is optional: it needs a per-connection figure to mean anything. */
export interface Demand {
  qps: number;
  connections: number;
  bandwidthBps: number;
  /** Bytes of LB memory the demand needs (connections × bytes per connection), when known. */
  memoryBytes?: number;
}

/** What one node can carry at 100% (measured or given); headroom is taken off by the planner. */
export interface NodeCapacity {
  qps: number;
  connections: number;
  bandwidthBps: number;
  memoryBytes?: number;
}

export type Dimension = 'qps' | 'connections' | 'bandwidth' | 'memory';

/**
 * The design's "Capacity Headroom" table, as the share of each resource left unused. QPS is the CPU
 * dimension (L7 nodes are CPU-bound), bandwidth the network one.
 */
export const DESIGN_HEADROOM: Readonly<Record<Dimension, number>> = { qps: 0.30, memory: 0.20, bandwidth: 0.40, connections: 0.30 };

/** The design's redundancy for LB nodes ("Redundancy Strategy": L4 LB nodes N+2). */
export const DESIGN_REDUNDANCY = 2;

export interface PlanRow {
  label: string;
  /** Growth over the current state (1 for the current row). */
  factor: number;
  demand: Demand;
  /** Nodes each dimension needs on its own, before redundancy (memory only when both sides know it). */
  byDimension: Partial<Record<Dimension, number>>;
  /** The dimension that needs the most nodes. */
  bound: Dimension;
  /** Nodes needed to carry the demand: the largest of byDimension. */
  needed: number;
  /** needed + redundancy. */
  nodes: number;
  /** Nodes added since the previous row (0 for the first). */
  added: number;
  /** With `zones`: nodes per zone so that losing a node or a zone keeps the headroom (N+1 per zone). */
  zones?: ZoneSizing;
}

export interface CapacityPlan {
  perNode: NodeCapacity;
  /** Per node after headroom: what each node may carry in normal operation. */
  usable: NodeCapacity;
  headroom: Readonly<Record<Dimension, number>>;
  redundancy: number;
  /** Zones the plan spreads nodes over (absent: no zone sizing). */
  zones?: number;
  rows: PlanRow[];
}

export interface PlanOptions {
  headroom?: Readonly<Record<Dimension, number>>;
  redundancy?: number;
  /** Availability zones the nodes are spread over: adds N+1 per zone to every row. */
  zones?: number;
}

/** ceil that ignores floating-point dust (200000 / 40000 must be 5, not 6). */
function nodesFor(demand: number, usable: number): number {
  return Math.max(1, Math.ceil(demand / usable - 1e-9));
}

function usableOf(perNode: NodeCapacity, h: Readonly<Record<Dimension, number>>): NodeCapacity {
  return {
    qps: perNode.qps * (1 - h.qps),
    connections: perNode.connections * (1 - h.connections),
    bandwidthBps: perNode.bandwidthBps * (1 - h.bandwidth),
    ...(perNode.memoryBytes !== undefined ? { memoryBytes: perNode.memoryBytes * (1 - h.memory) } : {}),
  };
}

function scale(d: Demand, f: number): Demand {
  return {
    qps: d.qps * f, connections: d.connections * f, bandwidthBps: d.bandwidthBps * f,
    ...(d.memoryBytes !== undefined ? { memoryBytes: d.memoryBytes * f } : {}),
  };
}

/**
 * Nodes needed for `current` demand and for each growth step (demand × factor, linear in every
 * dimension). Pure; defaults are the design's headroom and N+2. Capacities must be positive
 * (the CLI checks); a dimension missing on either side (memory) is left out.
 */
export function planCapacity(current: Demand, perNode: NodeCapacity, growth: readonly GrowthStep[], o: PlanOptions = {}): CapacityPlan {
  const headroom = o.headroom ?? DESIGN_HEADROOM;
  const redundancy = o.redundancy ?? DESIGN_REDUNDANCY;
  const usable = usableOf(perNode, headroom);
  const steps = [{ label: 'Current', factor: 1 }, ...growth.map((g) => ({ label: `${g.label} (${g.factor}x)`, factor: g.factor }))];
  const rows: PlanRow[] = [];
  for (const step of steps) {
    const demand = scale(current, step.factor);
    const byDimension: Partial<Record<Dimension, number>> = {
      qps: nodesFor(demand.qps, usable.qps),
      connections: nodesFor(demand.connections, usable.connections),
      bandwidth: nodesFor(demand.bandwidthBps, usable.bandwidthBps),
    };
    if (demand.memoryBytes !== undefined && usable.memoryBytes !== undefined) byDimension.memory = nodesFor(demand.memoryBytes, usable.memoryBytes);
    let bound: Dimension = 'qps';
    for (const [d, n] of Object.entries(byDimension) as [Dimension, number][]) if (n > byDimension[bound]!) bound = d;
    const needed = byDimension[bound]!;
    const nodes = needed + redundancy;
    rows.push({
      label: step.label, factor: step.factor, demand, byDimension, bound, needed, nodes, added: rows.length === 0 ? 0 : nodes - rows[rows.length - 1].nodes,
      ...(o.zones !== undefined ? { zones: sizeZones(needed, o.zones) } : {}),
    });
  }
  return { perNode, usable, headroom, redundancy, ...(o.zones !== undefined ? { zones: o.zones } : {}), rows };
}
