import { test } from 'node:test';
import assert from 'node:assert/strict';
import { h2ErrorHead, h2Headers } from './h2-answer.js';

test('a response head becomes HTTP/2 headers: names lower-cased, repeats as arrays, connection fields dropped', () => {
  const h = h2Headers(200, ['Content-Type', 'text/plain', 'Set-Cookie', 'a=1', 'set-cookie', 'b=2', 'Vary', 'accept', 'vary', 'origin',
    'Connection', 'close', 'Keep-Alive', 'timeout=5', 'Transfer-Encoding', 'chunked', 'Upgrade', 'h2c', 'TE', 'gzip']);
  assert.deepEqual({ ...h }, { ':status': 200, 'content-type': 'text/plain', 'set-cookie': ['a=1', 'b=2'], vary: ['accept', 'origin'] });
  assert.equal(h2Headers(200, ['te', 'trailers'])!.te, 'trailers');
});

test('a repeated single-value field cannot be carried: null (answered as the backend\'s fault)', () => {
  assert.equal(h2Headers(200, ['content-length', '5', 'Content-Length', '5']), null);
  assert.equal(h2Headers(302, ['location', '/a', 'location', '/b']), null);
});

test('the proxy\'s own answers carry the same fields as on HTTP/1.1', () => {
  const busy = h2ErrorHead('SWY_BULKHEAD_FULL', 'full', 'rid-1', ['RateLimit-Policy', '10;w=1']);
  assert.equal(busy.headers[':status'], 503);
  assert.equal(busy.headers['retry-after'], '1');
  assert.equal(busy.headers['ratelimit-policy'], '10;w=1');
  assert.equal(busy.headers['x-request-id'], 'rid-1');
  assert.equal(busy.headers['content-length'], Buffer.byteLength(busy.body));
  assert.match(busy.body, /SWY_BULKHEAD_FULL, request id rid-1/);
  assert.equal(h2ErrorHead('SWY_REDIRECT', 'https://a.test/x', 'r').headers.location, 'https://a.test/x');
});
