import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DueQueue, type DueTimers } from './due-queue.js';

/** Hand-driven timers: `run(ms)` advances time and fires what is due. */
function fakeTimers() {
  let t = 0;
  let pending: { at: number; fn: () => void }[] = [];
  const timers: DueTimers = { now: () => t, setTimeout: (fn, ms) => { pending.push({ at: t + ms, fn }); return 0; } };
  const run = (ms: number) => {
    const end = t + ms;
    for (;;) {
      pending.sort((a, b) => a.at - b.at);
      const next = pending[0];
      if (next === undefined || next.at > end) break;
      pending = pending.slice(1);
      t = next.at;
      next.fn();
    }
    t = end;
  };
  return { timers, run, armed: () => pending.length };
}

test('items fire once, in order, at their time; one timer at a time', () => {
  const { timers, run, armed } = fakeTimers();
  const fired: string[] = [];
  const q = new DueQueue<{ dueAt: number; name: string }>((i) => fired.push(i.name), timers);
  q.add({ dueAt: 0, name: 'a' }, 10);
  run(3);
  q.add({ dueAt: 0, name: 'b' }, 10);
  q.add({ dueAt: 0, name: 'c' }, 10);
  assert.equal(armed(), 1);
  run(7);
  assert.deepEqual(fired, ['a']);
  run(3);
  assert.deepEqual(fired, ['a', 'b', 'c']);
  assert.equal(q.size, 0);
  run(100);
  assert.deepEqual(fired, ['a', 'b', 'c']);
});

test('a cancelled item (dueAt 0) never fires', () => {
  const { timers, run } = fakeTimers();
  const fired: string[] = [];
  const q = new DueQueue<{ dueAt: number; name: string }>((i) => fired.push(i.name), timers);
  const a = { dueAt: 0, name: 'a' };
  q.add(a, 5);
  q.add({ dueAt: 0, name: 'b' }, 6);
  a.dueAt = 0;
  run(10);
  assert.deepEqual(fired, ['b']);
});

test('an item added to an idle queue re-arms the timer', () => {
  const { timers, run } = fakeTimers();
  let n = 0;
  const q = new DueQueue<{ dueAt: number }>(() => n++, timers);
  q.add({ dueAt: 0 }, 1);
  run(5);
  q.add({ dueAt: 0 }, 1);
  run(5);
  assert.equal(n, 2);
});
