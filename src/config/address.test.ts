import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseHostPort } from './address.js';

test('parseHostPort: hostname and IPv4', () => {
  assert.deepEqual(parseHostPort('localhost:8080'), { host: 'localhost', port: 8080 });
  assert.deepEqual(parseHostPort('0.0.0.0:80'), { host: '0.0.0.0', port: 80 });
  assert.deepEqual(parseHostPort('10.1.2.3:443'), { host: '10.1.2.3', port: 443 });
  assert.deepEqual(parseHostPort('api-1.internal_zone.example.com:9000'), { host: 'api-1.internal_zone.example.com', port: 9000 });
});

test('parseHostPort: IPv6 in brackets, host returned without brackets', () => {
  assert.deepEqual(parseHostPort('[::1]:8080'), { host: '::1', port: 8080 });
  assert.deepEqual(parseHostPort('[::]:80'), { host: '::', port: 80 });
  assert.deepEqual(parseHostPort('[2001:db8::A:1]:443'), { host: '2001:db8::A:1', port: 443 });
  assert.deepEqual(parseHostPort('[::ffff:192.0.2.1]:53'), { host: '::ffff:192.0.2.1', port: 53 });
});

test('parseHostPort: IPv6 without brackets or with a broken bracket is rejected', () => {
  assert.equal(parseHostPort('::1:8080'), undefined);
  assert.equal(parseHostPort('[::1:8080'), undefined);
  assert.equal(parseHostPort('::1]:8080'), undefined);
  assert.equal(parseHostPort('[::1]8080'), undefined);
  assert.equal(parseHostPort('[::1]'), undefined);
  assert.equal(parseHostPort('[]:80'), undefined);
  assert.equal(parseHostPort('[fe80::1%eth0]:80'), undefined);
  assert.equal(parseHostPort('[example.com]:80'), undefined);
});

test('parseHostPort: port range bounds', () => {
  assert.deepEqual(parseHostPort('h:1'), { host: 'h', port: 1 });
  assert.deepEqual(parseHostPort('h:65535'), { host: 'h', port: 65535 });
  assert.equal(parseHostPort('h:65536'), undefined);
  assert.equal(parseHostPort('h:99999'), undefined);
  assert.equal(parseHostPort('h:100000'), undefined);
  assert.equal(parseHostPort('[::1]:65536'), undefined);
});

test('parseHostPort: port 0 only when allowZero', () => {
  assert.equal(parseHostPort('h:0'), undefined);
  assert.equal(parseHostPort('h:0', false), undefined);
  assert.deepEqual(parseHostPort('h:0', true), { host: 'h', port: 0 });
  assert.deepEqual(parseHostPort('[::1]:0', true), { host: '::1', port: 0 });
  assert.equal(parseHostPort('h:65536', true), undefined);
});

test('parseHostPort: garbage is rejected', () => {
  for (const bad of [
    '', 'h', 'h:', ':80', '80', 'h:80:90', 'h:-1', 'h:+80', 'h:8o', 'h:80 ', ' h:80', 'h :80',
    'a b:80', 'http://h:80', 'h:80/', 'user@h:80', 'h:1.5', 'h:0x50', '[::1]:', 'h\n:80',
  ]) {
    assert.equal(parseHostPort(bad), undefined, JSON.stringify(bad));
  }
});

test('parseHostPort: port is a number, leading zeros tolerated', () => {
  const r = parseHostPort('h:00080');
  assert.deepEqual(r, { host: 'h', port: 80 });
  assert.equal(typeof r!.port, 'number');
});
