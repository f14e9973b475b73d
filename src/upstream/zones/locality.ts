/*
 * Locality planning: which share of a service's requests goes to which priority level and, within
 * a priority, to which zone. Pure (no endpoints, no clock): the picker feeds it the backends'
 * zone, priority, weight and availability and builds one balancer per subset it returns.
 *
 * The reference is Envoy's load balancer (source/common/upstream/load_balancer_impl.cc):
 * - priority levels: a level's health is min(1, overprovisioningFactor × usable share); levels
 *   take load in order up to their health, scaled up when the total health is under 100%
 *   (`distributeLoad`); a level under the panic threshold is in panic (its every non-draining
 *   backend is used); when no level has any health, all are in panic and share the load by size;
 * - zone-aware routing within a level (`regenerateLocalityRoutingStructures`): with `local[z]`
 *   the share of this fleet's nodes in zone z and `upstream[z]` the share of usable backend
 *   weight in z, the local zone takes everything while upstream[local] ≥ local[local], else the
 *   fraction upstream[local] / local[local], and the rest spills to the other zones in proportion
 *   to their residual capacity max(0, upstream[z] − local[z]). Every node doing the same keeps
 *   each backend's load even. A level whose local zone has nothing usable is spread over all of
 *   its usable backends (full failover); small levels (< minClusterSize usable) are not routed.
 * Weights replace Envoy's host counts (equal weights give Envoy's numbers).
 */

/** One backend as the planner sees it. */
export interface Member {
  /** Zone label ('' when the backend has none: a zone of its own). */
  zone: string;
  /** Priority level, 0 first. */
  priority: number;
  weight: number;
  /** Pickable now (healthy, not ejected, breaker not open, not draining). */
  usable: boolean;
  /** Draining backends are never picked, not even in panic. */
  draining: boolean;
}

export interface LocalitySettings {
  /** This node's zone; undefined: no zone-aware routing. */
  localZone: string | undefined;
  /** Switchyard nodes per zone (undefined or empty: as many in every backend zone). */
  nodesPerZone?: Readonly<Record<string, number>>;
  /** Zone-aware routing on (it still needs a local zone, ≥ 2 zones and minClusterSize). */
  zoneAware: boolean;
  /** Fewer usable backends than this in a level: that level is not zone-routed (Envoy: 6). */
  minClusterSize: number;
  /** Envoy's overprovisioning factor (1.4): a level at ≥ 1/1.4 ≈ 71% usable keeps all its load. */
  overprovisioningFactor: number;
  /** Percent (0 = off): a level with a smaller usable share is in panic. */
  panicThreshold: number;
}

/** How a level's traffic is spread over zones. */
export type ZoneRouting = 'off' | 'local' | 'spill' | 'failover' | 'panic';

/** A set of backends (indices into the member list) and its share of its level's requests. */
export interface Subset {
  /** The zone of every member; null when the subset spans zones. */
  zone: string | null;
  members: number[];
  share: number;
}

export interface PriorityPlan {
  priority: number;
  /** Share of all requests, 0..1. */
  load: number;
  panic: boolean;
  routing: ZoneRouting;
  /** Disjoint; shares add up to 1. */
  subsets: Subset[];
}

/** Levels with load > 0, in priority order; loads add up to 1 (empty: nothing can be picked). */
export interface LocalityPlan {
  priorities: PriorityPlan[];
}

const sum = (xs: Iterable<number>) => { let s = 0; for (const x of xs) s += x; return s; };

interface Level { priority: number; all: number[]; usable: number[]; pickable: number[]; health: number; panic: boolean }

/** Members by priority level, with Envoy's health (overprovisioned usable share, capped at 1). */
function levels(members: readonly Member[], s: LocalitySettings): Level[] {
  const by = new Map<number, number[]>();
  members.forEach((m, i) => { const l = by.get(m.priority); if (l === undefined) by.set(m.priority, [i]); else l.push(i); });
  return [...by.keys()].sort((a, b) => a - b).map((priority) => {
    const all = by.get(priority)!;
    const usable = all.filter((i) => members[i].usable);
    const total = sum(all.map((i) => members[i].weight));
    const share = total === 0 ? 0 : sum(usable.map((i) => members[i].weight)) / total;
    return {
      priority, all, usable, pickable: all.filter((i) => !members[i].draining),
      health: Math.min(1, s.overprovisioningFactor * share),
      panic: s.panicThreshold > 0 && share * 100 < s.panicThreshold,
    };
  });
}

/** Envoy's distributeLoad: each level up to its health, scaled by the total health (≤ 1); rounding dust to the first healthy one. */
function priorityLoads(ls: readonly Level[]): number[] {
  const total = Math.min(1, sum(ls.map((l) => l.health)));
  let left = 1;
  const loads = ls.map((l) => { const x = Math.min(left, l.health / total); left -= x; return x; });
  const first = ls.findIndex((l) => l.health > 0);
  if (left > 0 && first >= 0) loads[first] += left;
  return loads;
}

