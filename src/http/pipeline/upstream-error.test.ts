import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classifyUpstream, failureDetail, statusFailureCode } from './upstream-error.js';

test('connect failures of either engine are one class: 502, always retryable', () => {
  for (const code of ['ECONNREFUSED', 'SWY_BACKEND_UNAVAILABLE', 'SWY_CONNECT_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT', 'EHOSTUNREACH']) {
    const f = classifyUpstream(code);
    assert.deepEqual([f.code, f.kind, f.side], ['SWY_UPSTREAM_CONNECT', 'connect', 'upstream'], code);
  }
});

test('response timeouts of both engines are timeout retries; stalled bodies and resets are status-like', () => {
  assert.equal(classifyUpstream('SWY_HEADERS_TIMEOUT'), classifyUpstream('UND_ERR_HEADERS_TIMEOUT'));
  assert.equal(classifyUpstream('SWY_HEADERS_TIMEOUT').kind, 'timeout');
  assert.deepEqual([classifyUpstream('UND_ERR_BODY_TIMEOUT').code, classifyUpstream('SWY_BODY_TIMEOUT').kind], ['SWY_UPSTREAM_TIMEOUT', 'status']);
  for (const code of ['ECONNRESET', 'UND_ERR_SOCKET', 'SWY_UPSTREAM_CLOSED', undefined]) {
    assert.deepEqual([classifyUpstream(code).code, classifyUpstream(code).kind], ['SWY_UPSTREAM_RESET', 'status'], String(code));
  }
});

test('detail names the raw code only for resets, and the service always', () => {
  assert.equal(failureDetail(classifyUpstream('ECONNRESET'), 'ECONNRESET', 'api'), 'backend connection failed (ECONNRESET) (service api)');
  assert.equal(failureDetail(classifyUpstream('ECONNREFUSED'), 'ECONNREFUSED', 'api'), 'cannot connect to backend (service api)');
  assert.deepEqual([statusFailureCode(504), statusFailureCode(503)], ['SWY_UPSTREAM_TIMEOUT', 'SWY_UPSTREAM_RESET']);
});
