import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ALGORITHMS, balancerFactories, createBalancer } from './index.js';
import { makeEndpoints, makeOptions } from './testkit.js';

test('registry: every algorithm is registered, named, and handles empty / single lists', () => {
  assert.equal(balancerFactories.size, ALGORITHMS.length);
  for (const name of ALGORITHMS) {
    const eps = makeEndpoints([1]);
    const b = createBalancer(name, eps, makeOptions(1));
    assert.equal(b.algorithm, name);
    assert.equal(b.pick({ attempt: 0, hashKey: 'k' }), eps[0]);
    assert.equal(b.pick({ attempt: 2 }), eps[0]);
    b.close?.();
    const empty = createBalancer(name, [], makeOptions(1));
    assert.equal(empty.algorithm, name);
    assert.equal(empty.pick({ attempt: 0, hashKey: 'k' }), undefined);
  }
});

test('registry: unknown algorithm throws a clear error', () => {
  assert.throws(() => createBalancer('leastconn', [], makeOptions(1)), /unknown balancer algorithm "leastconn"; expected one of: round-robin/);
});

test('every balancer closes cleanly and leaves no observer behind', () => {
  for (const name of ALGORITHMS) {
    const eps = makeEndpoints([1, 2, 3]);
    const b = createBalancer(name, eps, makeOptions(1));
    b.close?.();
    for (const e of eps) assert.equal(e.observer, null, name);
  }
});
