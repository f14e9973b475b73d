import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProgressReporter, progressLine } from './progress.js';
import type { SecondPoint } from './recorder.js';

const point = (t: number, extra: Partial<SecondPoint> = {}): SecondPoint => ({ t, offered: 100, sent: 100, done: 100, ok: 100, failed: 0, errors: {}, p50: 1, p99: 2.5, max: 3, lagMs: 0.4, inFlight: 2, bytes: 0, ...extra });

test('the line shows elapsed/planned, offered, throughput, errors by kind, p99 and falling behind', () => {
  assert.equal(progressLine(point(41), 'spike', 'spike', 420), '[spike/spike] 00:42/07:00  offered 100/s  ok 100/s  errors 0  p99 2.5 ms  in flight 2');
  assert.match(progressLine(point(3, { failed: 4, errors: { connect: 3, http_5xx: 1 }, lagMs: 80 }), 'f', 'down', 3600),
    /errors 4 \(connect 3, http_5xx 1\).*BEHIND by 80 ms/);
});

test('a terminal gets one line rewritten; a log gets a line every few seconds and on errors', () => {
  let tty = '';
  const t = new ProgressReporter({ isTTY: true, write: (s: string) => { tty += s; } });
  t.second(point(0), 'baseline', 'baseline', 10);
  t.second(point(1), 'baseline', 'baseline', 10);
  t.end();
  assert.equal(tty.split('\n').length, 3, 'phase line, the rewritten line, the final newline');
  assert.equal((tty.match(/\r\x1b\[2K/g) ?? []).length, 2);
  let log = '';
  const l = new ProgressReporter({ write: (s: string) => { log += s; } }, 5);
  for (let s = 0; s < 10; s++) l.second(point(s, s === 2 ? { failed: 1, errors: { reset: 1 } } : {}), 'baseline', 'baseline', 10);
  assert.deepEqual(log.trim().split('\n').map((x) => x.slice(0, 30)), [
    'baseline: phase "baseline" fro', '[baseline/baseline] 00:03/00:1', '[baseline/baseline] 00:05/00:1', '[baseline/baseline] 00:10/00:1',
  ]);
});
