/*
 * N+1 per zone (the design: "L7 nodes N+1 per zone with cross-zone distribution", surviving an
 * AZ failure). Traffic is assumed to arrive evenly over the zones and to be served in its zone
 * (zone-aware balancing), so each zone needs its share of the nodes plus one spare; and when a
 * whole zone fails its traffic moves to the others, which must then carry everything.
 */

/** Nodes per zone for one projection, and which failure sets it. */
export interface ZoneSizing {
  zones: number;
  /** Nodes that carry the demand at the kept headroom (the plan's `needed`). */
  needed: number;
  /** ceil(needed / zones) + 1: a zone that loses one node still carries its own share. */
  forNodeLoss: number;
  /** ceil(needed / (zones − 1)): the zones left after one fails carry everything (null with one zone: it cannot survive). */
  forZoneLoss: number | null;
  /** The larger of the two. */
  perZone: number;
  bound: 'node loss' | 'zone loss';
  /** perZone × zones. */
  total: number;
}

/** Nodes per zone so that losing one node, or one whole zone, keeps the headroom. `zones` ≥ 1, `needed` ≥ 1. */
export function sizeZones(needed: number, zones: number): ZoneSizing {
  const forNodeLoss = Math.ceil(needed / zones) + 1;
  const forZoneLoss = zones > 1 ? Math.ceil(needed / (zones - 1)) : null;
  const perZone = Math.max(forNodeLoss, forZoneLoss ?? 0);
  return { zones, needed, forNodeLoss, forZoneLoss, perZone, bound: forZoneLoss !== null && forZoneLoss > forNodeLoss ? 'zone loss' : 'node loss', total: perZone * zones };
}
