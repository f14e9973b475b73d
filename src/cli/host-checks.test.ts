import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hostChecks } from './host-checks.js';

const host: Record<string, string> = {
  'net.ipv4.tcp_syncookies': '0\n', 'net.ipv4.tcp_max_syn_backlog': '8192', 'net.core.somaxconn': '4096',
  'net.ipv4.tcp_synack_retries': '5', 'net.core.netdev_max_backlog': '1000', 'net.ipv4.ip_local_port_range': '32768\t60999',
  'net.ipv4.tcp_tw_reuse': '2', 'fs.file-max': '9223372036854775807', 'ulimit -n': '1024',
};

test('each setting is judged against its recommendation; one the host lacks is unknown', () => {
  const by = new Map(hostChecks((n) => host[n]).map((c) => [c.setting, c]));
  assert.equal(by.get('net.ipv4.tcp_syncookies')!.status, 'change');
  assert.equal(by.get('net.ipv4.tcp_max_syn_backlog')!.status, 'ok');
  assert.equal(by.get('net.core.somaxconn')!.status, 'ok');
  assert.equal(by.get('net.ipv4.tcp_synack_retries')!.status, 'change');
  assert.equal(by.get('net.ipv4.ip_local_port_range')!.current, '32768 60999');
  assert.equal(by.get('net.ipv4.ip_local_port_range')!.status, 'ok');
  assert.equal(by.get('net.netfilter.nf_conntrack_max')!.status, 'unknown');
  assert.equal(by.get('ulimit -n')!.status, 'change');
  assert.equal(by.get('ulimit -n')!.recommended, '>= 65536');
});

test('with a config: open files against the connection caps, each listener\'s backlog against somaxconn', () => {
  const checks = hostChecks((n) => host[n], [{ name: 'web', backlog: 8192, maxConnections: 50_000 }, { name: 'l4', backlog: 511, maxConnections: 10_000 }]);
  const by = new Map(checks.map((c) => [c.setting, c]));
  assert.equal(by.get('ulimit -n')!.recommended, '>= 121024');
  assert.deepEqual(by.get('listener web backlog'), { setting: 'listener web backlog', current: '4096 (asks 8192, cut by somaxconn)', recommended: '8192', status: 'change',
    why: 'the accept queue the listener gets: the smaller of its `backlog` and net.core.somaxconn' });
  assert.equal(by.get('listener l4 backlog')!.status, 'ok');
});
