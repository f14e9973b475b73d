import { test } from 'node:test';
import assert from 'node:assert/strict';
import { History, RowRing } from './history.js';

test('a ring keeps the newest rows, oldest first, and never more than its size', () => {
  const r = new RowRing(3, 2);
  for (let t = 1; t <= 5; t++) r.push([t, t * 10]);
  assert.equal(r.length, 3);
  assert.deepEqual(r.columns(), [[3, 4, 5], [30, 40, 50]]);
});

test('history: series absent from a collection are dropped, a changed width starts afresh, memory bounded by points', () => {
  const h = new History(100);
  for (let t = 0; t < 250; t++) h.record(new Map([['svc:a', [t, t, null]], ['svc:b', [t, 1, 2]]]));
  const d = h.dump();
  assert.equal(d['svc:a'][0].length, 100, 'bounded by the point count');
  assert.equal(d['svc:a'][0][0], 150, 'the oldest kept point');
  assert.equal(d['svc:a'][2][99], null);
  h.record(new Map([['svc:a', [250, 1]]]));
  const after = h.dump();
  assert.deepEqual(Object.keys(after), ['svc:a'], 'b is gone');
  assert.deepEqual(after['svc:a'], [[250], [1]], 'a new width starts a new ring');
});
