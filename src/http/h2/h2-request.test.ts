import { test } from 'node:test';
import assert from 'node:assert/strict';
import { h1Headers } from './h2-request.js';

test(':authority becomes Host, pseudo-headers are dropped', () => {
  assert.deepEqual(
    h1Headers([':method', 'GET', ':scheme', 'https', ':authority', 'example.com:8443', ':path', '/a', 'accept', '*/*']),
    ['host', 'example.com:8443', 'accept', '*/*'],
  );
});

test('a Host header sent alongside :authority is kept as the only Host', () => {
  assert.deepEqual(h1Headers([':authority', 'a.example', 'host', 'b.example']), ['host', 'b.example']);
});

test('split cookie fields are joined into one for HTTP/1.1', () => {
  assert.deepEqual(h1Headers([':authority', 'x', 'cookie', 'a=1', 'accept', 'y', 'cookie', 'b=2']),
    ['host', 'x', 'accept', 'y', 'cookie', 'a=1; b=2']);
});

test('without :authority nor Host there is no Host (routing answers 400)', () => {
  assert.deepEqual(h1Headers([':method', 'GET', ':path', '/']), []);
});
