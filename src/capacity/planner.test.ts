import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planCapacity, DESIGN_HEADROOM, DESIGN_REDUNDANCY } from './planner.js';
import { parseGrowth } from './units.js';
import { renderCapacityPlan } from './table.js';

/*
 * The design's "Growth Projections" (scalability-and-reliability.md): 100,000 QPS, 2 M connections,
 * 10 Gbps on 5 LB nodes; Year 1 (2x) 8 nodes (add 3); Year 3 (5x) 15 nodes (add 7 more).
 * The design gives no per-node figures. These are the round ones its "Scaling L4 vs L7" section
 * suggests (an L7 node 100K QPS, a 10 Gbps NIC) plus 1.1 M connections per node: with the design's
 * headroom and N+2 they give exactly its table (connections are the bound: 3 / 6 / 13 nodes + 2).
 */
const DESIGN_NOW = { qps: 100_000, connections: 2_000_000, bandwidthBps: 10e9 };
const PER_NODE = { qps: 100_000, connections: 1_100_000, bandwidthBps: 10e9 };
const GROWTH = parseGrowth('2x@1y,5x@3y');

test('the design\'s worked example: 5 nodes now, 8 at 2x (add 3), 15 at 5x (add 7 more)', () => {
  const plan = planCapacity(DESIGN_NOW, PER_NODE, GROWTH);
  assert.deepEqual(plan.rows.map((r) => r.label), ['Current', 'Year 1 (2x)', 'Year 3 (5x)']);
  assert.deepEqual(plan.rows.map((r) => r.nodes), [5, 8, 15]);
  assert.deepEqual(plan.rows.map((r) => r.added), [0, 3, 7]);
  // The design's demand rows.
  assert.deepEqual(plan.rows.map((r) => [r.demand.qps, r.demand.connections, r.demand.bandwidthBps]),
    [[100_000, 2_000_000, 10e9], [200_000, 4_000_000, 20e9], [500_000, 10_000_000, 50e9]]);
  // Per dimension, before N+2: QPS at 70% of 100K, connections at 70% of 1.1M, network at 60% of 10 Gbps.
  assert.deepEqual(plan.rows.map((r) => r.byDimension), [
    { qps: 2, connections: 3, bandwidth: 2 },
    { qps: 3, connections: 6, bandwidth: 4 },
    { qps: 8, connections: 13, bandwidth: 9 },
  ]);
  assert.ok(plan.rows.every((r) => r.bound === 'connections' && r.nodes === r.needed + 2));
});

test('headroom and redundancy are the design\'s: CPU 30%, memory 20%, network 40%, connections 30% unused; N+2', () => {
  assert.deepEqual(DESIGN_HEADROOM, { qps: 0.3, memory: 0.2, bandwidth: 0.4, connections: 0.3 });
  assert.equal(DESIGN_REDUNDANCY, 2);
  const plan = planCapacity(DESIGN_NOW, PER_NODE, []);
  assert.deepEqual(plan.usable, { qps: 70_000, connections: 770_000, bandwidthBps: 6e9 });
});

test('the design\'s table pins per-node connections to [1.099 M, 1.143 M): outside it, the rows change', () => {
  const nodes = (connections: number) => planCapacity(DESIGN_NOW, { ...PER_NODE, connections }, GROWTH).rows.map((r) => r.nodes);
  assert.deepEqual(nodes(1_099_000), [5, 8, 15]);
  assert.deepEqual(nodes(1_142_000), [5, 8, 15]);
  assert.deepEqual(nodes(1_000_000), [5, 8, 17]); // 10 M / 700 K = 14.3 → 15 + 2
  assert.deepEqual(nodes(1_150_000), [5, 7, 15]); // 4 M / 805 K = 4.97 → 5 + 2
});

test('exact multiples do not round up; every dimension needs at least one node', () => {
  const plan = planCapacity({ qps: 140_000, connections: 1, bandwidthBps: 1 }, { qps: 100_000, connections: 10, bandwidthBps: 10 }, [], { redundancy: 0 });
  assert.deepEqual(plan.rows[0].byDimension, { qps: 2, connections: 1, bandwidth: 1 });
  assert.equal(plan.rows[0].nodes, 2);
});

test('memory is a dimension when both the demand and the node know it (20% headroom)', () => {
  const plan = planCapacity({ ...DESIGN_NOW, memoryBytes: 2_000_000 * 64 * 1024 }, { ...PER_NODE, memoryBytes: 64 * 2 ** 30 }, []);
  // 122 GiB of connection state on nodes with 51.2 GiB usable each → 3 nodes.
  assert.equal(plan.rows[0].byDimension.memory, 3);
  assert.equal(planCapacity(DESIGN_NOW, { ...PER_NODE, memoryBytes: 1 }, []).rows[0].byDimension.memory, undefined);
});

test('the printed table reads like the design\'s Growth Projections', () => {
  const text = renderCapacityPlan(planCapacity(DESIGN_NOW, PER_NODE, GROWTH), 'given');
  const lines = text.split('\n');
  assert.match(text, /Headroom kept unused \(design\): CPU\/QPS 30%, connections 30%, network 40%, memory 20%; redundancy N\+2/);
  assert.match(lines.find((l) => l.startsWith('Current'))!, /^Current\s+100,000\s+2,000,000\s+10 Gbps\s+2 \/ 3 \/ 2\s+connections\s+5\s*$/);
  assert.match(lines.find((l) => l.startsWith('Year 1'))!, /^Year 1 \(2x\)\s+200,000\s+4,000,000\s+20 Gbps\s+3 \/ 6 \/ 4\s+connections\s+8\s+add 3$/);
  assert.match(lines.find((l) => l.startsWith('Year 3'))!, /^Year 3 \(5x\)\s+500,000\s+10,000,000\s+50 Gbps\s+8 \/ 13 \/ 9\s+connections\s+15\s+add 7$/);
});
