import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingHttpHeaders } from 'node:http';
import { compileRoute, Router, type CompiledRoute } from './router.js';
import { validateConfig } from '../config/load.js';

/** Validates `routes` (so defaults apply) against listeners web/admin and services a..e, and compiles them. */
function compile(routes: unknown[]): CompiledRoute[] {
  const svc = { backends: [] };
  const c = validateConfig({
    listeners: [{ name: 'web', address: '0.0.0.0:8080' }, { name: 'admin', address: '0.0.0.0:9090' }],
    services: { a: svc, b: svc, c: svc, d: svc, e: svc },
    routes,
  });
  return c.routes.map((r, i) => compileRoute(r, i));
}

/** One route for service `a` with `match`; returns a predicate over (host, path, method, headers). */
function only(match: object) {
  const r = compile([{ service: 'a', match }])[0];
  return (host = 'x.test', path = '/', method = 'GET', headers: IncomingHttpHeaders = {}) => r.matches(host, path, method, { headers });
}

test('compileRoute: name defaults to route-<index>, service and listeners carried over', () => {
  const [r0, r1] = compile([{ service: 'a' }, { name: 'api', service: 'b', listeners: ['admin'] }]);
  assert.equal(r0.name, 'route-0');
  assert.equal(r0.service, 'a');
  assert.equal(r0.listeners, null);
  assert.equal(r1.name, 'api');
  assert.equal(r1.service, 'b');
  assert.deepEqual([...r1.listeners!], ['admin']);
});

test('compileRoute: a route without conditions matches everything', () => {
  const m = only({});
  assert.equal(m('anything', '/x/y', 'DELETE', { a: 'b' }), true);
  assert.equal(m('', '/', 'GET', {}), true);
});

test('host: exact match, case-insensitive on the config side', () => {
  const m = only({ host: 'API.Example.com' });
  assert.equal(m('api.example.com'), true);
  assert.equal(m('www.example.com'), false);
  assert.equal(m('api.example.com.evil'), false);
  assert.equal(m('example.com'), false);
});

test('host: wildcard matches any subdomain depth but not the apex or a lookalike', () => {
  const m = only({ host: '*.example.com' });
  assert.equal(m('a.example.com'), true);
  assert.equal(m('a.b.example.com'), true);
  assert.equal(m('example.com'), false);
  assert.equal(m('badexample.com'), false);
  assert.equal(m('.example.com'), false);
  assert.equal(m('a.example.com.evil.net'), false);
  assert.equal(only({ host: '*.EXAMPLE.com' })('x.example.com'), true);
});

test('host: a list matches any of its entries', () => {
  const m = only({ host: ['a.test', '*.b.test', 'C.test'] });
  assert.equal(m('a.test'), true);
  assert.equal(m('x.b.test'), true);
  assert.equal(m('c.test'), true);
  assert.equal(m('b.test'), false);
  assert.equal(m('d.test'), false);
});

test('path prefix without trailing slash: segment boundary', () => {
  const m = only({ path: { prefix: '/api' } });
  assert.equal(m(undefined, '/api'), true);
  assert.equal(m(undefined, '/api/'), true);
  assert.equal(m(undefined, '/api/x/y'), true);
  assert.equal(m(undefined, '/apix'), false);
  assert.equal(m(undefined, '/ap'), false);
  assert.equal(m(undefined, '/'), false);
  assert.equal(m(undefined, '/v1/api'), false);
  assert.equal(m(undefined, '/API'), false);
});

test('path prefix with trailing slash: only below it', () => {
  const m = only({ path: { prefix: '/api/' } });
  assert.equal(m(undefined, '/api/'), true);
  assert.equal(m(undefined, '/api/x'), true);
  assert.equal(m(undefined, '/api'), false);
  assert.equal(m(undefined, '/apix/'), false);
});

test('path prefix / matches every path', () => {
  const m = only({ path: { prefix: '/' } });
  for (const p of ['/', '/a', '/a/b/']) assert.equal(m(undefined, p), true, p);
});

