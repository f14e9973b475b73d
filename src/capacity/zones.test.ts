import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sizeZones } from './zones.js';
import { planCapacity } from './planner.js';
import { parseGrowth } from './units.js';
import { renderCapacityPlan } from './table.js';

test('N+1 per zone: a zone keeps its share after losing a node; the other zones carry a lost zone', () => {
  // 13 nodes' worth of load over 3 zones: 5 + 1 per zone for a node loss, but 7 per zone so that 2 zones carry 13.
  assert.deepEqual(sizeZones(13, 3), { zones: 3, needed: 13, forNodeLoss: 6, forZoneLoss: 7, perZone: 7, bound: 'zone loss', total: 21 });
  // Many zones: a lost zone is a small share; the spare node per zone dominates.
  assert.deepEqual(sizeZones(12, 6), { zones: 6, needed: 12, forNodeLoss: 3, forZoneLoss: 3, perZone: 3, bound: 'node loss', total: 18 });
  assert.deepEqual(sizeZones(1, 3), { zones: 3, needed: 1, forNodeLoss: 2, forZoneLoss: 1, perZone: 2, bound: 'node loss', total: 6 });
  assert.equal(sizeZones(5, 1).forZoneLoss, null, 'one zone cannot survive its own loss');
  assert.equal(sizeZones(5, 1).perZone, 6);
  // The invariants, over a range: after losing a node in a zone that zone still holds its share, and after losing any zone the rest hold everything.
  for (let needed = 1; needed <= 40; needed++) {
    for (let zones = 2; zones <= 6; zones++) {
      const s = sizeZones(needed, zones);
      assert.ok(s.perZone - 1 >= needed / zones && s.perZone * (zones - 1) >= needed, `${needed} over ${zones}: ${s.perZone}`);
    }
  }
});

test('capacity plan with --zones: every projection sized per zone, and shown as a table', () => {
  const plan = planCapacity({ qps: 100_000, connections: 2_000_000, bandwidthBps: 10e9 }, { qps: 100_000, connections: 1_100_000, bandwidthBps: 10e9 }, parseGrowth('2x@1y,5x@3y'), { zones: 3 });
  assert.deepEqual(plan.rows.map((r) => [r.needed, r.zones?.perZone, r.zones?.total]), [[3, 2, 6], [6, 3, 9], [13, 7, 21]]);
  const text = renderCapacityPlan(plan);
  assert.match(text, /Zones: 3 — per zone the larger of ceil\(N\/3\)\+1/);
  assert.match(text, /Year 3 \(5x\).* 7 +zone loss +21$/m);
  assert.doesNotMatch(renderCapacityPlan(planCapacity({ qps: 1, connections: 1, bandwidthBps: 1 }, { qps: 1, connections: 1, bandwidthBps: 1 }, [])), /Per zone/);
});
