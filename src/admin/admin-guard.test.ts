import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AdminGuard, isJson, sameOrigin, tokenMatches } from './admin-guard.js';

const TOKEN = 'guard-token-0123456789';
const open = new AdminGuard('127.0.0.1:9901', { allowedHosts: [], publicMetrics: false });
const locked = new AdminGuard('0.0.0.0:9901', { token: TOKEN, allowedHosts: ['lb-admin.corp.example'], publicMetrics: true });
const json = { 'content-type': 'application/json' };
const auth = { authorization: `Bearer ${TOKEN}` };

test('Host: loopback names, IP literals, the admin host and allowed hosts pass; any other name is refused (DNS rebinding)', () => {
  for (const h of ['127.0.0.1:9901', 'localhost:9901', 'LocalHost', '[::1]:9901', '10.0.0.7:9901', '[2001:db8::1]:9901', undefined]) assert.ok(open.hostAllowed(h), String(h));
  for (const h of ['evil.example:9901', 'evil.example', '127.0.0.1.evil.example', 'localhost.evil.example', 'a@127.0.0.1', '127.0.0.1/x', '', '127.1:9901']) assert.ok(!open.hostAllowed(h), h);
  assert.ok(locked.hostAllowed('lb-admin.corp.example:443'));
  assert.ok(new AdminGuard('admin.internal:9901', { allowedHosts: [], publicMetrics: false }).hostAllowed('ADMIN.internal:9901'));
  assert.equal(open.check('GET', '/api/config', { host: 'evil.example:9901' })?.status, 403);
  assert.equal(open.check('GET', '/', { host: 'evil.example:9901' })?.status, 403);
});

test('writes: a foreign or opaque Origin, or a cross-site fetch, is refused before anything else', () => {
  const h = { host: '127.0.0.1:9901', ...json };
  assert.equal(open.check('POST', '/api/reload', { ...h, origin: 'http://127.0.0.1:9901' }), undefined);
  assert.equal(open.check('POST', '/api/reload', h), undefined, 'no Origin: not a browser');
  for (const origin of ['http://evil.example', 'http://127.0.0.1:8080', 'http://localhost:9901', 'null', 'file://', 'garbage']) {
    assert.equal(open.check('POST', '/api/reload', { ...h, origin })?.status, 403, origin);
  }
  assert.equal(open.check('POST', '/api/reload', { ...h, 'sec-fetch-site': 'cross-site' })?.status, 403);
  assert.equal(open.check('POST', '/api/reload', { ...h, 'sec-fetch-site': 'same-site' })?.status, 403);
  assert.equal(open.check('POST', '/api/reload', { ...h, 'sec-fetch-site': 'same-origin' }), undefined);
  // Reads are not checked for Origin (the browser does not let another origin read them).
  assert.equal(open.check('GET', '/api/status', { host: '127.0.0.1:9901', origin: 'http://evil.example' }), undefined);
});

test('writes need Content-Type: application/json (a form or text/plain post gets 415)', () => {
  for (const ct of ['application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'text/plain', undefined]) {
    assert.equal(open.check('POST', '/api/backends/a/b/drain', { host: '127.0.0.1:9901', 'content-type': ct })?.status, 415, String(ct));
  }
  assert.ok(isJson('application/json; charset=utf-8'));
  assert.ok(isJson('Application/JSON'));
  assert.ok(!isJson('application/jsonp'));
  assert.equal(open.check('DELETE', '/api/x', { host: '127.0.0.1:9901' })?.status, 415, 'any method but GET/HEAD is a write');
});

test('token: Bearer header only; reads and writes need it; the page, its assets and (publicMetrics) /metrics do not', () => {
  const h = { host: '10.0.0.1:9901' };
  assert.equal(locked.check('GET', '/api/config', h)?.status, 401);
  assert.equal(locked.check('GET', '/api/config', { ...h, authorization: `Bearer ${TOKEN}x` })?.status, 401);
  assert.equal(locked.check('GET', '/api/config', { ...h, authorization: TOKEN })?.status, 401);
  assert.equal(locked.check('GET', '/api/config', { ...h, ...auth }), undefined);
  assert.equal(locked.check('POST', '/api/reload', { ...h, ...json })?.status, 401);
  assert.equal(locked.check('POST', '/api/reload', { ...h, ...json, ...auth }), undefined);
  assert.equal(locked.check('POST', '/api/reload', { ...h, ...auth })?.status, 415);
  for (const p of ['/', '/dashboard', '/assets/app.js', '/metrics']) assert.equal(locked.check('GET', p, h), undefined, p);
  assert.equal(new AdminGuard('0.0.0.0:1', { token: TOKEN, allowedHosts: [], publicMetrics: false }).check('GET', '/metrics', h)?.status, 401);
});

test('tokenMatches: exact match only, any length', () => {
  assert.ok(tokenMatches(TOKEN, TOKEN));
  for (const g of ['', TOKEN.slice(0, -1), `${TOKEN}0`, TOKEN.toUpperCase()]) assert.ok(!tokenMatches(g, TOKEN), g);
});

test('sameOrigin: scheme, host and port as the Host header names them', () => {
  assert.ok(sameOrigin('http://127.0.0.1:9901', '127.0.0.1:9901'));
  assert.ok(sameOrigin('http://localhost', 'localhost:80'));
  assert.ok(sameOrigin('https://lb-admin.corp.example', 'lb-admin.corp.example'));
  assert.ok(!sameOrigin('http://127.0.0.1:9902', '127.0.0.1:9901'));
  assert.ok(!sameOrigin('http://127.0.0.1:9901', undefined));
});

test('probes (/healthz, /readyz) are answered without the token, GET only; the Host check still applies; /api/anycast needs it', () => {
  for (const path of ['/healthz', '/readyz']) {
    assert.equal(locked.check('GET', path, { host: '10.0.0.7:9901' }), undefined, path);
    assert.equal(locked.check('POST', path, { host: '10.0.0.7:9901', ...json })?.status, 401, `POST ${path}`);
    assert.equal(locked.check('GET', path, { host: 'evil.example' })?.status, 403, `rebinding ${path}`);
  }
  assert.equal(locked.check('GET', '/readyz/../api/config', { host: '10.0.0.7:9901' })?.status, 401);
  assert.equal(locked.check('GET', '/api/anycast', { host: '10.0.0.7:9901' })?.status, 401);
  assert.equal(locked.check('GET', '/api/anycast', { host: '10.0.0.7:9901', ...auth }), undefined);
});
