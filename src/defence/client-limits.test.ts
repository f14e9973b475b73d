import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ClientLimiter } from './client-limits.js';

test('concurrent connections per key: refused at the limit, admitted again after a release, keys independent', () => {
  const l = new ClientLimiter({ maxConnections: 2, rate: Infinity, burst: 1e9, maxTracked: 100 });
  assert.equal(l.admit('a', 0), 'ok');
  assert.equal(l.admit('a', 0), 'ok');
  assert.equal(l.admit('a', 0), 'client-connections');
  assert.equal(l.admit('b', 0), 'ok', 'another client is not affected');
  l.release('a', 1);
  assert.equal(l.admit('a', 1), 'ok');
});

test('new connections per second: a burst, then the rate', () => {
  const l = new ClientLimiter({ maxConnections: Infinity, rate: 2, burst: 3, maxTracked: 100 });
  const admitted = (at: number) => { let n = 0; for (let i = 0; i < 10; i++) if (l.admit('a', at) === 'ok') { n++; l.release('a', at); } return n; };
  assert.equal(admitted(0), 3, 'the burst');
  assert.equal(admitted(500), 1, 'half a second at 2/s');
  assert.equal(admitted(1500), 2);
  assert.equal(l.admit('a', 1500), 'client-rate');
  assert.equal(admitted(10_000), 3, 'refilled to the burst, never beyond');
});

test('memory is bounded: idle keys are forgotten, keys with open connections are kept', () => {
  const l = new ClientLimiter({ maxConnections: 1, rate: 1, burst: 1, maxTracked: 100 });
  assert.equal(l.admit('holder', 0), 'ok');
  for (let i = 0; i < 100_000; i++) { l.admit(`k${i}`, 0); l.release(`k${i}`, 0); }
  assert.ok(l.tracked <= 100, `${l.tracked} keys tracked`);
  assert.equal(l.admit('holder', 0), 'client-connections', 'the key holding a connection was not evicted');
  const quiet = new ClientLimiter({ maxConnections: 5, rate: 10, burst: 5, maxTracked: 100 });
  quiet.admit('x', 0); quiet.release('x', 10_000);
  assert.equal(quiet.tracked, 0, 'a key with nothing open and a full bucket is forgotten at once');
});
