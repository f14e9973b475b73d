import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { hasNetlinkSubscription, waitNetlinkSubscription } from './netlink-subscribed.js';

const noIp = spawnSync('ip', ['-V']).status !== 0 ? 'needs iproute2' : false;

test('a process counts as listening only once its netlink socket has joined a group', { skip: noIp }, async () => {
  const sleeper = spawn('sleep', ['10']);
  const monitor = spawn('ip', ['monitor', 'route'], { stdio: 'ignore' });
  try {
    assert.equal(await waitNetlinkSubscription(monitor.pid!, 5000), true);
    assert.equal(await hasNetlinkSubscription(sleeper.pid!), false, 'no netlink socket at all');
    assert.equal(await waitNetlinkSubscription(sleeper.pid!, 50), false);
  } finally {
    monitor.kill();
    sleeper.kill();
  }
  await new Promise((r) => monitor.once('exit', r));
  assert.equal(await hasNetlinkSubscription(monitor.pid!), false, 'a process that has gone does not listen');
});
