import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';
import { probeHttp, HealthProbeError, MAX_PROBE_BODY_BYTES, type HttpProbeOptions } from './active-http.js';

let server: Server;
let port = 0;
let connections = 0;
const seen: { method: string | undefined; url: string | undefined; headers: IncomingHttpHeaders }[] = [];

before(async () => {
  server = createServer((req, res) => {
    seen.push({ method: req.method, url: req.url, headers: req.headers });
    switch (req.url) {
      case '/ok': res.end('all good'); return;
      case '/redirect': res.writeHead(302, { location: '/ok' }).end(); return;
      case '/down': res.writeHead(503).end('down'); return;
      case '/split':
        res.write('{"status":"he');
        setTimeout(() => res.end('althy"}'), 20);
        return;
      case '/big': res.end('x'.repeat(MAX_PROBE_BODY_BYTES) + 'needle'); return;
      case '/hang': return;
      case '/reset': req.socket.destroy(); return;
      default: res.writeHead(404).end();
    }
  });
  server.on('connection', () => { connections++; });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

after(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const target = () => ({ host: '127.0.0.1', port });
const opts = (o: Partial<HttpProbeOptions>): HttpProbeOptions =>
  ({ method: 'GET', path: '/', expectedStatuses: [[200, 399]], timeoutMs: 2000, ...o });
const never = new AbortController().signal;

async function rejectsWith(p: Promise<void>, code: string, message?: RegExp): Promise<HealthProbeError> {
  const err = await p.then(() => assert.fail('expected the probe to fail'), (e: unknown) => e);
  assert.ok(err instanceof HealthProbeError, `not a HealthProbeError: ${String(err)}`);
  assert.equal(err.code, code);
  if (message) assert.match(err.message, message);
  return err;
}

test('healthy: status in range; a fresh connection per probe; default and custom Host header', async () => {
  const before = connections;
  await probeHttp(target(), opts({ path: '/ok' }), never);
  await probeHttp(target(), opts({ path: '/redirect' }), never);
  await probeHttp(target(), opts({ method: 'HEAD', path: '/ok', host: 'api.internal' }), never);
  assert.equal(connections - before, 3);
  const last3 = seen.slice(-3);
  assert.equal(last3[0].headers.host, `127.0.0.1:${port}`);
  assert.equal(last3[0].headers.connection, 'close');
  assert.deepEqual([last3[2].method, last3[2].url, last3[2].headers.host], ['HEAD', '/ok', 'api.internal']);
});

test('wrong status: SWY_HC_STATUS with the status', async () => {
  const err = await rejectsWith(probeHttp(target(), opts({ path: '/down' }), never), 'SWY_HC_STATUS', /status 503 not in 200-399/);
  assert.equal(err.status, 503);
  await rejectsWith(probeHttp(target(), opts({ path: '/redirect', expectedStatuses: [[200, 204], [404, 404]] }), never),
    'SWY_HC_STATUS', /302 not in 200-204,404/);
  await probeHttp(target(), opts({ path: '/nope', expectedStatuses: [[200, 204], [404, 404]] }), never);
});

test('body: match across chunks, mismatch is SWY_HC_BODY, only the first 64 KiB count', async () => {
  await probeHttp(target(), opts({ path: '/split', bodyContains: '"status":"healthy"' }), never);
  await rejectsWith(probeHttp(target(), opts({ path: '/ok', bodyContains: 'healthy' }), never), 'SWY_HC_BODY', /"healthy"/);
  await rejectsWith(probeHttp(target(), opts({ path: '/big', bodyContains: 'needle' }), never), 'SWY_HC_BODY');
  await probeHttp(target(), opts({ path: '/big', bodyContains: 'xxxx' }), never);
});

test('timeout: a server that never answers fails with SWY_HC_TIMEOUT after timeoutMs', async () => {
  const t0 = performance.now();
  await rejectsWith(probeHttp(target(), opts({ path: '/hang', timeoutMs: 200 }), never), 'SWY_HC_TIMEOUT', /200ms/);
  const took = performance.now() - t0;
  assert.ok(took >= 190 && took < 1500, `took ${took}ms`);
});

test('connect: refused on a closed port, and a connection reset before the answer', async () => {
  const tmp = createTcpServer();
  await new Promise<void>((resolve) => tmp.listen(0, '127.0.0.1', resolve));
  const closedPort = (tmp.address() as AddressInfo).port;
  await new Promise<void>((resolve) => tmp.close(() => resolve()));
  await rejectsWith(probeHttp({ host: '127.0.0.1', port: closedPort }, opts({}), never), 'SWY_HC_CONNECT', /ECONNREFUSED/);
  await rejectsWith(probeHttp(target(), opts({ path: '/reset' }), never), 'SWY_HC_CONNECT');
});

test('abort: an aborted signal stops the probe with SWY_HC_ABORTED; bad input rejects, never throws', async () => {
  const ac = new AbortController();
  const p = probeHttp(target(), opts({ path: '/hang' }), ac.signal);
  setTimeout(() => ac.abort(), 20);
  await rejectsWith(p, 'SWY_HC_ABORTED');
  await rejectsWith(probeHttp(target(), opts({ path: '/ok' }), ac.signal), 'SWY_HC_ABORTED');
  await assert.rejects(probeHttp(target(), opts({ path: '/has space' }), never), TypeError);
});
