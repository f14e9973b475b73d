import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fewestGcs } from '../util/gc-check.js';
import { Bulkhead, type BulkheadOptions, type RejectReason, type Schedule, type Ticket } from './bulkhead.js';

/** A scheduler driven by hand: `advance(ms)` runs what has come due, in due order. */
class FakeScheduler {
  now = 0;
  private seq = 0;
  private readonly timers = new Map<number, { at: number; fn: () => void }>();
  readonly schedule: Schedule = (fn, ms) => {
    const id = this.seq++;
    this.timers.set(id, { at: this.now + ms, fn });
    return () => { this.timers.delete(id); };
  };
  get pending(): number { return this.timers.size; }
  advance(ms: number): void {
    const end = this.now + ms;
    for (;;) {
      let next: [number, { at: number; fn: () => void }] | undefined;
      for (const e of this.timers) if (e[1].at <= end && (next === undefined || e[1].at < next[1].at)) next = e;
      if (next === undefined) break;
      this.timers.delete(next[0]);
      this.now = next[1].at;
      next[1].fn();
    }
    this.now = end;
  }
}

/** A bulkhead plus an event log of who got what. */
function setup(opts: BulkheadOptions) {
  const clock = new FakeScheduler();
  const b = new Bulkhead(opts, clock.schedule);
  const log: string[] = [];
  const req = (name: string): Ticket | null =>
    b.acquire(() => log.push(`${name}:granted`), (r: RejectReason) => log.push(`${name}:${r}`));
  return { clock, b, log, req };
}

test('grants synchronously while slots are free and returns null', () => {
  const { b, log, req } = setup({ maxConcurrent: 2, maxQueued: 0 });
  assert.equal(req('a'), null);
  assert.deepEqual(log, ['a:granted']);
  assert.equal(req('b'), null);
  assert.equal(b.active, 2);
  assert.deepEqual(log, ['a:granted', 'b:granted']);
});

test('without a queue, a request beyond maxConcurrent is rejected full synchronously', () => {
  const { b, log, req } = setup({ maxConcurrent: 1 });
  req('a');
  assert.equal(req('b'), null);
  assert.deepEqual(log, ['a:granted', 'b:full']);
  assert.equal(b.rejectedFull, 1);
  b.release();
  req('c');
  assert.deepEqual(log, ['a:granted', 'b:full', 'c:granted']);
});

test('queues FIFO up to maxQueued; release grants the oldest waiter', () => {
  const { b, log, req } = setup({ maxConcurrent: 2, maxQueued: 3, queueTimeoutMs: 1000 });
  req('a'); req('b');
  assert.notEqual(req('c'), null);
  assert.notEqual(req('d'), null);
  assert.notEqual(req('e'), null);
  assert.equal(req('f'), null);
  assert.deepEqual(log, ['a:granted', 'b:granted', 'f:full']);
  assert.deepEqual([b.active, b.queued, b.rejectedFull], [2, 3, 1]);
  b.release();
  assert.deepEqual(log.slice(3), ['c:granted']);
  b.release();
  b.release();
  assert.deepEqual(log.slice(3), ['c:granted', 'd:granted', 'e:granted']);
  assert.deepEqual([b.active, b.queued], [2, 0]);
  b.release(); b.release();
  assert.deepEqual([b.active, b.queued], [0, 0]);
});

test('a newcomer does not overtake waiters, even one arriving from a grant callback', () => {
  const { b, log, req } = setup({ maxConcurrent: 1, maxQueued: 3 });
  req('a');
  b.acquire(() => { log.push('b:granted'); req('x'); }, (r) => log.push(`b:${r}`));
  req('c');
  b.release(); // b is granted and asks for x while c waits
  assert.deepEqual(log, ['a:granted', 'b:granted']);
  assert.equal(b.queued, 2);
  b.release();
  b.release();
  assert.deepEqual(log, ['a:granted', 'b:granted', 'c:granted', 'x:granted']);
});

test('a waiter is rejected with timeout after queueTimeoutMs, others keep their place', () => {
  const { clock, b, log, req } = setup({ maxConcurrent: 1, maxQueued: 5, queueTimeoutMs: 100 });
  req('a');
  req('b');
  clock.advance(50);
  req('c');
  clock.advance(49);
  assert.deepEqual(log, ['a:granted']);
  clock.advance(1); // b has waited 100 ms
  assert.deepEqual(log, ['a:granted', 'b:timeout']);
  assert.deepEqual([b.queued, b.rejectedTimeout], [1, 1]);
  b.release();
  assert.deepEqual(log, ['a:granted', 'b:timeout', 'c:granted']);
  clock.advance(1000); // c's timer was cancelled when it was granted
  assert.deepEqual(log, ['a:granted', 'b:timeout', 'c:granted']);
  assert.equal(clock.pending, 0);
  assert.equal(b.rejectedTimeout, 1);
});