test('path exact', () => {
  const m = only({ path: { exact: '/healthz' } });
  assert.equal(m(undefined, '/healthz'), true);
  assert.equal(m(undefined, '/healthz/'), false);
  assert.equal(m(undefined, '/healthz2'), false);
  assert.equal(m(undefined, '/Healthz'), false);
});

test('path prefix and exact values are read as the routing path is (escapes decoded, ;params dropped)', () => {
  assert.equal(only({ path: { prefix: '/a%2Fb' } })(undefined, '/a/b/c'), true);
  assert.equal(only({ path: { exact: '/%61dmin' } })(undefined, '/admin'), true);
  assert.equal(only({ path: { prefix: '/x;v=1' } })(undefined, '/x/y'), true);
});

test('path regex (unanchored unless the pattern anchors)', () => {
  const m = only({ path: { regex: '^/v[0-9]+/users$' } });
  assert.equal(m(undefined, '/v1/users'), true);
  assert.equal(m(undefined, '/v22/users'), true);
  assert.equal(m(undefined, '/vx/users'), false);
  assert.equal(m(undefined, '/v1/users/1'), false);
  const loose = only({ path: { regex: '\\.php' } });
  assert.equal(loose(undefined, '/x/index.php'), true);
  assert.equal(loose(undefined, '/x/index.html'), false);
});

test('methods', () => {
  const m = only({ methods: ['GET', 'HEAD'] });
  assert.equal(m(undefined, undefined, 'GET'), true);
  assert.equal(m(undefined, undefined, 'HEAD'), true);
  assert.equal(m(undefined, undefined, 'POST'), false);
  assert.equal(m(undefined, undefined, 'get'), false);
});

test('headers: exact, prefix, regex, present true/false', () => {
  const exact = only({ headers: [{ name: 'X-Env', exact: 'prod' }] });
  assert.equal(exact(undefined, undefined, undefined, { 'x-env': 'prod' }), true);
  assert.equal(exact(undefined, undefined, undefined, { 'x-env': 'production' }), false);
  assert.equal(exact(undefined, undefined, undefined, {}), false);

  const prefix = only({ headers: [{ name: 'user-agent', prefix: 'curl/' }] });
  assert.equal(prefix(undefined, undefined, undefined, { 'user-agent': 'curl/8.0' }), true);
  assert.equal(prefix(undefined, undefined, undefined, { 'user-agent': 'Mozilla curl/8.0' }), false);
  assert.equal(prefix(undefined, undefined, undefined, {}), false);

  const regex = only({ headers: [{ name: 'x-v', regex: '^[0-9]+$' }] });
  assert.equal(regex(undefined, undefined, undefined, { 'x-v': '42' }), true);
  assert.equal(regex(undefined, undefined, undefined, { 'x-v': '4a' }), false);
  assert.equal(regex(undefined, undefined, undefined, {}), false);

  const present = only({ headers: [{ name: 'Authorization', present: true }] });
  assert.equal(present(undefined, undefined, undefined, { authorization: '' }), true);
  assert.equal(present(undefined, undefined, undefined, {}), false);

  const absent = only({ headers: [{ name: 'Authorization', present: false }] });
  assert.equal(absent(undefined, undefined, undefined, {}), true);
  assert.equal(absent(undefined, undefined, undefined, { authorization: 'Bearer x' }), false);
});

test('headers: multi-valued headers are joined with ", "', () => {
  const m = only({ headers: [{ name: 'set-cookie', exact: 'a=1, b=2' }] });
  assert.equal(m(undefined, undefined, undefined, { 'set-cookie': ['a=1', 'b=2'] }), true);
  assert.equal(m(undefined, undefined, undefined, { 'set-cookie': ['a=1'] }), false);
});

