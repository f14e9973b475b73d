import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OutlierDetector, DEFAULT_OUTLIER, type OutlierOptions } from './outlier.js';
import { Endpoint } from '../endpoint.js';
import { ManualClock } from '../../util/clock.js';

type Change = [key: string, ejected: boolean, reason: string, ms: number | undefined];

function setup(n: number, opts: Partial<OutlierOptions> = {}) {
  const clock = new ManualClock(1_000);
  const eps = Array.from({ length: n }, (_, i) => new Endpoint(`10.0.0.${i + 1}`, 8080));
  const log: Change[] = [];
  const onChange = (ep: Endpoint, ejected: boolean, reason: string, ms?: number): void => {
    ep.ejected = ejected;
    log.push([ep.key, ejected, reason, ms]);
  };
  const d = new OutlierDetector(eps, { ...DEFAULT_OUTLIER, ...opts }, clock, onChange);
  return { clock, eps, log, d, onChange };
}

function fail(d: OutlierDetector, ep: Endpoint, n: number): boolean[] {
  const out: boolean[] = [];
  for (let i = 0; i < n; i++) out.push(d.record(ep, false));
  return out;
}

test('outlier: defaults', () => {
  assert.deepEqual({ ...DEFAULT_OUTLIER }, {
    consecutiveFailures: 5, successRateThreshold: 0, successRateRequestVolume: 100, intervalMs: 10_000,
    baseEjectionMs: 30_000, maxEjectionMs: 300_000, maxEjectionPercent: 50,
  });
});

test('outlier: 5 consecutive failures eject; the 5th record() returns true', () => {
  const { d, eps, log } = setup(4);
  assert.deepEqual(fail(d, eps[0], 5), [false, false, false, false, true]);
  assert.equal(d.isEjected(eps[0]), true);
  assert.equal(eps[0].ejected, true);
  assert.equal(d.ejectedCount, 1);
  assert.deepEqual(log, [['10.0.0.1:8080', true, 'consecutive-failures', 30_000]]);
  assert.equal(d.isEjected(eps[1]), false);
});

test('outlier: a success in between resets the count', () => {
  const { d, eps } = setup(4);
  fail(d, eps[0], 4);
  assert.equal(d.record(eps[0], true), false);
  assert.deepEqual(fail(d, eps[0], 4), [false, false, false, false]);
  assert.equal(d.isEjected(eps[0]), false);
  assert.equal(d.record(eps[0], false), true);
});

test('outlier: failures of other endpoints do not count, nor do outcomes while ejected', () => {
  const { d, eps } = setup(4);
  fail(d, eps[0], 3);
  fail(d, eps[1], 3);
  fail(d, eps[0], 1);
  assert.equal(d.ejectedCount, 0);
  fail(d, eps[0], 1);
  assert.equal(d.isEjected(eps[0]), true);
  assert.deepEqual(fail(d, eps[0], 20), Array(20).fill(false));
  assert.equal(d.ejectedCount, 1);
});

test('outlier: expiry un-ejects via tick, at exactly the ejection time', () => {
  const { d, eps, clock, log } = setup(4);
  fail(d, eps[0], 5);
  clock.advance(29_999);
  assert.equal(d.tick(), false);
  assert.equal(d.isEjected(eps[0]), true);
  clock.advance(1);
  assert.equal(d.tick(), true);
  assert.equal(d.isEjected(eps[0]), false);
  assert.equal(eps[0].ejected, false);
  assert.equal(d.ejectedCount, 0);
  assert.deepEqual(log.at(-1), ['10.0.0.1:8080', false, 'ejection-expired', undefined]);
  assert.equal(d.tick(), false);
});

test('outlier: ejection time grows 30 s, 60 s, 90 s … and is capped at 300 s', () => {
  const { d, eps, clock, log } = setup(2);
  const times: number[] = [];
  for (let i = 0; i < 12; i++) {
    fail(d, eps[0], 5);
    const ms = log.at(-1)![3]!;
    times.push(ms);
    clock.advance(ms);
    assert.equal(d.tick(), true);
  }
  assert.deepEqual(times, [30_000, 60_000, 90_000, 120_000, 150_000, 180_000, 210_000, 240_000, 270_000, 300_000, 300_000, 300_000]);
});