test('a timed-out waiter frees its queue place', () => {
  const { clock, b, log, req } = setup({ maxConcurrent: 1, maxQueued: 1, queueTimeoutMs: 10 });
  req('a'); req('b');
  req('c');
  assert.deepEqual(log, ['a:granted', 'c:full']);
  clock.advance(10);
  req('d');
  assert.equal(b.queued, 1);
  b.release();
  assert.deepEqual(log, ['a:granted', 'c:full', 'b:timeout', 'd:granted']);
});

test('cancel removes a queued request without callbacks and stops its timer', () => {
  const { clock, b, log, req } = setup({ maxConcurrent: 1, maxQueued: 3, queueTimeoutMs: 100 });
  req('a');
  const tb = req('b')!;
  const tc = req('c')!;
  const td = req('d')!;
  assert.equal(clock.pending, 3);
  assert.equal(b.cancel(tc), true); // middle
  assert.equal(b.cancel(tc), false); // twice
  assert.equal(b.cancel(td), true); // tail
  assert.equal(clock.pending, 1);
  assert.deepEqual([b.queued, b.cancelled], [1, 2]);
  req('e'); // appended after b
  b.release();
  assert.equal(b.cancel(tb), false); // already granted
  b.release();
  assert.deepEqual(log, ['a:granted', 'b:granted', 'e:granted']);
  clock.advance(1000);
  assert.deepEqual(log, ['a:granted', 'b:granted', 'e:granted']);
  assert.equal(b.rejectedTimeout, 0);
});

test('cancel of the head, of a timed-out ticket, and of another bulkhead’s ticket', () => {
  const { clock, b, log, req } = setup({ maxConcurrent: 1, maxQueued: 3, queueTimeoutMs: 100 });
  const other = new Bulkhead({ maxConcurrent: 1, maxQueued: 1 }, clock.schedule);
  other.acquire(() => {}, () => {});
  const foreign = other.acquire(() => {}, () => {})!;
  req('a');
  const tb = req('b')!;
  req('c');
  assert.equal(b.cancel(foreign), false);
  assert.equal(b.cancel(tb), true); // head
  b.release();
  assert.deepEqual(log, ['a:granted', 'c:granted']);
  const td = req('d')!;
  clock.advance(100);
  assert.equal(b.cancel(td), false);
  assert.deepEqual(log, ['a:granted', 'c:granted', 'd:timeout']);
  assert.equal(other.queued, 1);
});

test('release with no slot held is ignored and counted', () => {
  const { b } = setup({ maxConcurrent: 1 });
  b.release();
  assert.deepEqual([b.active, b.unbalanced], [0, 1]);
});

test('callbacks may re-enter: a granted waiter that releases at once passes the slot on', () => {
  const clock = new FakeScheduler();
  const b = new Bulkhead({ maxConcurrent: 1, maxQueued: 3 }, clock.schedule);
  const log: string[] = [];
  b.acquire(() => log.push('a'), () => {});
  b.acquire(() => { log.push('b'); b.release(); }, () => {});
  b.acquire(() => log.push('c'), () => {});
  b.release();
  assert.deepEqual(log, ['a', 'b', 'c']);
  assert.deepEqual([b.active, b.queued], [1, 0]);
});

test('queueTimeoutMs Infinity schedules no timer', () => {
  const { clock, b, req } = setup({ maxConcurrent: 1, maxQueued: 1, queueTimeoutMs: Infinity });
  req('a');
  req('b');
  assert.equal(clock.pending, 0);
  assert.equal(b.queued, 1);
});

test('invalid options throw RangeError', () => {
  assert.throws(() => new Bulkhead({ maxConcurrent: 0 }), RangeError);
  assert.throws(() => new Bulkhead({ maxConcurrent: 1.5 }), RangeError);
  assert.throws(() => new Bulkhead({ maxConcurrent: 1, maxQueued: -1 }), RangeError);
  assert.throws(() => new Bulkhead({ maxConcurrent: 1, queueTimeoutMs: 0 }), RangeError);
  assert.throws(() => new Bulkhead({ maxConcurrent: 1, queueTimeoutMs: Number.NaN }), RangeError);
});

test('uncontended acquire/release allocates nothing once optimised', async () => {
  // Heuristic (V8), as in upstream/balancers/alloc.test.ts: 1M rounds allocating even a few bytes
  // each would force scavenges. The callbacks are created once, outside the loop.
  const b = new Bulkhead({ maxConcurrent: 4, maxQueued: 4 }, () => () => {});
  let granted = 0;
  const onGranted = () => { granted++; };
  const onRejected = () => {};
  const round = (n: number) => {
    for (let i = 0; i < n; i++) {
      b.acquire(onGranted, onRejected);
      b.acquire(onGranted, onRejected);
      b.release();
      b.release();
    }
  };
  assert.equal(await fewestGcs(round), 0);
  assert.equal(b.active, 0);
  assert.ok(granted > 0);
});
