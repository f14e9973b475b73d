import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as h2connect, type ClientHttp2Session, type IncomingHttpHeaders } from 'node:http2';
import { connect as tlsConnect } from 'node:tls';
import { startBackends, startSwitchyard, freePort, baseConfig, type Backend, type Switchyard } from './harness.js';

/* HTTP/2 clients on an https listener (ALPN h2), proxied to HTTP/1.1 backends. */

const dir = mkdtempSync(join(tmpdir(), 'swy-h2-'));
const key = join(dir, 'site.key');
const cert = join(dir, 'site.crt');

/** A response larger than HTTP/2's initial flow-control windows: it streams only as the client reads. */
const BIG = randomBytes(3 << 20);
let backends: Backend[];
/** Reads a whole request body, then resets the connection (a backend that dies mid-request). */
let resetter: Backend;
let sy: Switchyard;
let h1only: Switchyard;

before(async () => {
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert,
    '-days', '2', '-subj', '/CN=site.test', '-addext', 'subjectAltName=DNS:site.test'], { stdio: 'ignore' });
  backends = await startBackends(2, (req, res, b) => {
    const hash = createHash('sha256');
    let bytes = 0;
    req.on('data', (d: Buffer) => { hash.update(d); bytes += d.length; });
    req.on('end', () => {
      if (req.url === '/fail') { res.writeHead(503); res.end(); return; }
      // Two Content-Type fields: valid HTTP/1.1 framing, not representable in HTTP/2.
      if (req.url === '/dup') { res.setHeader('content-type', ['text/plain', 'text/html']); res.end('x'); return; }
      if (req.url === '/big') { res.writeHead(200, { 'content-type': 'application/octet-stream' }); res.end(BIG); return; }
      const body = JSON.stringify({
        backend: b.name, version: req.httpVersion, url: req.url, host: req.headers.host, proto: req.headers['x-forwarded-proto'],
        cookie: req.headers.cookie, te: req.headers['transfer-encoding'] ?? null, bytes, sha: hash.digest('hex'),
      });
      res.writeHead(200, { 'content-type': 'application/json', 'x-multi': ['1', '2'] });
      res.end(body);
    });
  });
  [resetter] = await startBackends(1, (req) => { req.resume(); req.on('end', () => req.socket.destroy()); });
  const services = { app: { balancer: { algorithm: 'round-robin' }, backends: backends.map((b) => ({ address: b.address })), retries: { enabled: false } } };
  const routes = [
    { match: { path: { prefix: '/gone' } }, service: 'dead' },
    { match: { path: { prefix: '/flaky' } }, service: 'flaky' },
    { match: { host: 'site.test' }, service: 'app' },
  ];
  const dead = { backends: [{ address: `127.0.0.1:${await freePort()}` }], retries: { enabled: false } };
  const port = await freePort();
  const flaky = {
    balancer: { algorithm: 'round-robin' }, backends: [{ address: resetter.address }, { address: backends[0].address }],
    outlierDetection: { enabled: false }, circuitBreaker: { enabled: false },
  };
  sy = await startSwitchyard(baseConfig(port, { app: services.app, dead, flaky }, routes, {
    listeners: [{ name: 'tls', address: `127.0.0.1:${port}`, protocol: 'https', tls: { certificates: [{ cert, key }] } }],
  }));
  const port2 = await freePort();
  h1only = await startSwitchyard(baseConfig(port2, { app: services.app }, undefined, {
    listeners: [{ name: 'tls', address: `127.0.0.1:${port2}`, protocol: 'https', tls: { certificates: [{ cert, key }] }, http2: { enabled: false } }],
  }));
});

after(async () => {
  await sy?.stop();
  await h1only?.stop();
  await Promise.all([...backends, resetter].map((b) => b?.close()));
});

function session(port: number): Promise<ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const s = h2connect(`https://127.0.0.1:${port}`, { servername: 'site.test', rejectUnauthorized: false });
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

interface H2Response { status: number; headers: IncomingHttpHeaders; body: string }

function request(s: ClientHttp2Session, headers: Record<string, string | string[]>, body?: Buffer[]): Promise<H2Response> {
  return new Promise((resolve, reject) => {
    const stream = s.request({ ':authority': 'site.test', ...headers }, { endStream: body === undefined });
    let status = 0;
    let h: IncomingHttpHeaders = {};
    const chunks: Buffer[] = [];
    stream.on('response', (rh) => { status = Number(rh[':status']); h = rh; });
    stream.on('data', (d: Buffer) => chunks.push(d));
    stream.on('end', () => resolve({ status, headers: h, body: Buffer.concat(chunks).toString() }));
    stream.on('error', reject);
    if (body !== undefined) {
      (async () => {
        for (const c of body) if (!stream.write(c)) await new Promise((r) => stream.once('drain', r));
        stream.end();
      })().catch(reject);
    }
  });
}

