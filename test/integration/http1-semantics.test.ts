import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { createServer as createNetServer, type AddressInfo, type Server as NetServer } from 'node:net';
import { Agent, request } from 'undici';
import { startBackends, startSwitchyard, freePort, baseConfig, rawRequest, type Backend, type Switchyard } from './harness.js';

/*
 * HTTP/1.1 semantics a proxy must get right on the wire: pipelining order, HTTP/1.0 clients,
 * chunked re-framing, bodiless responses, 100-continue, stale keep-alive connections, the upstream
 * connection cap, close-delimited and malformed backend responses, many headers.
 */

let backends: Backend[];
let rawBackend: NetServer;
let rawPort: number;
let sy: Switchyard;
let racer: NetServer;
const racerStats = { connections: 0, resets: 0 };
let resetter: NetServer;
const resetterStats = { connections: 0 };
let concurrent = 0;
let maxConcurrent = 0;

before(async () => {
  backends = await startBackends(1, (req, res) => {
    const url = new URL(req.url!, 'http://x');
    if (url.pathname === '/chunked') { res.write('part1-'); setTimeout(() => res.end('part2'), 20); return; }
    if (url.pathname === '/nocontent') { res.writeHead(204); res.end(); return; }
    if (url.pathname === '/notmodified') { res.writeHead(304, { etag: '"x"' }); res.end(); return; }
    if (url.pathname === '/echo') {
      let n = 0;
      req.on('data', (d: Buffer) => { n += d.length; });
      req.on('end', () => res.end(`got ${n} bytes`));
      return;
    }
    if (url.pathname === '/late-reader') {
      // Reads nothing for 300 ms: the proxy's writes of the body fill the socket and it stops reading the client.
      req.pause();
      setTimeout(() => { let n = 0; req.on('data', (d: Buffer) => { n += d.length; }); req.on('end', () => res.end(`got ${n} bytes`)); req.resume(); }, 300);
      return;
    }
    if (url.pathname === '/headers') { req.resume(); res.end(JSON.stringify(req.headers)); return; }
    if (url.pathname === '/slow') {
      concurrent++; maxConcurrent = Math.max(maxConcurrent, concurrent);
      req.resume();
      setTimeout(() => { concurrent--; res.end('slow'); }, 100);
      return;
    }
    req.resume();
    res.setHeader('content-length', String(Buffer.byteLength(url.pathname)));
    res.end(url.pathname);
  });
  // A backend whose keep-alive close always meets the proxy's next request: it answers the first
  // request of a connection (keep-alive) and resets the connection when a second one arrives.
  racer = createNetServer((s) => {
    racerStats.connections++;
    let got = '';
    let answered = false;
    s.on('error', () => undefined);
    s.on('data', (d) => {
      got += d.toString('latin1');
      if (!got.includes('\r\n\r\n')) return;
      if (answered) { racerStats.resets++; s.resetAndDestroy(); return; }
      answered = true;
      const path = got.split(' ')[1];
      got = '';
      s.write(`HTTP/1.1 200 OK\r\nContent-Length: ${path.length}\r\n\r\n${path}`);
    });
  });
  await new Promise<void>((r) => racer.listen(0, '127.0.0.1', r));
  // A backend that resets every connection at its first request: nothing stale about it.
  resetter = createNetServer((s) => {
    resetterStats.connections++;
    s.on('error', () => undefined);
    s.on('data', () => s.resetAndDestroy());
  });
  await new Promise<void>((r) => resetter.listen(0, '127.0.0.1', r));
  // A raw backend for framings node:http would not produce.
  rawBackend = createNetServer((s) => {
    s.once('data', (d) => {
      const line = d.toString().split('\r\n')[0];
      if (line.includes('/close-delimited')) s.end('HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil-the-end');
      else s.end('HTTP/1.1 200 OK\r\nContent-Length: 5\r\nBad Header: x\r\n\r\nhello');
    });
  });
  await new Promise<void>((r) => rawBackend.listen(0, '127.0.0.1', r));
  rawPort = (rawBackend.address() as AddressInfo).port;
  const port = await freePort();
  sy = await startSwitchyard(baseConfig(port, {
    app: { backends: [{ address: backends[0].address }], maxConnectionsPerBackend: 2 },
    // No retries: only the reused-connection replay can save a request that met the reset.
    stale: { backends: [{ address: `127.0.0.1:${(racer.address() as AddressInfo).port}` }], retries: { enabled: false } },
    raw: { backends: [{ address: `127.0.0.1:${rawPort}` }] },
    resets: { backends: [{ address: `127.0.0.1:${(resetter.address() as AddressInfo).port}` }], retries: { enabled: false } },
  }, [
    { match: { path: { prefix: '/stale' } }, service: 'stale' },
    { match: { path: { prefix: '/resets' } }, service: 'resets' },
    { match: { path: { prefix: '/raw' } }, service: 'raw' },
    { match: { path: { prefix: '/' } }, service: 'app' },
  ]));
});

