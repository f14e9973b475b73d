import { test } from 'node:test';
import assert from 'node:assert/strict';
import { redisUrlProblem } from './redis-url.js';

test('redisUrlProblem: URLs ioredis connects with are accepted', () => {
  for (const u of ['redis://127.0.0.1:6379', 'redis://:pa%2Fss@127.0.0.1:6379/2', 'rediss://user:p%40ss@cache.internal:6380/0', 'redis://[::1]:6379', 'redis://h:6379?db=3', 'redis://h:6379?family=6']) {
    assert.equal(redisUrlProblem(u), undefined, u);
  }
});

test('redisUrlProblem: URLs ioredis would fail on or misread are rejected with a reason', () => {
  const cases: [string, RegExp][] = [
    ['redis://:pa/ss@127.0.0.1:6379', /ioredis cannot parse it .*%2F/],
    ['redis://u:p@ss@h:6379/', /.+/],
    ['redis://127.0.0.1:99999', /ioredis cannot parse it/],
    ['redis://127.0.0.1:6379/abc', /database must be a number, got "abc"/],
    ['redis://127.0.0.1:6379/1/2', /database must be a number, got "1\/2"/],
    ['redis://h:6379?db=x', /database must be a number/],
    ['redis://h:6379?family=abc', /family must be 4 or 6/],
    ['redis://h:6379?enableOfflineQueue=true', /unsupported query parameter enableOfflineQueue/],
    ['http://h:6379', /expected redis:\/\//],
  ];
  for (const [u, re] of cases) assert.match(redisUrlProblem(u) ?? '(accepted)', re, u);
});
