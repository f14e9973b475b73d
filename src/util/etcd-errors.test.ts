import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeEtcdError, isEtcdClientError } from './etcd-errors.js';

class GRPCUnavailableError extends Error {}

test('gRPC errors from etcd3 become words; the raw status text never comes through', () => {
  const refused = new GRPCUnavailableError('14 UNAVAILABLE: No connection established. Last error: Error: connect ECONNREFUSED 127.0.0.1:1. Resolution note: ');
  assert.equal(describeEtcdError(refused), 'connection refused (is etcd running on that port?)');
  assert.ok(isEtcdClientError(refused));
  assert.equal(describeEtcdError(new Error('4 DEADLINE_EXCEEDED: Deadline exceeded')), 'no answer in time');
  assert.equal(describeEtcdError(new Error('14 UNAVAILABLE: something new')), 'not reachable');
  assert.equal(describeEtcdError(new Error('3 INVALID_ARGUMENT: etcdserver: mvcc: required revision has been compacted')), 'mvcc: required revision has been compacted');
  assert.ok(!isEtcdClientError(new Error('plain')));
});