test('an HTTP/2 client reaches HTTP/1.1 backends: Host from :authority, X-Forwarded-Proto https, headers intact', async () => {
  const s = await session(sy.port);
  try {
    assert.equal(s.alpnProtocol, 'h2');
    const r = await request(s, { ':path': '/a/b?q=1' });
    assert.equal(r.status, 200);
    const seen = JSON.parse(r.body);
    assert.equal(seen.version, '1.1');
    assert.equal(seen.url, '/a/b?q=1');
    assert.equal(seen.host, 'site.test');
    assert.equal(seen.proto, 'https');
    assert.equal(r.headers['x-multi'], '1, 2');
    assert.match(String(r.headers.via), /switchyard/);
  } finally {
    s.close();
  }
});

test('concurrent streams on one connection are balanced across backends', async () => {
  const s = await session(sy.port);
  try {
    const all = await Promise.all(Array.from({ length: 20 }, (_, i) => request(s, { ':path': `/n${i}` })));
    const by = new Map<string, number>();
    for (const r of all) { assert.equal(r.status, 200); const b = JSON.parse(r.body).backend; by.set(b, (by.get(b) ?? 0) + 1); }
    assert.equal(by.get('b0'), 10);
    assert.equal(by.get('b1'), 10);
  } finally {
    s.close();
  }
});

test('a request body without Content-Length arrives whole (chunked towards HTTP/1.1)', { timeout: 30_000 }, async () => {
  const s = await session(sy.port);
  try {
    const parts = Array.from({ length: 64 }, () => randomBytes(64 * 1024));
    const sha = createHash('sha256');
    for (const p of parts) sha.update(p);
    const r = await request(s, { ':path': '/upload', ':method': 'POST' }, parts);
    const seen = JSON.parse(r.body);
    assert.equal(seen.bytes, 4 * 1024 * 1024);
    assert.equal(seen.sha, sha.digest('hex'));
    assert.equal(seen.te, 'chunked');
  } finally {
    s.close();
  }
});

test('split cookie fields reach the backend as one Cookie header', async () => {
  const s = await session(sy.port);
  try {
    const r = await request(s, { ':path': '/c', cookie: ['a=1', 'b=2'] });
    assert.equal(JSON.parse(r.body).cookie, 'a=1; b=2');
  } finally {
    s.close();
  }
});

test('proxy errors are per stream: 404, 502 and a 503 answer, and the connection keeps serving', async () => {
  const s = await session(sy.port);
  try {
    const notFound = await request(s, { ':path': '/x', ':authority': 'other.test' });
    assert.equal(notFound.status, 404);
    assert.match(notFound.body, /SWY_NO_ROUTE/);
    const bad = await request(s, { ':path': '/gone' });
    assert.equal(bad.status, 502);
    assert.match(bad.body, /SWY_UPSTREAM_CONNECT/);
    assert.equal((await request(s, { ':path': '/fail' })).status, 503);
    assert.equal((await request(s, { ':path': '/ok' })).status, 200);
  } finally {
    s.close();
  }
});

test('HEAD gets the head and no body; a large response streams whole; a head HTTP/2 cannot carry is a 502 on its stream only', async () => {
  const s = await session(sy.port);
  try {
    const head = await request(s, { ':path': '/ok', ':method': 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.body, '');
    assert.equal(head.headers['content-type'], 'application/json', 'the GET\'s head');
    const stream = s.request({ ':authority': 'site.test', ':path': '/big' });
    const hash = createHash('sha256');
    let bytes = 0;
    await new Promise<void>((resolve, reject) => {
      stream.on('data', (d: Buffer) => { hash.update(d); bytes += d.length; });
      stream.on('end', resolve);
      stream.on('error', reject);
    });
    assert.equal(bytes, BIG.length);
    assert.equal(hash.digest('hex'), createHash('sha256').update(BIG).digest('hex'));
    const dup = await request(s, { ':path': '/dup' });
    assert.equal(dup.status, 502);
    assert.equal((await request(s, { ':path': '/ok' })).status, 200);
  } finally {
    s.close();
  }
});

test('HTTP/1.1 clients keep working on the same listener; with http2 disabled ALPN never picks h2', async () => {
  const alpn = (port: number, protocols: string[]) => new Promise<string | false>((resolve, reject) => {
    const c = tlsConnect({ host: '127.0.0.1', port, servername: 'site.test', rejectUnauthorized: false, ALPNProtocols: protocols }, () => {
      resolve(c.alpnProtocol ?? false);
      c.destroy();
    });
    c.on('error', reject);
  });
  assert.equal(await alpn(sy.port, ['h2', 'http/1.1']), 'h2');
  assert.equal(await alpn(sy.port, ['http/1.1']), 'http/1.1');
  assert.equal(await alpn(h1only.port, ['h2', 'http/1.1']), 'http/1.1');
});

test('an HTTP/2 PUT whose backend resets after reading the body is replayed on another backend, byte for byte', async () => {
  const s = await session(sy.port);
  try {
    for (let i = 0; i < 4; i++) {
      const body = [randomBytes(3000), randomBytes(2000)];
      const r = await request(s, { ':method': 'PUT', ':path': `/flaky/${i}` }, body);
      assert.equal(r.status, 200, r.body);
      const seen = JSON.parse(r.body);
      assert.deepEqual([seen.backend, seen.bytes, seen.sha], ['b0', 5000, createHash('sha256').update(Buffer.concat(body)).digest('hex')]);
    }
    assert.ok(resetter.seen.length >= 1, 'the resetting backend was tried');
  } finally {
    s.close();
  }
});