test('outlier: the multiplier decays by one per interval spent back in the pool', () => {
  const { d, eps, clock, log } = setup(2);
  const ejectFor = (): number => { fail(d, eps[0], 5); return log.at(-1)![3]!; };
  assert.equal(ejectFor(), 30_000);
  clock.advance(30_000); d.tick();
  assert.equal(ejectFor(), 60_000);
  clock.advance(60_000); d.tick();
  assert.equal(ejectFor(), 90_000); // multiplier 3
  clock.advance(90_000); d.tick();
  clock.advance(19_999); // one full interval in the pool: 3 -> 2, then +1
  assert.equal(ejectFor(), 90_000);
  clock.advance(90_000); d.tick();
  clock.advance(100_000); // ten intervals: back to 0, then +1
  assert.equal(ejectFor(), 30_000);
});

test('outlier: the multiplier stops at the cap, so forgiveness after the cap is prompt', () => {
  const { d, eps, clock, log } = setup(2);
  for (let i = 0; i < 20; i++) { fail(d, eps[0], 5); clock.advance(log.at(-1)![3]!); d.tick(); }
  clock.advance(10_000); // one interval: 10 -> 9, then +1 = 10 -> still capped
  fail(d, eps[0], 5);
  assert.equal(log.at(-1)![3], 300_000);
  clock.advance(300_000); d.tick();
  clock.advance(20_000); // two intervals: 10 -> 8, +1 = 9
  fail(d, eps[0], 5);
  assert.equal(log.at(-1)![3], 270_000);
});

test('outlier: maxEjectionPercent 50 with 4 hosts: a third host is not ejected while two are', () => {
  const { d, eps, clock, log } = setup(4);
  assert.equal(fail(d, eps[0], 5)[4], true);
  clock.advance(1_000);
  assert.equal(fail(d, eps[1], 5)[4], true);
  assert.deepEqual(fail(d, eps[2], 10), Array(10).fill(false));
  assert.equal(d.isEjected(eps[2]), false);
  assert.equal(d.ejectedCount, 2);
  // When the first returns, the next failure of the third (its count was kept) ejects it.
  clock.advance(29_000);
  assert.equal(d.tick(), true);
  assert.equal(d.isEjected(eps[0]), false);
  assert.equal(d.record(eps[2], false), true);
  assert.equal(d.ejectedCount, 2);
  assert.deepEqual(log.map(([k, e]) => `${k}:${e}`), [
    '10.0.0.1:8080:true', '10.0.0.2:8080:true', '10.0.0.1:8080:false', '10.0.0.3:8080:true',
  ]);
});

test('outlier: the limit is floor(pool x percent): 2 hosts at 50% -> 1, 1 host -> 0, 0% -> none', () => {
  const two = setup(2);
  assert.equal(fail(two.d, two.eps[0], 5)[4], true);
  assert.equal(fail(two.d, two.eps[1], 5)[4], false);

  const one = setup(1);
  assert.deepEqual(fail(one.d, one.eps[0], 50), Array(50).fill(false));

  const three = setup(3);
  fail(three.d, three.eps[0], 5);
  fail(three.d, three.eps[1], 5);
  assert.equal(three.d.ejectedCount, 1);

  const none = setup(10, { maxEjectionPercent: 0 });
  for (const ep of none.eps) fail(none.d, ep, 5);
  assert.equal(none.d.ejectedCount, 0);
});

test('outlier: success-rate ejection at the interval boundary, lowest rates first, within the limit', () => {
  const { d, eps, clock, log } = setup(4, { successRateThreshold: 80, successRateRequestVolume: 10, consecutiveFailures: 1_000 });
  // ep0: 50% over 20, ep1: 70% over 10, ep2: 60% over 10, ep3: 50% but only 8 requests.
  const feed = (ep: Endpoint, n: number, ok: number) => { for (let i = 0; i < n; i++) d.record(ep, i % n < ok); };
  feed(eps[0], 20, 10);
  feed(eps[1], 10, 7);
  feed(eps[2], 10, 6);
  feed(eps[3], 8, 4);
  clock.advance(9_999);
  assert.equal(d.tick(), false, 'not before the interval ends');
  clock.advance(1);
  assert.equal(d.tick(), true);
  // Limit 2 of 4: the two lowest (ep0 50%, ep2 60%) go; ep1 (70%) stays; ep3 lacks volume.
  assert.deepEqual(log, [['10.0.0.1:8080', true, 'success-rate', 30_000], ['10.0.0.3:8080', true, 'success-rate', 30_000]]);
  // Counters restarted: a new interval with no traffic ejects nothing.
  clock.advance(10_000);
  assert.equal(d.tick(), false);
});