after(async () => {
  await sy?.stop();
  rawBackend.close();
  racer.close();
  resetter.close();
  await Promise.all(backends.map((b) => b.close()));
});

test('pipelined requests are answered in order', async () => {
  const res = await rawRequest(sy.port, 'GET /one HTTP/1.1\r\nHost: a\r\n\r\nGET /chunked HTTP/1.1\r\nHost: a\r\n\r\nGET /three HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');
  const one = res.indexOf('/one');
  const two = res.indexOf('part2');
  const three = res.indexOf('/three');
  assert.ok(one > 0 && two > one && three > two, res);
  assert.equal(res.match(/HTTP\/1\.1 200 /g)?.length, 3);
});

test('chunked backend responses are re-framed intact; HTTP/1.0 clients get close-delimited bodies', async () => {
  const r11 = await rawRequest(sy.port, 'GET /chunked HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');
  assert.match(r11, /transfer-encoding: chunked/i);
  assert.match(r11, /part1-/);
  assert.match(r11, /part2/);
  const r10 = await rawRequest(sy.port, 'GET /chunked HTTP/1.0\r\nHost: a\r\n\r\n');
  assert.match(r10, /^HTTP\/1\.1 200 /);
  assert.doesNotMatch(r10, /transfer-encoding/i);
  assert.match(r10, /\r\n\r\npart1-part2$/);
});

test('HEAD, 204 and 304 carry no body and keep the connection usable', async () => {
  const res = await rawRequest(sy.port, 'HEAD /sized HTTP/1.1\r\nHost: a\r\n\r\nGET /nocontent HTTP/1.1\r\nHost: a\r\n\r\nGET /notmodified HTTP/1.1\r\nHost: a\r\n\r\nGET /last HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');
  assert.match(res, /^HTTP\/1\.1 200 [^]*content-length: 6/i);
  assert.match(res, /HTTP\/1\.1 204 /);
  assert.match(res, /HTTP\/1\.1 304 [^]*etag: "x"/i);
  assert.ok(res.endsWith('/last'), res);
  assert.doesNotMatch(res, /\/sized(?!\r)/);
});

test('Expect: 100-continue gets an interim 100 before the final answer', async () => {
  const res = await rawRequest(sy.port, 'POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nExpect: 100-continue\r\nConnection: close\r\n\r\nhello');
  assert.match(res, /^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 /);
  assert.match(res, /got 5 bytes/);
});

test('a 1 MiB request body with Content-Length reaches the backend whole', async () => {
  const r = await request(`${sy.url}/echo`, { method: 'POST', body: Buffer.alloc(1 << 20, 7) });
  assert.equal(await r.body.text(), `got ${1 << 20} bytes`);
});

