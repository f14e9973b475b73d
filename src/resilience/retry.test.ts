import { test } from 'node:test';
import assert from 'node:assert/strict';
import { seededRandom } from '../util/random.js';
import { TIMER_MAX_MS } from '../util/clock.js';
import {
  DEFAULT_RETRY, IDEMPOTENT_METHODS, NO_RETRY, backoffMs, isRetryableStatus, newRetryState, nextRetry, type RetryPolicy,
} from './retry.js';

const zero = () => 0;
const almostOne = () => 0.999999;

test('DEFAULT_RETRY holds the design numbers and is frozen', () => {
  assert.deepEqual({ ...DEFAULT_RETRY, retryOn: [...DEFAULT_RETRY.retryOn] }, {
    connectRetries: 2, statusRetries: 1, timeoutRetries: 1, timeoutGrowth: 2, retryOn: [502, 503, 504],
    baseDelayMs: 100, maxDelayMs: 5000, jitter: 0.1,
  });
  assert.ok(Object.isFrozen(DEFAULT_RETRY));
  assert.ok(Object.isFrozen(DEFAULT_RETRY.retryOn));
});

test('IDEMPOTENT_METHODS: the RFC 9110 idempotent methods, case-sensitive', () => {
  for (const m of ['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']) assert.ok(IDEMPOTENT_METHODS.has(m), m);
  for (const m of ['POST', 'PATCH', 'CONNECT', 'get']) assert.ok(!IDEMPOTENT_METHODS.has(m), m);
});

test('isRetryableStatus: 502/503/504 by default, or the policy list', () => {
  assert.deepEqual([500, 502, 503, 504, 429].map((s) => isRetryableStatus(s)), [false, true, true, true, false]);
  const p: RetryPolicy = { ...DEFAULT_RETRY, retryOn: [429] };
  assert.equal(isRetryableStatus(429, p), true);
  assert.equal(isRetryableStatus(503, p), false);
});

test('backoffMs: base × 2^attempt capped at max, plus jitter in [0, 10%)', () => {
  assert.deepEqual([0, 1, 2, 3, 4, 5, 6, 7].map((a) => backoffMs(a, zero)), [100, 200, 400, 800, 1600, 3200, 5000, 5000]);
  assert.equal(backoffMs(0, () => 0.5), 105);
  assert.equal(backoffMs(6, () => 0.5), 5250);
  assert.ok(backoffMs(3, almostOne) < 880);
  assert.equal(backoffMs(2000, zero), 5000); // 2^2000 overflows: still capped
  assert.equal(backoffMs(1, zero, 10, 1000, 0.5), 20);
  assert.equal(backoffMs(1, () => 0.5, 10, 1000, 0.5), 25);
  assert.equal(backoffMs(3, () => 0.5, 0), 0);
});

test('backoffMs: jitter stays within bounds over many draws', () => {
  const r = seededRandom(7);
  for (let a = 0; a < 10; a++) {
    const d = Math.min(100 * 2 ** a, 5000);
    for (let k = 0; k < 200; k++) {
      const v = backoffMs(a, r);
      assert.ok(v >= d && v < d * 1.1, `attempt ${a}: ${v}`);
    }
  }
});

test('backoffMs: rejects a negative or fractional attempt', () => {
  assert.throws(() => backoffMs(-1, zero), RangeError);
  assert.throws(() => backoffMs(0.5, zero), RangeError);
  assert.throws(() => backoffMs(Number.NaN, zero), RangeError);
});

test('newRetryState: idempotent from the method or the route flag', () => {
  assert.equal(newRetryState('GET').idempotent, true);
  assert.equal(newRetryState('POST').idempotent, false);
  assert.equal(newRetryState('POST', true).idempotent, true);
  assert.deepEqual(newRetryState('PUT', false, 250), {
    idempotent: true, attempts: 0, connect: 0, status: 0, timeout: 0, perTryTimeoutMs: 250,
  });
});

test('connect: immediate, up to connectRetries, for any method', () => {
  const s = newRetryState('POST');
  assert.deepEqual(nextRetry(s, 'connect', zero), { retry: true, delayMs: 0 });
  assert.deepEqual(nextRetry(s, 'connect', zero), { retry: true, delayMs: 0 });
  assert.equal(nextRetry(s, 'connect', zero), NO_RETRY);
  assert.equal(s.connect, 2);
  assert.equal(s.attempts, 3);
});

