import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatDuration, parseDuration } from './duration.js';

test('parseDuration: numbers are milliseconds, finite and non-negative only', () => {
  assert.equal(parseDuration(0), 0);
  assert.equal(parseDuration(250), 250);
  assert.equal(parseDuration(1.5), 1.5);
  assert.equal(parseDuration(-1), undefined);
  assert.equal(parseDuration(Number.NaN), undefined);
  assert.equal(parseDuration(Number.POSITIVE_INFINITY), undefined);
});

test('parseDuration: every unit', () => {
  assert.equal(parseDuration('250ms'), 250);
  assert.equal(parseDuration('0ms'), 0);
  assert.equal(parseDuration('5s'), 5000);
  assert.equal(parseDuration('1m'), 60_000);
  assert.equal(parseDuration('1h'), 3_600_000);
  assert.equal(parseDuration('2h'), 7_200_000);
});

test('parseDuration: fractions are allowed and rounded to whole milliseconds', () => {
  assert.equal(parseDuration('1.5m'), 90_000);
  assert.equal(parseDuration('0.25s'), 250);
  assert.equal(parseDuration('1.5ms'), 2);
  assert.equal(parseDuration('2.4ms'), 2);
});

test('parseDuration: surrounding whitespace is ignored', () => {
  assert.equal(parseDuration(' 5s'), 5000);
  assert.equal(parseDuration('5s\n'), 5000);
});

test('parseDuration: malformed strings give undefined', () => {
  for (const bad of ['', '5', '5 s', 's', 'ms', '5sec', '5S', '5MS', '-5s', '+5s', '.5s', '5.s', '1e3ms', '5d', '1h30m', 'abc', '5s5']) {
    assert.equal(parseDuration(bad), undefined, JSON.stringify(bad));
  }
});

test('formatDuration: picks the largest exact unit', () => {
  assert.equal(formatDuration(3_600_000), '1h');
  assert.equal(formatDuration(7_200_000), '2h');
  assert.equal(formatDuration(60_000), '1m');
  assert.equal(formatDuration(5 * 60_000), '5m');
  assert.equal(formatDuration(90_000), '90s');
  assert.equal(formatDuration(5000), '5s');
  assert.equal(formatDuration(1500), '1500ms');
  assert.equal(formatDuration(250), '250ms');
  assert.equal(formatDuration(3_660_000), '61m');
});

test('formatDuration: zero is 0ms, not 0h', () => {
  assert.equal(formatDuration(0), '0ms');
});

test('formatDuration and parseDuration round-trip for whole milliseconds', () => {
  for (const ms of [0, 1, 999, 1000, 1001, 59_000, 60_000, 61_000, 3_599_000, 3_600_000, 86_400_000, 300_000]) {
    assert.equal(parseDuration(formatDuration(ms)), ms, String(ms));
  }
});