/** Usable weight per zone, in first-seen order over `all` (zones with nothing usable stay, at 0). */
function zoneWeights(members: readonly Member[], all: readonly number[]): Map<string, number> {
  const w = new Map<string, number>();
  for (const i of all) w.set(members[i].zone, (w.get(members[i].zone) ?? 0) + (members[i].usable ? members[i].weight : 0));
  return w;
}

/** Zone-aware subsets of one non-panic level (Envoy's locality routing state). */
function zoneSubsets(members: readonly Member[], l: Level, s: LocalitySettings): { routing: ZoneRouting; subsets: Subset[] } {
  const whole = (routing: ZoneRouting) => ({ routing, subsets: l.usable.length === 0 ? [] : [{ zone: null, members: l.usable, share: 1 }] });
  const local = s.localZone;
  const weights = zoneWeights(members, l.all);
  if (!s.zoneAware || local === undefined || weights.size < 2 || !weights.has(local) || l.usable.length < s.minClusterSize) return whole('off');
  if (weights.get(local) === 0) return whole('failover');
  const zones = [...weights.keys()];
  const inZone = (z: string) => l.usable.filter((i) => members[i].zone === z);
  const usableTotal = sum(weights.values());
  const upstream = new Map(zones.map((z) => [z, weights.get(z)! / usableTotal]));
  // This node counts in its own zone even when the given counts forget it.
  const nodes = new Map(zones.map((z) => [z, s.nodesPerZone === undefined || Object.keys(s.nodesPerZone).length === 0 ? 1 : Math.max(0, s.nodesPerZone[z] ?? 0)]));
  nodes.set(local, Math.max(1, nodes.get(local)!));
  const nodeTotal = sum(nodes.values());
  const localPct = (z: string) => nodes.get(z)! / nodeTotal;
  if (upstream.get(local)! >= localPct(local)) return { routing: 'local', subsets: [{ zone: local, members: inZone(local), share: 1 }] };
  const direct = upstream.get(local)! / localPct(local);
  const others = zones.filter((z) => z !== local && weights.get(z)! > 0);
  let residual = others.map((z) => Math.max(0, upstream.get(z)! - localPct(z)));
  // Rounding can leave no residual anywhere (Envoy then picks any zone): spread by capacity.
  if (sum(residual) <= 1e-12) residual = others.map((z) => upstream.get(z)!);
  const r = sum(residual);
  const subsets: Subset[] = [{ zone: local, members: inZone(local), share: direct }];
  others.forEach((z, k) => { if (residual[k] > 0) subsets.push({ zone: z, members: inZone(z), share: ((1 - direct) * residual[k]) / r }); });
  return { routing: 'spill', subsets };
}

/**
 * The plan for `members` under `s`: each level's share of requests, whether it is in panic, and
 * its subsets with their shares. Deterministic in its inputs. Not hot path (health changes).
 */
export function planLocality(members: readonly Member[], s: LocalitySettings): LocalityPlan {
  const ls = levels(members, s);
  if (ls.length === 0) return { priorities: [] };
  if (ls.every((l) => l.health === 0)) {
    // Total panic (Envoy): with panic on, every level serves from all of its backends, by size.
    if (s.panicThreshold === 0) return { priorities: [] };
    const sizes = ls.map((l) => sum(l.pickable.map((i) => members[i].weight)));
    const total = sum(sizes);
    return {
      priorities: ls.map((l, k) => ({ priority: l.priority, load: total === 0 ? 0 : sizes[k] / total, panic: true, routing: 'panic' as const, subsets: [{ zone: null, members: l.pickable, share: 1 }] }))
        .filter((p) => p.load > 0),
    };
  }
  const loads = priorityLoads(ls);
  const out: PriorityPlan[] = [];
  ls.forEach((l, k) => {
    if (loads[k] <= 0) return;
    if (l.panic) {
      out.push({ priority: l.priority, load: loads[k], panic: true, routing: 'panic', subsets: l.pickable.length === 0 ? [] : [{ zone: null, members: l.pickable, share: 1 }] });
      return;
    }
    out.push({ priority: l.priority, load: loads[k], panic: false, ...zoneSubsets(members, l, s) });
  });
  return { priorities: out };
}

/** The share of all requests each zone gets under `plan` (zone '' for unlabelled backends; a cross-zone subset counted by weight). */
export function zoneShares(plan: LocalityPlan, members: readonly Member[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const p of plan.priorities) {
    for (const sub of p.subsets) {
      const w = sum(sub.members.map((i) => members[i].weight));
      for (const i of sub.members) {
        const z = members[i].zone;
        out.set(z, (out.get(z) ?? 0) + (p.load * sub.share * members[i].weight) / w);
      }
    }
  }
  return out;
}
