import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CounterPush } from './counter-push.js';
import { TrafficStats, serviceCounters } from '../observe/stats.js';

const endpoint = (key: string) => ({ key, traffic: new TrafficStats() });

test('counter push: the first push lists every backend; later ones only those that moved; none when nothing moved', () => {
  const push = new CounterPush();
  const a = endpoint('a:1');
  const b = endpoint('b:1');
  const services = [{ name: 'app', endpoints: [a, b] }];
  assert.deepEqual(push.next(services)?.backends.map((x) => x.key), ['a:1', 'b:1']);
  assert.equal(push.next(services), null);
  b.traffic.record(200, 3);
  const m = push.next(services)!;
  assert.deepEqual(m.backends, [{ service: 'app', key: 'b:1', traffic: b.traffic.snapshot() }]);
  assert.equal(push.next(services), null);
});

test('counter push: a moved service counter alone is pushed (absolute values, no backend)', () => {
  const push = new CounterPush();
  push.next([]);
  serviceCounters('push-test').retries += 2;
  const m = push.next([])!;
  assert.equal(m.counters.services['push-test'].retries, 2);
  assert.deepEqual(m.backends, []);
  assert.equal(push.next([]), null);
});
