import { test } from 'node:test';
import assert from 'node:assert/strict';
import { adminTokenProblem, isLoopbackHost } from './loopback.js';
import { validateConfig } from './load.js';
import type { ConfigError } from '../util/errors.js';

test('isLoopbackHost: only names and addresses that cannot be reached from the network', () => {
  for (const h of ['localhost', 'LOCALHOST', '127.0.0.1', '127.8.9.10', '::1', '[::1]', '0:0:0:0:0:0:0:1', '::ffff:127.0.0.1']) assert.ok(isLoopbackHost(h), h);
  for (const h of ['0.0.0.0', '::', '[::]', '10.0.0.1', '192.168.1.1', 'admin.internal', '127.1', '::ffff:10.0.0.1', 'localhost.example.com']) assert.ok(!isLoopbackHost(h), h);
});

test('adminTokenProblem: a token is required off loopback', () => {
  assert.equal(adminTokenProblem('127.0.0.1:9901', undefined), undefined);
  assert.equal(adminTokenProblem('[::1]:9901', undefined), undefined);
  assert.equal(adminTokenProblem('0.0.0.0:9901', 'a-token-of-16-chars'), undefined);
  assert.equal(adminTokenProblem('0.0.0.0:9901', undefined), 'required when admin.address is not loopback (0.0.0.0:9901)');
  assert.match(adminTokenProblem('[::]:9901', undefined) ?? '', /not loopback/);
});

test('the admin block: off loopback without a token is `admin.token: …`; allowedHosts are names without ports', () => {
  const listeners = [{ name: 'w', address: '127.0.0.1:1' }];
  const errors = (admin: unknown) => {
    try { validateConfig({ admin, listeners }); return []; } catch (e) { return [...(e as ConfigError).errors]; }
  };
  assert.deepEqual(errors({ address: '0.0.0.0:9901' }), ['admin.token: required when admin.address is not loopback (0.0.0.0:9901)']);
  assert.deepEqual(errors({ address: '0.0.0.0:9901', token: 'sixteen-chars-token' }), []);
  assert.deepEqual(errors({}), [], 'the default address is loopback');
  assert.match(errors({ allowedHosts: ['admin.example:443'] }).join(), /^admin\.allowedHosts\[0\]: a host name/);
});
