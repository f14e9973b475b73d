import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Recorder, type SecondPoint } from './recorder.js';

const ok = (bytes = 10) => ({ ok: true as const, bytes });

test('outcomes belong to the scheduled second, throughput to the completion second', () => {
  const closed: SecondPoint[] = [];
  const r = new Recorder(1, (p) => closed.push(p));
  const a = { atMs: 900, phase: 0 };
  r.dispatched(a, 900);
  r.closeUpTo(1500, 2000);
  assert.equal(closed.length, 0, 'second 0 waits for its request in flight');
  r.completed(a, 2300, 0, ok());
  r.closeUpTo(2400, 3000);
  assert.equal(closed.length, 2);
  assert.deepEqual([closed[0].offered, closed[0].ok, closed[0].done, closed[0].p99], [1, 0, 0, 1400]);
  assert.deepEqual([closed[1].offered, closed[1].ok, closed[1].done], [0, 0, 0]);
  r.closeAll(3000);
  assert.deepEqual([closed[2].ok, closed[2].done, closed[2].bytes], [1, 1, 10]);
});

test('coordinated omission: a stalled second charges every request scheduled during the stall', () => {
  // 100 requests/s; the target stalls from 1.0 s to 2.0 s and then answers all at once.
  const r = new Recorder(1);
  for (let i = 0; i < 300; i++) {
    const a = { atMs: i * 10, phase: 0 };
    r.dispatched(a, a.atMs);
    const stalled = a.atMs >= 1000 && a.atMs < 2000;
    r.completed(a, stalled ? 2000 : a.atMs + 1, 0, ok());
  }
  r.closeAll(3000);
  const total = r.phaseTotals(0);
  assert.equal(total.ok, 300);
  // A third of the requests waited, from 1 ms up to 1 s: the p99 is the stall, the median is not.
  assert.ok(total.latency.p99! >= 970, `p99 ${total.latency.p99}`);
  assert.ok(total.latency.p50! < 20, `p50 ${total.latency.p50}`);
  assert.ok(r.series[1].p50! >= 490 && r.series[1].p50! <= 510, 'second 1: latencies spread 0..1000 ms');
  assert.equal(r.series[1].ok, 0, 'nothing completes during the stall');
  assert.equal(r.series[2].ok, 200, 'the backlog completes in second 2, with second 2\'s own requests');
});

test('errors are counted by kind in the scheduled second and phase; latency only for successes', () => {
  const r = new Recorder(2);
  const a = { atMs: 100, phase: 0 };
  const b = { atMs: 200, phase: 0 };
  const c = { atMs: 1100, phase: 1 };
  for (const x of [a, b, c]) r.dispatched(x, x.atMs);
  r.completed(a, 150, 0, { ok: false, kind: 'connect', bytes: 0 });
  r.completed(b, 1500, 1, { ok: false, kind: 'http_5xx', bytes: 20 });
  r.completed(c, 1102, 1, ok());
  r.closeAll(2000);
  assert.deepEqual(r.series[0].errors, { connect: 1, http_5xx: 1 });
  assert.equal(r.series[0].failed, 2);
  assert.equal(r.series[0].p99, null);
  assert.equal(r.series[1].failed, 0);
  const p0 = r.phaseTotals(0);
  const p1 = r.phaseTotals(1);
  assert.deepEqual([p0.scheduled, p0.ok, p0.failed, p0.latency.count], [2, 0, 2, 0]);
  assert.deepEqual([p1.scheduled, p1.ok, p1.okDone, p1.bytesDone], [1, 1, 1, 30]);
});

test('a second stays open while an arrival due in it has not been sent (generator behind)', () => {
  const closed: number[] = [];
  const r = new Recorder(1, (p) => closed.push(p.t));
  r.closeUpTo(5000, 800);
  assert.deepEqual(closed, []);
  r.closeUpTo(5000, 3000);
  assert.deepEqual(closed, [0, 1, 2]);
});

test('window latency merges the per-second histograms', () => {
  const r = new Recorder(1);
  for (let s = 0; s < 4; s++) {
    for (let i = 0; i < 100; i++) {
      const a = { atMs: s * 1000 + i * 10, phase: 0 };
      r.dispatched(a, a.atMs);
      r.completed(a, a.atMs + (s === 3 ? 50 : 2), 0, ok());
    }
  }
  r.closeAll(4000);
  assert.ok(Math.abs(r.windowLatency(0, 3).p99! - 2) < 0.05);
  assert.ok(Math.abs(r.windowLatency(2, 4).p99! - 50) < 1);
  assert.equal(r.windowLatency(0, 4).count, 400);
});
