import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatStoreUrl, parseStoreUrl, StoreUrlError } from './store-url.js';

/** The StoreUrlError message for `url`; fails if parsing succeeds. */
function reason(url: string): string {
  try {
    parseStoreUrl(url);
  } catch (e) {
    assert.ok(e instanceof StoreUrlError, `expected StoreUrlError, got ${String(e)}`);
    assert.equal(e.code, 'SWY_STORE_URL_INVALID');
    return e.message;
  }
  assert.fail(`expected ${url} to be rejected`);
}

test('parses one or more endpoints and the prefix', () => {
  assert.deepEqual(parseStoreUrl('etcd://127.0.0.1:2379/switchyard'), { hosts: ['127.0.0.1:2379'], prefix: '/switchyard' });
  assert.deepEqual(parseStoreUrl('etcd://10.0.0.1:2379,10.0.0.2:2379,etcd-3.internal:23790/lb/prod'),
    { hosts: ['10.0.0.1:2379', '10.0.0.2:2379', 'etcd-3.internal:23790'], prefix: '/lb/prod' });
  assert.deepEqual(parseStoreUrl('etcd://[::1]:2379/x'), { hosts: ['[::1]:2379'], prefix: '/x' });
});

test('prefix defaults to /switchyard and is normalized without a trailing slash', () => {
  assert.equal(parseStoreUrl('etcd://127.0.0.1:2379').prefix, '/switchyard');
  assert.equal(parseStoreUrl('etcd://127.0.0.1:2379/').prefix, '/switchyard');
  assert.equal(parseStoreUrl('etcd://127.0.0.1:2379/lb/').prefix, '/lb');
  assert.equal(parseStoreUrl('etcd://127.0.0.1:2379//lb//prod//').prefix, '/lb/prod');
  assert.equal(parseStoreUrl('  ETCD://127.0.0.1:2379/a  ').prefix, '/a');
});

test('rejects bad urls with a message naming the problem', () => {
  assert.match(reason('http://127.0.0.1:2379'), /must start with etcd:\/\//);
  assert.match(reason('etcd://'), /no etcd endpoint/);
  assert.match(reason('etcd:///prefix'), /no etcd endpoint/);
  assert.match(reason('etcd://127.0.0.1/x'), /endpoint 1 "127.0.0.1" is not host:port/);
  assert.match(reason('etcd://a:1,,b:2'), /endpoint 2 "" is not host:port/);
  assert.match(reason('etcd://a:70000'), /port 70000 outside 1-65535/);
  assert.match(reason('etcd://a:0'), /port 0 outside/);
  assert.match(reason('etcd://a:1,a:1'), /listed twice/);
  assert.match(reason('etcd://user:pw@a:1'), /credentials/);
  assert.match(reason('etcd://a:1/x?y=1'), /query strings/);
  assert.match(reason('etcd://a:1/x y'), /may only use/);
  assert.match(reason('etcd://a:1/x/../y'), /"\.\."/);
});

test('formatStoreUrl round-trips', () => {
  const u = parseStoreUrl('etcd://a:1,b:2/p/q/');
  assert.equal(formatStoreUrl(u), 'etcd://a:1,b:2/p/q');
  assert.deepEqual(parseStoreUrl(formatStoreUrl(u)), u);
});
