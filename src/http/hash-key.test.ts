import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { cookieValue, hashKeyOf, queryValue } from './hash-key.js';

/** The parts of an IncomingMessage hashKeyOf reads. */
function fakeReq(headers: IncomingHttpHeaders, ...addr: [string | undefined] | []): IncomingMessage {
  const remoteAddress = addr.length === 0 ? '192.0.2.7' : addr[0];
  return { headers, socket: { remoteAddress } } as unknown as IncomingMessage;
}

test('cookieValue: finds a cookie among several', () => {
  const h = 'a=1; session=abc123; theme=dark';
  assert.equal(cookieValue(h, 'a'), '1');
  assert.equal(cookieValue(h, 'session'), 'abc123');
  assert.equal(cookieValue(h, 'theme'), 'dark');
});

test('cookieValue: tolerant of spacing', () => {
  assert.equal(cookieValue('a=1;b=2', 'b'), '2');
  assert.equal(cookieValue('a=1;   b=2', 'b'), '2');
  assert.equal(cookieValue('   a=1', 'a'), '1');
  assert.equal(cookieValue('a= 1 ; b=2', 'a'), '1');
  assert.equal(cookieValue('a=1; b=2;', 'b'), '2');
});

test('cookieValue: missing cookie or header gives undefined', () => {
  assert.equal(cookieValue(undefined, 'a'), undefined);
  assert.equal(cookieValue('', 'a'), undefined);
  assert.equal(cookieValue('a=1; b=2', 'c'), undefined);
  assert.equal(cookieValue('a=1', 'A'), undefined, 'names are case-sensitive');
});

test('cookieValue: a name that is a prefix or suffix of another does not match it', () => {
  assert.equal(cookieValue('sid2=x; sid=y', 'sid'), 'y');
  assert.equal(cookieValue('sid2=x', 'sid'), undefined);
  assert.equal(cookieValue('xsid=x; sid=y', 'sid'), 'y');
  assert.equal(cookieValue('xsid=x', 'sid'), undefined);
  assert.equal(cookieValue('sid=y; sid2=x', 'sid2'), 'x');
});

test('cookieValue: the name is not matched inside a value', () => {
  assert.equal(cookieValue('a=sid=1; b=2', 'sid'), undefined);
  assert.equal(cookieValue('a=sid=1; b=2', 'a'), 'sid=1');
});

test('cookieValue: first occurrence wins; empty value is a value', () => {
  assert.equal(cookieValue('a=1; a=2', 'a'), '1');
  assert.equal(cookieValue('a=; b=2', 'a'), '');
  assert.equal(cookieValue('a="q"', 'a'), '"q"');
});

// A cookie pair without "=" (browsers send nameless cookies this way, e.g. `document.cookie =
// "flag"`) must not make the scan swallow the following cookie.
test('cookieValue: a pair without "=" does not hide the next cookie', () => {
  assert.equal(cookieValue('flag; sid=abc', 'sid'), 'abc');
  assert.equal(cookieValue('a=1; flag; sid=abc', 'sid'), 'abc');
});

test('queryValue: finds and decodes a parameter', () => {
  assert.equal(queryValue('a=1&user=bob&c=3', 'user'), 'bob');
  assert.equal(queryValue('u=caf%C3%A9', 'u'), 'caf\u00e9');
  assert.equal(queryValue('u=a%26b%3Dc', 'u'), 'a&b=c');
  assert.equal(queryValue('u=a=b', 'u'), 'a=b');
});

test('queryValue: + is a space, %2B is a plus', () => {
  assert.equal(queryValue('q=hello+world', 'q'), 'hello world');
  assert.equal(queryValue('q=1%2B1', 'q'), '1+1');
  assert.equal(queryValue('q=a+%2B+b', 'q'), 'a + b');
});

test('queryValue: missing and empty', () => {
  assert.equal(queryValue('', 'a'), undefined);
  assert.equal(queryValue('b=1', 'a'), undefined);
  assert.equal(queryValue('ab=1&ba=2', 'a'), undefined);
  assert.equal(queryValue('a=', 'a'), '');
  assert.equal(queryValue('a', 'a'), '');
  assert.equal(queryValue('x=1&a&y=2', 'a'), '');
  assert.equal(queryValue('&&a=1&', 'a'), '1');
});

test('queryValue: first occurrence wins; names are exact', () => {
  assert.equal(queryValue('a=1&a=2', 'a'), '1');
  assert.equal(queryValue('A=1', 'a'), undefined);
});

test('queryValue: a malformed escape returns the raw value instead of throwing', () => {
  assert.equal(queryValue('a=%zz', 'a'), '%zz');
  assert.equal(queryValue('a=100%', 'a'), '100%');
});

test('hashKeyOf: no source means no key', () => {
  assert.equal(hashKeyOf(undefined, fakeReq({ cookie: 'a=1' }), '/p', 'a=1'), undefined);
});

test('hashKeyOf: client-ip uses the socket remote address', () => {
  assert.equal(hashKeyOf({ source: 'client-ip' }, fakeReq({}, '198.51.100.4'), '/p', ''), '198.51.100.4');
  assert.equal(hashKeyOf({ source: 'client-ip' }, fakeReq({}, '::1'), '/p', ''), '::1');
  assert.equal(hashKeyOf({ source: 'client-ip' }, fakeReq({}, undefined), '/p', ''), undefined);
});

test('hashKeyOf: path uses the given (normalized) path, not the request url', () => {
  const req = { ...fakeReq({}), url: '/raw/../path?x=1' } as unknown as IncomingMessage;
  assert.equal(hashKeyOf({ source: 'path' }, req, '/path', 'x=1'), '/path');
});

test('hashKeyOf: header by case-insensitive name; first of an array; missing is undefined', () => {
  const src = { source: 'header', name: 'X-User' } as const;
  assert.equal(hashKeyOf(src, fakeReq({ 'x-user': 'alice' }), '/', ''), 'alice');
  assert.equal(hashKeyOf(src, fakeReq({ 'x-user': ['bob', 'carol'] as unknown as string }), '/', ''), 'bob');
  assert.equal(hashKeyOf(src, fakeReq({}), '/', ''), undefined);
});

test('hashKeyOf: cookie', () => {
  const src = { source: 'cookie', name: 'sid' } as const;
  assert.equal(hashKeyOf(src, fakeReq({ cookie: 'a=1; sid=s-42' }), '/', ''), 's-42');
  assert.equal(hashKeyOf(src, fakeReq({ cookie: 'a=1' }), '/', ''), undefined);
  assert.equal(hashKeyOf(src, fakeReq({}), '/', ''), undefined);
});

test('hashKeyOf: query uses the query argument', () => {
  const src = { source: 'query', name: 'user' } as const;
  assert.equal(hashKeyOf(src, fakeReq({}), '/', 'a=1&user=j+doe'), 'j doe');
  assert.equal(hashKeyOf(src, fakeReq({}), '/', 'a=1'), undefined);
  assert.equal(hashKeyOf(src, fakeReq({}), '/', ''), undefined);
});
