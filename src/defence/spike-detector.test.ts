import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SpikeDetector, type SpikeChange } from './spike-detector.js';

const opts = { windowMs: 1000, factor: 4, clearFactor: 2, minRate: 20, timeConstantMs: 60_000, warmupMs: 5000 };

/** Feeds `seconds` one-second windows of `rps` on route r (prefix counts as given) from `t`; returns the changes and the new time and total. */
function feed(d: SpikeDetector, s: { t: number; total: number }, seconds: number, rps: number, prefixes: { key: string; count: number }[] = []): SpikeChange[] {
  const out: SpikeChange[] = [];
  for (let i = 0; i < seconds; i++) {
    s.t += 1000;
    s.total += rps;
    out.push(...d.observe(s.t, new Map([['search', s.total]]), new Map([['search', prefixes]])));
  }
  return out;
}

test('a burst over factor × baseline raises a spike naming the top prefixes; it clears below clearFactor (hysteresis)', () => {
  const d = new SpikeDetector(opts);
  const s = { t: 0, total: 0 };
  d.observe(s.t, new Map([['search', 0]]), new Map());
  assert.deepEqual(feed(d, s, 10, 10), [], 'warm-up and steady traffic raise nothing');
  assert.ok(Math.abs(d.baseline('search')! - 10) < 0.01);
  const raised = feed(d, s, 1, 93, [{ key: '203.0.113.0/24', count: 66 }, { key: '198.51.100.0/24', count: 9 }]);
  assert.equal(raised.length, 1);
  assert.equal(raised[0].change, 'raised');
  const spike = raised[0].spike;
  assert.equal(spike.ratio, 9.3);
  assert.deepEqual(spike.top, [{ key: '203.0.113.0/24', share: 0.71 }, { key: '198.51.100.0/24', share: 0.1 }]);
  assert.equal(spike.text, 'route search: 9.3× baseline (93 req/s against 10), top prefixes 203.0.113.0/24 71%, 198.51.100.0/24 10%');
  assert.deepEqual(feed(d, s, 5, 25), [], 'below factor but above clearFactor × baseline: still a spike');
  assert.equal(d.active().length, 1);
  assert.ok(Math.abs(d.baseline('search')! - 10) < 0.01, 'windows in a spike are not learned');
  const cleared = feed(d, s, 1, 15);
  assert.equal(cleared.length, 1);
  assert.equal(cleared[0].change, 'cleared');
  assert.equal(d.active().length, 0);
});

test('nothing is judged before the warm-up, and a quiet route never spikes below minRate', () => {
  const d = new SpikeDetector(opts);
  const s = { t: 0, total: 0 };
  d.observe(0, new Map([['search', 0]]), new Map());
  assert.deepEqual(feed(d, s, 4, 1000), [], 'no baseline yet');
  const q = new SpikeDetector(opts);
  const s2 = { t: 0, total: 0 };
  q.observe(0, new Map([['search', 0]]), new Map());
  feed(q, s2, 10, 1);
  assert.deepEqual(feed(q, s2, 3, 15), [], '15× its baseline but under minRate');
});

test('a route the config dropped clears its spike', () => {
  const d = new SpikeDetector(opts);
  const s = { t: 0, total: 0 };
  d.observe(0, new Map([['search', 0]]), new Map());
  feed(d, s, 10, 5);
  assert.equal(feed(d, s, 1, 100)[0].change, 'raised');
  const gone = d.observe(s.t + 1000, new Map(), new Map());
  assert.equal(gone.length, 1);
  assert.equal(gone[0].change, 'cleared');
});

test('a prefix spike names its top routes', () => {
  const d = new SpikeDetector(opts, 'prefix');
  let t = 0; let total = 0;
  d.observe(0, new Map([['203.0.113.0/24', 0]]), new Map());
  for (let i = 0; i < 10; i++) { t += 1000; total += 2; d.observe(t, new Map([['203.0.113.0/24', total]]), new Map()); }
  const c = d.observe(t + 1000, new Map([['203.0.113.0/24', total + 400]]), new Map([['203.0.113.0/24', [{ key: 'search', count: 360 }]]]));
  assert.equal(c[0].change, 'raised');
  assert.equal(c[0].spike.text, 'prefix 203.0.113.0/24: 200× baseline (400 req/s against 2), top routes search 90%');
});

test('once the detector is warm, a prefix never seen before that floods is a spike ("new"), not its own baseline', () => {
  const d = new SpikeDetector(opts, 'prefix', true);
  d.observe(0, new Map([['192.0.2.0/24', 0]]), new Map());
  for (let t = 1000; t <= 6000; t += 1000) d.observe(t, new Map([['192.0.2.0/24', t / 100]]), new Map());
  assert.equal(d.observe(7000, new Map([['192.0.2.0/24', 70], ['203.0.113.0/24', 0]]), new Map()).length, 0, 'first sight only starts a window');
  const c = d.observe(8000, new Map([['192.0.2.0/24', 80], ['203.0.113.0/24', 300]]), new Map([['203.0.113.0/24', [{ key: 'login', count: 300 }]]]));
  assert.equal(c.length, 1);
  assert.equal(c[0].spike.text, 'prefix 203.0.113.0/24: new (300 req/s, none before), top routes login 100%');
});
