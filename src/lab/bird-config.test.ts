import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nodeBirdConfig, routerBirdConfig } from './bird-config.js';

const timers = { bfd: { intervalMs: 100, multiplier: 3 }, connectDelayS: 1, errorWaitS: [1, 5] as [number, number] };

test('router: dynamic BGP range, BFD on the node interfaces, equal paths merged into the kernel route', () => {
  const c = routerBirdConfig({ routerId: '10.10.0.1', localAs: 65000, neighborRange: '10.20.0.0/16', peerAs: 65100, bfdInterfaces: 'n*', ...timers });
  for (const line of ['router id 10.10.0.1;', 'merge paths on;', 'neighbor range 10.20.0.0/16 as 65100;', 'interface "n*" { min rx interval 100 ms; min tx interval 100 ms; multiplier 3; };',
    'bfd on;', 'connect delay time 1;', 'error wait time 1,5;']) assert.ok(c.includes(line), line);
  assert.ok(!routerBirdConfig({ routerId: '10.10.0.1', localAs: 65000, neighborRange: '10.20.0.0/16', peerAs: 65100, bfdInterfaces: 'n*', kernel: false }).includes('protocol kernel'));
});

test('node: the VIP protocol starts disabled and is the only thing exported', () => {
  const c = nodeBirdConfig({ routerId: '10.20.1.2', localAddress: '10.20.1.2', localAs: 65100, neighbor: '10.20.1.1', peerAs: 65000, iface: 'eth0', vips: ['198.51.100.10/32'], ...timers });
  assert.match(c, /protocol static vip \{\n {2}disabled;\n {2}ipv4;\n {2}route 198\.51\.100\.10\/32 blackhole;\n\}/);
  assert.ok(c.includes('export where proto = "vip";'));
  assert.ok(!c.includes('protocol kernel'), 'the blackhole route is never installed on the node');
});

test('values that could inject config lines are refused', () => {
  const node = { routerId: '10.20.1.2', localAddress: '10.20.1.2', localAs: 65100, neighbor: '10.20.1.1', peerAs: 65000, iface: 'eth0', vips: ['198.51.100.10/32'] };
  assert.throws(() => nodeBirdConfig({ ...node, vips: ['198.51.100.10/32 blackhole; }\nprotocol kernel { ipv4 { export all; }; }\n#'] }), /bad VIP/);
  assert.throws(() => nodeBirdConfig({ ...node, iface: 'eth0"; }' }), /bad interface/);
  assert.throws(() => nodeBirdConfig({ ...node, protocol: 'vip x' }), /bad protocol name/);
  assert.throws(() => routerBirdConfig({ routerId: '10.10.0.1', localAs: 65000, neighborRange: '0.0.0.0/0 as 1; }', peerAs: 65100, bfdInterfaces: 'n*' }), /bad neighbor range/);
});
