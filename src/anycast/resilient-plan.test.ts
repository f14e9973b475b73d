import { test } from 'node:test';
import assert from 'node:assert/strict';
import { agentRouteInstalled, birdNexthops, concernsAgent, installedState, planGroup, teardown, type GroupSpec, type GroupState } from './resilient-plan.js';

const spec: GroupSpec = { prefix: '198.51.100.10/32', groupId: 1000, maxMembers: 64, buckets: 128, idleTimer: 0, unbalancedTimer: 0, metric: 16, proto: 250 };
const nh = (i: number) => ({ gateway: `10.20.${i}.2`, dev: `rl${i}` });
const empty: GroupState = { members: new Map() };

test('birdNexthops reads a multipath BIRD route and ignores other routes, the agent\'s own and dead paths', () => {
  const json = JSON.stringify([
    { dst: '198.51.100.10', nhid: 1000, protocol: '250', metric: 16, nexthops: [nh(9)] },
    { dst: '198.51.100.10', protocol: 'bird', metric: 32, flags: [], nexthops: [
      { ...nh(2), weight: 1, flags: [] }, { ...nh(1), weight: 1, flags: [] }, { ...nh(3), weight: 1, flags: ['dead', 'linkdown'] }] },
    { dst: '198.51.100.11', protocol: 'bird', ...nh(5) },
    { dst: '198.51.100.10', protocol: 'static', ...nh(6) },
  ]);
  assert.deepEqual(birdNexthops(json, '198.51.100.10/32'), [nh(1), nh(2)]);
});

test('birdNexthops reads a single-path route and returns [] when the route is gone', () => {
  assert.deepEqual(birdNexthops(JSON.stringify([{ dst: '198.51.100.10', protocol: 'bird', ...nh(4), flags: [] }]), '198.51.100.10/32'), [nh(4)]);
  assert.deepEqual(birdNexthops('[]', '198.51.100.10/32'), []);
  assert.throws(() => birdNexthops('{}', '198.51.100.10/32'), /expected an array/);
});

test('a first set creates members, then the group, then the route', () => {
  const p = planGroup(empty, [nh(1), nh(2), nh(3)], spec);
  assert.deepEqual(p.commands, [
    'nexthop replace id 1001 via 10.20.1.2 dev rl1',
    'nexthop replace id 1002 via 10.20.2.2 dev rl2',
    'nexthop replace id 1003 via 10.20.3.2 dev rl3',
    'nexthop add id 1000 group 1001/1002/1003 type resilient buckets 128 idle_timer 0 unbalanced_timer 0',
    'route replace 198.51.100.10/32 nhid 1000 metric 16 proto 250',
  ]);
  assert.deepEqual([...p.next.members.values()], [1001, 1002, 1003]);
});

test('a withdrawal replaces the group without the member before deleting it; the others keep their ids', () => {
  const three = planGroup(empty, [nh(1), nh(2), nh(3)], spec).next;
  const p = planGroup(three, [nh(1), nh(3)], spec);
  assert.deepEqual(p.commands, [
    'nexthop replace id 1000 group 1001/1003 type resilient buckets 128 idle_timer 0 unbalanced_timer 0',
    'route replace 198.51.100.10/32 nhid 1000 metric 16 proto 250',
    'nexthop del id 1002',
  ]);
  // the freed id is not reused in the same plan; a later addition may take it
  const back = planGroup(p.next, [nh(1), nh(3), nh(4)], spec);
  assert.equal(back.commands[0], 'nexthop replace id 1002 via 10.20.4.2 dev rl4');
  assert.match(back.commands[1], /^nexthop replace id 1000 group 1001\/1002\/1003 /);
});

test('an unchanged set needs no command; an empty set removes route, group and members', () => {
  const two = planGroup(empty, [nh(1), nh(2)], spec).next;
  assert.deepEqual(planGroup(two, [nh(2), nh(1)], spec).commands, []);
  assert.deepEqual(planGroup(empty, [], spec).commands, []);
  const gone = planGroup(two, [], spec);
  assert.deepEqual(gone.commands, ['route del 198.51.100.10/32 metric 16 proto 250', 'nexthop del id 1000', 'nexthop del id 1001', 'nexthop del id 1002']);
  assert.equal(gone.next.members.size, 0);
  assert.deepEqual(teardown(two, spec), gone.commands);
});

test('more nexthops than member ids is refused', () => {
  assert.throws(() => planGroup(empty, [nh(1), nh(2), nh(3)], { ...spec, maxMembers: 2 }), /exceed/);
});

test('installedState rebuilds the members of the agent\'s group from ip -json nexthop, ignoring foreign ids', () => {
  const json = JSON.stringify([
    { id: 1000, group: [{ id: 1001 }, { id: 1003 }, { id: 7 }], type: 'resilient' },
    { id: 1001, ...nh(1) }, { id: 1003, ...nh(3) }, { id: 7, ...nh(7) }, { id: 1002, ...nh(2) },
  ]);
  const s = installedState(json, spec);
  assert.deepEqual([...s.members], [['10.20.1.2@rl1', 1001], ['10.20.3.2@rl3', 1003]]);
  assert.equal(installedState('[]', spec).members.size, 0);
  // carrying on from it keeps ids: adding rl2 takes a free id, not one of the kept ones
  assert.equal(planGroup(s, [nh(1), nh(2), nh(3)], spec).commands[0], 'nexthop replace id 1002 via 10.20.2.2 dev rl2');
});

test('concernsAgent wakes the agent for its prefixes and nexthop objects only', () => {
  const v6 = { ...spec, prefix: '2001:db8::10/128' };
  assert.equal(concernsAgent('198.51.100.10 proto bird metric 32 \n\tnexthop via 10.20.1.2 dev rl1 weight 1\n', [spec]), true);
  assert.equal(concernsAgent('Deleted 198.51.100.10 proto bird metric 32 \n', [spec]), true);
  assert.equal(concernsAgent('[2026-12-07T00:59:02.181278] id 10003 via 10.20.3.2 dev rl3 scope link\n', [spec]), true);
  assert.equal(concernsAgent('198.51.100.100 proto bird metric 32\n203.0.113.0/24 via 10.0.0.1 dev eth0 proto bird\n', [spec]), false);
  assert.equal(concernsAgent('2001:db8::10 proto bird metric 32 pref medium\n', [spec, v6]), true);
});

test('birdNexthops drops paths whose gateway or device could not be a safe ip -batch word', () => {
  const json = JSON.stringify([{ dst: '198.51.100.10', protocol: 'bird', nexthops: [
    { gateway: '10.20.1.2', dev: 'rl1' }, { gateway: '10.20.2.2 dev x', dev: 'rl2' }, { gateway: '10.20.3.2', dev: 'a\nroute del 0/0' },
    { gateway: 'fe80::1', dev: 'eth0.100' }] }]);
  assert.deepEqual(birdNexthops(json, '198.51.100.10/32'), [nh(1), { gateway: 'fe80::1', dev: 'eth0.100' }]);
});

test('agentRouteInstalled sees the agent\'s route by its group id', () => {
  const bird = { dst: '198.51.100.10', protocol: 'bird', metric: 32, nexthops: [nh(1)] };
  assert.equal(agentRouteInstalled(JSON.stringify([bird]), spec), false);
  assert.equal(agentRouteInstalled(JSON.stringify([bird, { dst: '198.51.100.10', nhid: 1000, protocol: '250', metric: 16 }]), spec), true);
  assert.equal(agentRouteInstalled(JSON.stringify([{ dst: '198.51.100.10', nhid: 7 }]), spec), false);
});
