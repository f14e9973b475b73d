import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseBirdReply } from './bird-client.js';
import { parseBfdSessions, parseProtocols } from './bird-state.js';

// Replies as BIRD 2.0.12 sent them (captured from a lab node).
const PROTOCOLS = '2002-Name       Proto      Table      State  Since         Info\n'
  + '1002-device1    Device     ---        up     00:59:24.713  \n'
  + '1006-\n'
  + '1002-vip        Static     master4    down   00:59:24.713  \n'
  + '1006-  Channel ipv4\n     State:          DOWN\n \n'
  + '1002-up         BGP        ---        up     01:00:01.120  Established   \n'
  + '1006-  BGP state:          Established\n     Neighbor address: 10.20.1.1\n     Neighbor AS:      65000\n \n'
  + '0000 \n';

const BFD = '1020-bfd1:\n IP address                Interface  State      Since         Interval  Timeout\n'
  + ' 10.20.1.1                 eth0       Up         01:00:01.020    0.100    0.300\n0000 \n';

test('a reply ends at the first line whose code is followed by a space', () => {
  assert.equal(parseBirdReply('0001-partial\n'), undefined);
  assert.deepEqual(parseBirdReply('0011-vip: enabled\n0000 \n'), { code: 0, lines: [{ code: 11, text: 'vip: enabled' }, { code: 0, text: '' }] });
  assert.equal(parseBirdReply('9001 syntax error\n')?.code, 9001);
});

test('protocol rows with their state, and BGP session state and neighbor', () => {
  const p = parseProtocols(parseBirdReply(PROTOCOLS)!);
  assert.deepEqual(p.map((x) => [x.name, x.proto, x.state]), [['device1', 'Device', 'up'], ['vip', 'Static', 'down'], ['up', 'BGP', 'up']]);
  assert.equal(p[2].bgpState, 'Established');
  assert.equal(p[2].neighbor, '10.20.1.1');
  assert.equal(p[2].info, 'Established');
});

test('BFD sessions: address, interface, state', () => {
  assert.deepEqual(parseBfdSessions(parseBirdReply(BFD)!), [{ address: '10.20.1.1', iface: 'eth0', state: 'Up' }]);
});
