import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { Agent, request } from 'undici';
import { startBackends, startSwitchyard, freePort, baseConfig, rawRequest, type Backend, type Switchyard } from './harness.js';

let backends: Backend[];
let sy: Switchyard;
const agent = new Agent({ keepAliveTimeout: 1000 });

async function get(path: string, headers: Record<string, string> = {}, method = 'GET') {
  const r = await request(`${sy.url}${path}`, { method: method as 'GET', headers, dispatcher: agent });
  const text = await r.body.text();
  return { status: r.statusCode, headers: r.headers, text, json: () => JSON.parse(text) as { backend: string; url: string } };
}

before(async () => {
  backends = await startBackends(6);
  const port = await freePort();
  const svc = (i: number) => ({ balancer: { algorithm: 'round-robin' }, backends: [{ address: backends[i].address }] });
  sy = await startSwitchyard(baseConfig(port, {
    admin: svc(0), api: svc(1), wild: svc(2), canary: svc(3), posts: svc(4), fallback: svc(5), empty: { backends: [] },
  }, [
    { name: 'admin', match: { path: { prefix: '/admin' } }, service: 'admin' },
    { name: 'canary', match: { host: 'api.example.com', headers: [{ name: 'x-canary', exact: 'yes' }] }, service: 'canary' },
    { name: 'api', match: { host: 'api.example.com' }, service: 'api' },
    { name: 'wild', match: { host: '*.example.org' }, service: 'wild' },
    { name: 'posts', match: { methods: ['POST'], path: { regex: '^/items/[0-9]+$' } }, service: 'posts' },
    { name: 'empty', match: { path: { exact: '/nothing-here' } }, service: 'empty' },
    { name: 'secure', match: { path: { prefix: '/secure' } }, service: 'fallback', redirectToHttps: 8443 },
    { name: 'redos', match: { path: { regex: '^/redos/(a+)+$' }, headers: [{ name: 'x-redos', regex: '^(a|aa)+$' }] }, service: 'fallback' },
    { name: 'rest', match: { path: { prefix: '/app' } }, service: 'fallback' },
  ], { accessLog: true }));
});

after(async () => {
  await sy?.stop();
  await agent.close();
  await Promise.all(backends.map((b) => b.close()));
});

test('routes by path prefix, host, wildcard host, headers, method and regex; first match wins', async () => {
  assert.equal((await get('/admin/users')).json().backend, 'b0');
  assert.equal((await get('/', { host: 'api.example.com' })).json().backend, 'b1');
  assert.equal((await get('/', { host: 'API.Example.com:8080' })).json().backend, 'b1');
  assert.equal((await get('/', { host: 'api.example.com', 'x-canary': 'yes' })).json().backend, 'b3');
  assert.equal((await get('/x', { host: 'a.b.example.org' })).json().backend, 'b2');
  assert.equal((await get('/items/42', {}, 'POST')).json().backend, 'b4');
  assert.equal((await get('/app/z')).json().backend, 'b5');
  // `/admin` wins over the host route because it comes first.
  assert.equal((await get('/admin', { host: 'api.example.com' })).json().backend, 'b0');
});

test('no route → 404 naming the cause and request id; empty service → 503', async () => {
  const r = await get('/items/42'); // GET does not match the POST-only route and nothing else matches
  assert.equal(r.status, 404);
  assert.match(r.text, /SWY_NO_ROUTE/);
  assert.match(r.text, /request id [0-9a-f-]{36}/);
  assert.equal(r.headers['x-request-id']?.length, 36);
  const bare = await get('/', { host: 'example.org' }); // wildcard does not match the bare domain
  assert.equal(bare.status, 404);
  const e = await get('/nothing-here');
  assert.equal(e.status, 503);
  assert.match(e.text, /SWY_NO_BACKEND/);
});

test('normalized paths cannot bypass a route: /%61dmin, /x/../admin, /./admin', async () => {
  for (const p of ['/%61dmin/x', '/app/../admin', '/./admin', '/%2e%2e/admin', '/app/%2E%2E/admin']) {
    const r = await get(p);
    assert.equal(r.json().backend, 'b0', p);
    assert.equal(r.json().url.startsWith('/admin'), true, `${p} forwarded as ${r.json().url}`);
  }
  const bad = await rawRequest(sy.port, 'GET /admin%zz HTTP/1.1\r\nHost: x\r\n\r\n');
  assert.match(bad, /^HTTP\/1.1 400 /);
});