test('outlier: success-rate check is off at the default threshold 0', () => {
  const { d, eps, clock } = setup(4, { successRateRequestVolume: 1 });
  for (let i = 0; i < 200; i++) d.record(eps[0], i % 5 === 0); // 20% success, never 5 in a row
  clock.advance(10_000);
  assert.equal(d.tick(), false);
  assert.equal(d.ejectedCount, 0);
});

test('outlier: carry() keeps ejection, its end time, multiplier and counts of endpoints present in both', () => {
  const { d, eps, clock, log, onChange } = setup(4);
  fail(d, eps[0], 5); // ejected until +30 s
  fail(d, eps[1], 4); // one failure away
  clock.advance(10_000);
  // Reload: eps[3] removed, a new endpoint added; eps[0..2] are the same objects.
  const added = new Endpoint('10.0.0.9', 8080);
  const next = OutlierDetector.carry(d, [eps[0], eps[1], eps[2], added], DEFAULT_OUTLIER, clock, onChange);
  assert.equal(next.isEjected(eps[0]), true);
  assert.equal(next.ejectedCount, 1);
  assert.equal(log.length, 1, 'carried ejection not announced again');
  assert.equal(next.isEjected(eps[3]), false);
  assert.equal(next.record(eps[3], false), false, 'removed endpoint unknown');
  // eps[1] keeps its 4 failures: limit is 2 of 4, so one more ejects it.
  assert.equal(next.record(eps[1], false), true);
  // eps[0] returns at the original time (+30 s from ejection).
  clock.advance(19_999);
  next.tick();
  assert.equal(next.isEjected(eps[0]), true);
  clock.advance(1);
  assert.equal(next.tick(), true);
  assert.equal(next.isEjected(eps[0]), false);
  // ... and its multiplier was carried: the next ejection lasts 60 s.
  fail(next, eps[0], 5);
  assert.deepEqual(log.at(-1), ['10.0.0.1:8080', true, 'consecutive-failures', 60_000]);
});

test('outlier: carry() with no previous detector is a fresh one; the old detector is not changed', () => {
  const { d, eps, clock } = setup(2);
  const fresh = OutlierDetector.carry(undefined, eps, DEFAULT_OUTLIER, clock);
  assert.equal(fresh.ejectedCount, 0);
  fail(d, eps[0], 4);
  const next = OutlierDetector.carry(d, eps, DEFAULT_OUTLIER, clock);
  fail(next, eps[0], 1);
  assert.equal(next.isEjected(eps[0]), true);
  assert.equal(d.isEjected(eps[0]), false);
});

test('outlier: works with any endpoint type (compared by identity)', () => {
  const clock = new ManualClock();
  const a = { id: 'a' }, b = { id: 'b' };
  const d = new OutlierDetector<{ id: string }>([a, b], { ...DEFAULT_OUTLIER, consecutiveFailures: 1 }, clock);
  assert.equal(d.record({ id: 'a' }, false), false);
  assert.equal(d.record(a, false), true);
});

test('outlier: invalid options throw RangeError', () => {
  const clock = new ManualClock();
  const bad: Partial<OutlierOptions>[] = [
    { consecutiveFailures: 0 }, { successRateThreshold: 101 }, { successRateRequestVolume: 0 }, { intervalMs: 0 },
    { baseEjectionMs: -1 }, { maxEjectionMs: Number.NaN }, { maxEjectionPercent: -5 },
  ];
  for (const o of bad) assert.throws(() => new OutlierDetector([], { ...DEFAULT_OUTLIER, ...o }, clock), RangeError, JSON.stringify(o));
});