test('status: idempotent only, up to statusRetries, with backoff by attempt number', () => {
  const post = newRetryState('POST');
  assert.deepEqual(nextRetry(post, 'status', zero), { retry: false });
  assert.equal(post.status, 0);

  const get = newRetryState('GET');
  assert.deepEqual(nextRetry(get, 'status', zero), { retry: true, delayMs: 100 });
  assert.deepEqual(nextRetry(get, 'status', zero), { retry: false });
  assert.equal(get.status, 1);

  const routePost = newRetryState('POST', true);
  assert.deepEqual(nextRetry(routePost, 'status', () => 0.5), { retry: true, delayMs: 105 });
});

test('timeout: idempotent only, backoff, per-try timeout grows by timeoutGrowth', () => {
  const post = newRetryState('POST', false, 1000);
  assert.deepEqual(nextRetry(post, 'timeout', zero), { retry: false });
  assert.equal(post.perTryTimeoutMs, 1000);

  const get = newRetryState('GET', false, 1000);
  assert.deepEqual(nextRetry(get, 'timeout', zero), { retry: true, delayMs: 100, perTryTimeoutMs: 2000 });
  assert.equal(get.perTryTimeoutMs, 2000);
  assert.deepEqual(nextRetry(get, 'timeout', zero), { retry: false });

  const noTimeout = newRetryState('GET');
  assert.deepEqual(nextRetry(noTimeout, 'timeout', zero), { retry: true, delayMs: 100 });

  const p: RetryPolicy = { ...DEFAULT_RETRY, timeoutRetries: 2, timeoutGrowth: 1.5 };
  const s = newRetryState('GET', false, 333);
  assert.deepEqual(nextRetry(s, 'timeout', zero, p), { retry: true, delayMs: 100, perTryTimeoutMs: 500 });
  assert.deepEqual(nextRetry(s, 'timeout', zero, p), { retry: true, delayMs: 200, perTryTimeoutMs: 750 });
  assert.deepEqual(nextRetry(s, 'timeout', zero, p), { retry: false });
});

test("'other' is never retried", () => {
  const s = newRetryState('GET', true, 1000);
  assert.equal(nextRetry(s, 'other', zero), NO_RETRY);
  assert.equal(s.attempts, 1);
  assert.deepEqual([s.connect, s.status, s.timeout], [0, 0, 0]);
});

test('kinds are counted separately; backoff uses the overall attempt number', () => {
  // connect, connect, 503, timeout: attempts 0, 1, 2, 3.
  const s = newRetryState('GET', false, 1000);
  assert.deepEqual(nextRetry(s, 'connect', zero), { retry: true, delayMs: 0 });
  assert.deepEqual(nextRetry(s, 'connect', zero), { retry: true, delayMs: 0 });
  assert.deepEqual(nextRetry(s, 'status', zero), { retry: true, delayMs: 400 });
  assert.deepEqual(nextRetry(s, 'timeout', zero), { retry: true, delayMs: 800, perTryTimeoutMs: 2000 });
  assert.equal(nextRetry(s, 'connect', zero), NO_RETRY);
  assert.equal(nextRetry(s, 'status', zero), NO_RETRY);
  assert.equal(nextRetry(s, 'timeout', zero), NO_RETRY);
  assert.deepEqual([s.attempts, s.connect, s.status, s.timeout], [7, 2, 1, 1]);
});

test('a policy with zero retries disables that kind', () => {
  const p: RetryPolicy = { ...DEFAULT_RETRY, connectRetries: 0, statusRetries: 0, timeoutRetries: 0 };
  const s = newRetryState('GET', false, 100);
  for (const k of ['connect', 'status', 'timeout'] as const) assert.equal(nextRetry(s, k, zero, p), NO_RETRY);
});

test('backoff honours the policy numbers', () => {
  const p: RetryPolicy = { ...DEFAULT_RETRY, baseDelayMs: 50, maxDelayMs: 120, jitter: 0 };
  const s = newRetryState('GET');
  assert.deepEqual(nextRetry(s, 'connect', almostOne, p), { retry: true, delayMs: 0 });
  assert.deepEqual(nextRetry(s, 'connect', almostOne, p), { retry: true, delayMs: 0 });
  assert.deepEqual(nextRetry(s, 'status', almostOne, p), { retry: true, delayMs: 120 });
});

test('timeout: the grown per-try timeout never passes Node\'s timer limit (past it a timer fires after 1 ms)', () => {
  const policy = { ...DEFAULT_RETRY, timeoutRetries: 10, timeoutGrowth: 10 };
  const s = newRetryState('GET', false, 3_600_000);
  let last = 0;
  for (let i = 0; i < 10; i++) {
    const d = nextRetry(s, 'timeout', zero, policy);
    assert.ok(d.retry && d.perTryTimeoutMs !== undefined);
    last = d.perTryTimeoutMs;
    assert.ok(last <= TIMER_MAX_MS, `try ${i + 2}: ${last}`);
  }
  assert.equal(last, TIMER_MAX_MS);
});