test('sets X-Forwarded-*, Via and X-Request-Id; strips hop-by-hop headers; propagates an existing request id', async () => {
  const before = backends[5].seen.length;
  // Raw bytes: HTTP clients refuse to send hop-by-hop headers themselves.
  const res = await rawRequest(sy.port, 'GET /app/h HTTP/1.1\r\nHost: shop.test\r\nX-Forwarded-For: 203.0.113.9\r\n' +
    'Connection: close, X-Secret\r\nX-Secret: s\r\nKeep-Alive: timeout=5\r\nTE: trailers\r\n' +
    'X-Request-Id: req-123\r\nX-Forwarded-Proto: spoofed\r\n\r\n');
  assert.match(res, /^HTTP\/1.1 200 /);
  const seen = backends[5].seen[before];
  assert.equal(seen.headers['x-forwarded-for'], '203.0.113.9, 127.0.0.1');
  assert.equal(seen.headers['x-forwarded-proto'], 'http');
  assert.equal(seen.headers['x-forwarded-host'], 'shop.test');
  assert.equal(seen.headers.host, 'shop.test');
  assert.equal(seen.headers.via, '1.1 switchyard');
  assert.equal(seen.headers['x-request-id'], 'req-123');
  assert.equal(seen.headers['x-secret'], undefined);
  assert.equal(seen.headers['keep-alive'], undefined);
  assert.equal(seen.headers.te, undefined);
  const gen = await get('/app/h2');
  assert.match(String(gen.headers.via), /1\.1 switchyard/);
  const seen2 = backends[5].seen.at(-1)!;
  assert.match(String(seen2.headers['x-request-id']), /^[0-9a-f-]{36}$/);
});

test('access log: one line per request with status, service, backend and timing', async () => {
  await get('/app/logged?q=1', { 'x-request-id': 'log-me-1' });
  await get('/nowhere', { 'x-request-id': 'log-me-2' });
  const line1 = await sy.waitForLog(/"access":\{[^\n]*"requestId":"log-me-1"[^\n]*/);
  assert.match(line1, /"status":200/);
  assert.match(line1, /"service":"fallback"/);
  assert.match(line1, new RegExp(`"backend":"${backends[5].address}"`));
  assert.match(line1, /"target":"\/app\/logged\?q=1"/);
  assert.match(line1, /"ms":\d/);
  assert.match(line1, /"route":"[^"]+"/);
  assert.match(line1, /"upstreamMs":\d/);
  assert.match(line1, /"bytes":[1-9]\d*/);
  assert.match(line1, /"retries":0/);
  const line2 = await sy.waitForLog(/"access":\{[^\n]*"requestId":"log-me-2"[^\n]*/);
  assert.match(line2, /"status":404/);
  assert.match(line2, /"error":"SWY_NO_ROUTE"/);
});

test('a route with redirectToHttps answers 308 to the https URL, never reaching a backend', async () => {
  const before = backends[5].seen.length;
  const r = await get('/secure/x?y=1', { host: 'Shop.Test' });
  assert.equal(r.status, 308);
  assert.equal(r.headers.location, 'https://shop.test:8443/secure/x?y=1');
  assert.equal(backends[5].seen.length, before);
});

test('a catastrophic route regex runs in linear time: a crafted path and header get their answer and the worker keeps serving', async () => {
  // On a backtracking engine each of these takes ~2^60 steps and the (only) worker never answers again.
  const evil = `/redos/${'a'.repeat(60)}!`;
  const r = await request(`${sy.url}${evil}`, { headers: { 'x-redos': 'a'.repeat(60) }, dispatcher: agent, headersTimeout: 10_000 });
  await r.body.text();
  assert.equal(r.statusCode, 404);
  const h = await request(`${sy.url}/redos/aaa`, { headers: { 'x-redos': `${'a'.repeat(60)}!` }, dispatcher: agent, headersTimeout: 10_000 });
  await h.body.text();
  assert.equal(h.statusCode, 404);
  const ok = await request(`${sy.url}/redos/aaa`, { headers: { 'x-redos': 'aaaa' }, dispatcher: agent, headersTimeout: 10_000 });
  assert.equal(ok.statusCode, 200);
  assert.equal((JSON.parse(await ok.body.text()) as { backend: string }).backend, 'b5');
});