test('all conditions are ANDed', () => {
  const m = only({
    host: 'api.test', path: { prefix: '/v1' }, methods: ['POST'],
    headers: [{ name: 'x-a', exact: '1' }, { name: 'x-b', present: true }],
  });
  const hs = { 'x-a': '1', 'x-b': 'y' };
  assert.equal(m('api.test', '/v1/x', 'POST', hs), true);
  assert.equal(m('web.test', '/v1/x', 'POST', hs), false);
  assert.equal(m('api.test', '/v2/x', 'POST', hs), false);
  assert.equal(m('api.test', '/v1/x', 'GET', hs), false);
  assert.equal(m('api.test', '/v1/x', 'POST', { 'x-a': '1' }), false);
  assert.equal(m('api.test', '/v1/x', 'POST', { 'x-a': '2', 'x-b': 'y' }), false);
});

test('Router: first match wins in config order', () => {
  const all = compile([
    { service: 'a', match: { path: { exact: '/api/special' } } },
    { service: 'b', match: { path: { prefix: '/api' } } },
    { service: 'c', match: { path: { exact: '/api/late' } } },
    { service: 'd' },
  ]);
  const r = new Router(all, 'web');
  assert.equal(r.match('h', '/api/special', 'GET', { headers: {} })?.service, 'a');
  assert.equal(r.match('h', '/api/late', 'GET', { headers: {} })?.service, 'b');
  assert.equal(r.match('h', '/other', 'GET', { headers: {} })?.service, 'd');
  assert.equal(r.match('h', '/api/special', 'GET', { headers: {} }), all[0]);
});

test('Router: routes restricted to listeners', () => {
  const all = compile([
    { service: 'a', listeners: ['admin'], match: { path: { prefix: '/' } } },
    { service: 'b', listeners: ['web', 'admin'], match: { path: { prefix: '/both' } } },
    { service: 'c', match: { path: { prefix: '/any' } } },
  ]);
  const web = new Router(all, 'web');
  const admin = new Router(all, 'admin');
  assert.equal(web.match('h', '/x', 'GET', { headers: {} }), undefined);
  assert.equal(admin.match('h', '/x', 'GET', { headers: {} })?.service, 'a');
  assert.equal(web.match('h', '/both', 'GET', { headers: {} })?.service, 'b');
  assert.equal(web.match('h', '/any', 'GET', { headers: {} })?.service, 'c');
  assert.equal(admin.match('h', '/any', 'GET', { headers: {} })?.service, 'a');
  assert.equal(new Router(all, 'unknown').match('h', '/any', 'GET', { headers: {} })?.service, 'c');
});

test('Router: no match gives undefined; empty router never matches', () => {
  const r = new Router(compile([{ service: 'a', match: { host: 'a.test' } }]), 'web');
  assert.equal(r.match('b.test', '/', 'GET', { headers: {} }), undefined);
  assert.equal(new Router([], 'web').match('a.test', '/', 'GET', { headers: {} }), undefined);
});

test('compileRoute: hedging follows the service unless the route says false', () => {
  const svc = { backends: [], hedging: { enabled: true } };
  const c = validateConfig({ listeners: [{ name: 'web', address: '0.0.0.0:8080' }], services: { a: svc }, routes: [{ service: 'a' }, { service: 'a', hedging: false }, { service: 'a', hedging: true }] });
  assert.deepEqual(c.routes.map((r, i) => compileRoute(r, i).hedging), [true, false, true]);
});

test('routes without header tests never read the request headers (building them costs a pass over the head)', () => {
  const r = new Router(compile([{ match: { path: { prefix: '/' } }, service: 'a' }]), 'web');
  const req = { get headers(): IncomingHttpHeaders { throw new Error('headers read'); } };
  assert.equal(r.match('h', '/x', 'GET', req)?.service, 'a');
  const withHeader = new Router(compile([{ match: { path: { prefix: '/' }, headers: [{ name: 'x-a', exact: '1' }] }, service: 'b' }]), 'web');
  assert.throws(() => withHeader.match('h', '/x', 'GET', req), /headers read/);
});
