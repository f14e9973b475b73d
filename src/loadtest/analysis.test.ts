import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Recorder } from './recorder.js';
import { errorWindow, findReturn, p99Limit, worstSecondP99, type RecoveryCriteria } from './analysis.js';

const criteria: RecoveryCriteria = { tolerance: 0.1, latencyFloorMs: 0, holdS: 3 };
const ref = { throughput: 100, p99Ms: 2, source: 'test' };

/** 100 requests/s for `seconds`; `shape(s)` gives each second's latency (ms) and failures. */
function run(seconds: number, shape: (s: number) => { ms: number; fail?: number; okRate?: number }): Recorder {
  const r = new Recorder(1);
  for (let s = 0; s < seconds; s++) {
    const { ms, fail = 0, okRate = 100 } = shape(s);
    for (let i = 0; i < okRate; i++) {
      const a = { atMs: s * 1000 + i * (1000 / okRate), phase: 0 };
      r.dispatched(a, a.atMs);
      if (i < fail) r.completed(a, a.atMs + 0.5, 0, { ok: false, kind: 'connect', bytes: 0 });
      else r.completed(a, Math.min(a.atMs + ms, s * 1000 + 999), 0, { ok: true, bytes: 0 });
    }
  }
  r.closeAll(seconds * 1000);
  return r;
}

test('the p99 limit is ref × (1 + tolerance), or ref + floor when larger', () => {
  assert.ok(Math.abs(p99Limit({ ...ref, p99Ms: 50 }, { ...criteria, latencyFloorMs: 1 }) - 55) < 1e-9);
  assert.equal(p99Limit({ ...ref, p99Ms: 0.5 }, { ...criteria, latencyFloorMs: 1 }), 1.5);
});

test('error window: first to last second with failures', () => {
  const r = run(12, (s) => ({ ms: 1, fail: s === 4 ? 30 : s === 6 ? 5 : 0 }));
  assert.deepEqual(errorWindow(r.series), { firstS: 4, lastS: 6, lengthS: 3, failed: 35 });
  assert.equal(errorWindow(r.series, 7), null);
});

test('recovery: the first window after the disturbance with throughput and p99 back within 10%', () => {
  // Latency 20 ms in seconds 5-8, then 1.5 ms; throughput dips to 50/s in seconds 5-6.
  const r = run(16, (s) => ({ ms: s >= 5 && s <= 8 ? 20 : 1.5, okRate: s === 5 || s === 6 ? 50 : 100 }));
  assert.equal(findReturn(r, 5, ref, criteria, 'throughput'), 7);
  assert.equal(findReturn(r, 5, ref, criteria, 'p99'), 9);
  assert.equal(findReturn(r, 5, ref, criteria, 'both'), 9);
  assert.equal(worstSecondP99(r.series, 5, 9), 20);
  // Never back within the closed seconds: null.
  assert.equal(findReturn(run(8, () => ({ ms: 20 })), 0, ref, criteria, 'both'), null);
});
