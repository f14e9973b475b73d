import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidArgumentError } from 'commander';
import { hostPrefix } from './route-agent-cli.js';

test('--prefix takes IPv4 /32 and IPv6 /128 host prefixes only, and collects them', () => {
  assert.deepEqual(hostPrefix('2001:db8::10/128', hostPrefix('198.51.100.10/32', [])), ['198.51.100.10/32', '2001:db8::10/128']);
  for (const bad of ['198.51.100.0/24', '198.51.100.10', '2001:db8::10/64', '198.51.100.10/128', 'vip/32', '1.2.3.4/32/1', '1.2.3.4/32 dev x']) {
    assert.throws(() => hostPrefix(bad, []), InvalidArgumentError, bad);
  }
});
