import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ArrivalSchedule } from './schedule.js';

function drain(s: ArrivalSchedule) {
  const out = [];
  for (let a = s.next(); a !== undefined; a = s.next()) out.push(a);
  return out;
}

test('arrivals are evenly spaced at each phase\'s rate, phases back to back', () => {
  const s = new ArrivalSchedule([{ name: 'a', rate: 4, durationMs: 1000 }, { name: 'b', rate: 12, durationMs: 500 }]);
  const all = drain(s);
  assert.deepEqual(all.filter((a) => a.phase === 0).map((a) => a.atMs), [0, 250, 500, 750]);
  assert.equal(all.filter((a) => a.phase === 1).length, 6);
  assert.equal(all[4].atMs, 1000);
  assert.ok(Math.abs(all[5].atMs - (1000 + 1000 / 12)) < 1e-9);
  assert.equal(s.endMs, 1500);
  assert.equal(s.phaseAt(999), 0);
  assert.equal(s.phaseAt(1000), 1);
  assert.equal(s.phaseAt(5000), 1);
});

test('times come from the index, so a long phase does not drift', () => {
  const s = new ArrivalSchedule([{ name: 'a', rate: 3, durationMs: 3_600_000 }]);
  const all = drain(s);
  assert.equal(all.length, 10_800);
  assert.ok(Math.abs(all[all.length - 1].atMs - (10_799 * 1000) / 3) < 1e-6);
});

test('a rate-0 phase only passes time', () => {
  const s = new ArrivalSchedule([{ name: 'a', rate: 1, durationMs: 2000 }, { name: 'idle', rate: 0, durationMs: 3000 }, { name: 'c', rate: 1, durationMs: 1000 }]);
  assert.deepEqual(drain(s).map((a) => [a.phase, a.atMs]), [[0, 0], [0, 1000], [2, 5000]]);
});

test('an open phase can be ended early; later phases move up; closed phases cannot', () => {
  const s = new ArrivalSchedule([{ name: 'a', rate: 1, durationMs: 2000 }, { name: 'watch', rate: 1, durationMs: 60_000, open: true }, { name: 'tail', rate: 1, durationMs: 1000 }]);
  assert.equal(s.endOpenPhase(0, 1000), false);
  for (let i = 0; i < 4; i++) s.next(); // 0, 1000, 2000, 3000
  assert.equal(s.endOpenPhase(1, 5000), true);
  assert.deepEqual(s.span(1), { startMs: 2000, endMs: 5000 });
  assert.deepEqual(s.span(2), { startMs: 5000, endMs: 6000 });
  assert.deepEqual(drain(s).map((a) => [a.phase, a.atMs]), [[1, 4000], [2, 5000]]);
});

test('stop ends the arrivals at once', () => {
  const s = new ArrivalSchedule([{ name: 'a', rate: 10, durationMs: 10_000 }]);
  s.next();
  s.stop();
  assert.equal(s.next(), undefined);
});
