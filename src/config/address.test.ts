import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bindConflict, canonicalHost, parseHostPort } from './address.js';

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

test('canonicalHost: IPv4 shorthand as inet_aton reads it, IPv6 forms, IPv4-mapped, names', () => {
  const cases: [string, string][] = [
    ['127.0.0.1', '127.0.0.1'], ['127.1', '127.0.0.1'], ['127.0.1', '127.0.0.1'], ['2130706433', '127.0.0.1'],
    ['0x7f.1', '127.0.0.1'], ['0177.0.0.1', '127.0.0.1'], ['10.257', '10.0.1.1'], ['0', '0.0.0.0'],
    ['::ffff:127.0.0.1', '127.0.0.1'], ['::FFFF:7f00:1', '127.0.0.1'], ['0:0:0:0:0:0:0:1', '::1'], ['2001:DB8:0::A:1', '2001:db8::a:1'],
    ['LocalHost', 'localhost'], ['api.example.com', 'api.example.com'], ['256.1.1.1', '256.1.1.1'], ['1.2.3.4.5', '1.2.3.4.5'],
  ];
  for (const [input, want] of cases) assert.equal(canonicalHost(input), want, input);
});

test('bindConflict: equal once normalized, wildcards hold the port, other ports and port 0 never conflict', () => {
  const c = (a: string, b: string) => bindConflict(parseHostPort(a, true)!, parseHostPort(b, true)!);
  assert.equal(c('127.0.0.1:18370', '127.1:18370'), 'the same address');
  assert.equal(c('127.0.0.1:80', '[::ffff:127.0.0.1]:80'), 'the same address');
  assert.equal(c('localhost:80', '127.0.0.1:80'), 'the same address');
  assert.equal(c('localhost:80', '[::1]:80'), 'the same address');
  assert.match(c('0.0.0.0:80', '10.0.0.1:80') ?? '', /0\.0\.0\.0/);
  assert.match(c('10.0.0.1:80', '0.0.0.0:80') ?? '', /0\.0\.0\.0/);
  assert.match(c('0.0.0.0:80', 'lb.internal:80') ?? '', /0\.0\.0\.0/);
  assert.match(c('[::]:80', '10.0.0.1:80') ?? '', /\[::\]/);
  assert.match(c('[::]:80', '0.0.0.0:80') ?? '', /\[::\]/);
  assert.equal(c('0.0.0.0:80', '[::1]:80'), undefined);
  assert.equal(c('127.0.0.1:80', '127.0.0.2:80'), undefined);
  assert.equal(c('127.0.0.1:80', '127.0.0.1:81'), undefined);
  assert.equal(c('127.0.0.1:0', '127.0.0.1:0'), undefined);
  assert.equal(c('a.example:80', 'b.example:80'), undefined);
});
