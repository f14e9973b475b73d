import { test } from 'node:test';
import assert from 'node:assert/strict';
import { kindOfError, kindOfStatus } from './error-kind.js';

test('statuses: 4xx and 5xx are errors, the rest succeed', () => {
  assert.equal(kindOfStatus(200), null);
  assert.equal(kindOfStatus(304), null);
  assert.equal(kindOfStatus(429), 'http_4xx');
  assert.equal(kindOfStatus(502), 'http_5xx');
});

test('network errors by code, also when wrapped as the cause', () => {
  assert.equal(kindOfError(Object.assign(new Error('x'), { code: 'ECONNREFUSED' })), 'connect');
  assert.equal(kindOfError(Object.assign(new Error('x'), { code: 'UND_ERR_HEADERS_TIMEOUT' })), 'timeout');
  assert.equal(kindOfError(Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' })), 'reset');
  assert.equal(kindOfError(new Error('fetch failed', { cause: Object.assign(new Error('x'), { code: 'ECONNRESET' }) })), 'reset');
  assert.equal(kindOfError(new Error('what')), 'other');
  assert.equal(kindOfError('not an error'), 'other');
});
