import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateConfig } from '../config/load.js';
import { ConfigVersions } from './config-versions.js';

const config = (weight: number, token: string) => validateConfig({
  listeners: [{ name: 'web', address: '127.0.0.1:8080', protocol: 'http' }],
  routes: [{ name: 'all', match: { path: { prefix: '/' } }, service: 'app' }],
  services: { app: { backends: [{ address: '127.0.0.1:9001', weight }] } },
  admin: { address: '127.0.0.1:9901', token },
});

test('config versions: a diff between two kept versions shows the change and never a secret; bounded', () => {
  const v = new ConfigVersions(2);
  v.record(1, config(1, 'secret-token-one-0123456789'));
  v.record(1, config(5, 'ignored-same-version-0123456'));
  v.record(2, config(3, 'secret-token-two-0123456789'));
  assert.deepEqual(v.list().map((x) => x.version), [1, 2]);
  const d = v.diff(1, 2)!;
  assert.match(d, /^-\s+weight: 1$/m);
  assert.match(d, /^\+\s+weight: 3$/m);
  assert.doesNotMatch(d + v.text(1)! + v.text(2)!, /secret-token/);
  v.record(3, config(4, 'secret-token-three-012345678'));
  assert.equal(v.diff(1, 3), undefined, 'v1 fell out');
  assert.deepEqual(v.list().map((x) => x.version), [2, 3]);
});
