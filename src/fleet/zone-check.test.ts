import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkZones } from './zone-check.js';

const node = (zone: string, cpuPercent: number, roles = ['lb', 'checker:standby'], ready = true) => ({ zone, roles, anycast: { ready, readyReason: '' }, load: { rssMiB: 1, cpuPercent, uptimeS: 1 } });

test('zone check: N+1 per zone holds when one node or one zone can be lost under the CPU headroom', () => {
  const s = checkZones([node('a', 20), node('a', 20), node('a', 20), node('b', 20), node('b', 20), node('b', 20)]);
  assert.deepEqual(s.map((z) => [z.zone, z.nodes, z.cpuPercent, z.afterNodeLoss, z.afterZoneLoss, z.warnings.length]), [['a', 3, 60, 30, 40, 0], ['b', 3, 60, 30, 40, 0]]);
});

test('zone check: a single node, a hot zone, and a zone whose loss would overload the rest are below N+1', () => {
  const s = checkZones([node('a', 40), node('b', 50), node('b', 50), node('c', 30), node('c', 30), node('c', 30), node('c', 30)]);
  assert.match(s[0].warnings[0], /zone a: 1 LB node, below N\+1/);
  assert.match(s[1].warnings[0], /zone b: below N\+1 — losing one of its 2 LB nodes puts the others at 100% CPU/);
  // c: 120% over 4 nodes is fine after one is lost (40%), but losing c puts 260% on a's and b's 3 nodes = 86.7%.
  assert.deepEqual(s[2].warnings, ['zone c: if it fails, the other zones\' 3 LB nodes run at 86.7% CPU (over 70%)']);
  assert.equal(checkZones([node('a', 40), node('a', 40)], 90)[0].warnings.length, 0, 'the CPU limit is a parameter');
});

test('zone check: checker-only and not-ready nodes do not serve, so they do not count', () => {
  const s = checkZones([node('a', 10), node('a', 10, ['checker:primary']), node('a', 10, ['lb'], false)]);
  assert.deepEqual(s.map((z) => [z.zone, z.nodes]), [['a', 1]]);
  assert.equal(s[0].warnings.length, 1);
});