test('a reused keep-alive connection the backend resets as the request arrives: the request is replayed on a fresh one', async () => {
  const agent = new Agent({ connections: 1 });
  const before = { ...racerStats };
  try {
    for (let i = 0; i < 4; i++) {
      const r = await request(`${sy.url}/stale/${i}`, { dispatcher: agent });
      const text = await r.body.text();
      assert.equal(r.statusCode, 200, `request ${i}: ${text}`);
      assert.equal(text, `/stale/${i}`);
    }
    // Every request after the first met the race on the connection the one before it left idle.
    assert.equal(racerStats.resets - before.resets, 3, JSON.stringify(racerStats));
    assert.equal(racerStats.connections - before.connections, 4, JSON.stringify(racerStats));
  } finally { await agent.close(); }
});

test('a fresh connection reset at the request is not replayed: the request may have reached the application', async () => {
  const before = resetterStats.connections;
  for (let i = 0; i < 3; i++) {
    const r = await request(`${sy.url}/resets/${i}`, { reset: true });
    await r.body.dump();
    assert.equal(r.statusCode, 502, `request ${i}`);
  }
  assert.equal(resetterStats.connections - before, 3, 'one connection, one try, per request');
});

test('maxConnectionsPerBackend caps upstream concurrency; the rest wait in order and succeed', async () => {
  maxConcurrent = 0;
  const agent = new Agent({ connections: 20 });
  try {
    const codes = await Promise.all(Array.from({ length: 10 }, async () => {
      const r = await request(`${sy.url}/slow`, { dispatcher: agent });
      await r.body.dump();
      return r.statusCode;
    }));
    assert.deepEqual(codes, Array(10).fill(200));
    assert.equal(maxConcurrent, 2);
  } finally { await agent.close(); }
});

test('a close-delimited backend response is relayed whole; a malformed one becomes 502', async () => {
  const ok = await rawRequest(sy.port, 'GET /raw/close-delimited HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');
  assert.match(ok, /^HTTP\/1\.1 200 /);
  assert.match(ok, /until-the-end/);
  const bad = await rawRequest(sy.port, 'GET /raw/bad HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');
  assert.match(bad, /^HTTP\/1\.1 502 /);
  assert.doesNotMatch(bad, /hello/);
});

test('many request headers (split by the parser) are all forwarded', async () => {
  let raw = 'GET /headers HTTP/1.1\r\nHost: a\r\nConnection: close\r\n';
  for (let i = 0; i < 60; i++) raw += `X-H${i}: v${i}\r\n`;
  const res = await rawRequest(sy.port, `${raw}\r\n`);
  const body = JSON.parse(res.slice(res.indexOf('\r\n\r\n') + 4)) as Record<string, string>;
  for (let i = 0; i < 60; i++) assert.equal(body[`x-h${i}`], `v${i}`);
});

test('after a body the backend was slow to take, the next request on the connection is read and answered', async () => {
  // The body's last bytes and its end arrive in one read while the backend's socket is full: the
  // proxy stops reading the client there, and must read again once the response is out.
  const agent = new Agent({ connections: 1 });
  try {
    for (let i = 0; i < 3; i++) {
      const post = await request(`${sy.url}/late-reader`, { method: 'POST', body: Buffer.alloc(4 << 20, 1), dispatcher: agent, headersTimeout: 5000 });
      assert.equal(await post.body.text(), `got ${4 << 20} bytes`);
      const next = await request(`${sy.url}/after-${i}`, { dispatcher: agent, headersTimeout: 3000 });
      assert.equal(await next.body.text(), `/after-${i}`, 'the request after the body is answered on the same connection');
    }
  } finally { await agent.close(); }
});

test('several POSTs in a row on one keep-alive connection all complete', async () => {
  const agent = new Agent({ connections: 1 });
  try {
    for (let i = 0; i < 8; i++) {
      const r = await request(`${sy.url}/echo`, { method: 'POST', body: Buffer.alloc(5000 + i, 1), dispatcher: agent, headersTimeout: 5000 });
      assert.equal(await r.body.text(), `got ${5000 + i} bytes`);
    }
  } finally { await agent.close(); }
});
