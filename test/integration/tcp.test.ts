import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, connect, type Server, type Socket, type AddressInfo } from 'node:net';
import { spawn, type ChildProcess } from 'node:child_process';
import { startSwitchyard, freePort, type Switchyard } from './harness.js';
import { parseProxyHeader, encodeProxyV1, encodeProxyV2 } from '../../src/tcp/proxy-protocol.js';

/*
 * L4 proxying through a real Switchyard: a large stream with half-close, many short connections,
 * connect failures retried on another backend, PROXY protocol v1/v2 to the backend and from a
 * front tier.
 */

interface TcpBackend { server: Server; port: number; address: string; conns: number; close(): Promise<void> }

/** Backend: optional PROXY header first, then `handler` gets the socket and the header (if any). */
async function tcpBackend(handler: (s: Socket, proxy?: { address: string; port: number }) => void, expectProxy = false): Promise<TcpBackend> {
  const b = { conns: 0 } as TcpBackend;
  b.server = createServer({ allowHalfOpen: true }, (s) => {
    b.conns++;
    if (!expectProxy) { handler(s); return; }
    let buf: Buffer = Buffer.alloc(0);
    const onData = (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      const r = parseProxyHeader(buf);
      if (r.kind === 'incomplete') return;
      s.removeListener('data', onData);
      if (r.kind !== 'ok') { s.destroy(); return; }
      const rest = buf.subarray(r.headerLength);
      handler(s, r.source);
      if (rest.length > 0) s.emit('data', rest);
    };
    s.on('data', onData);
  });
  await new Promise<void>((r) => b.server.listen(0, '127.0.0.1', r));
  b.port = (b.server.address() as AddressInfo).port;
  b.address = `127.0.0.1:${b.port}`;
  b.close = () => new Promise((r) => b.server.close(() => r()));
  return b;
}

/** Hashes everything received; after the client's end, answers with byte count + sha1 and ends. */
const hashingHandler = (s: Socket) => {
  const h = createHash('sha1');
  let n = 0;
  s.on('data', (d: Buffer) => { n += d.length; h.update(d); });
  s.on('end', () => s.end(`${n} ${h.digest('hex')}`));
  s.on('error', () => undefined);
};

/** Streams SOURCE_BYTES (a known pattern) as fast as the connection takes them; counts what the kernel accepted. */
const SOURCE_BYTES = 128 * 1024 * 1024;
const sourceChunk = Buffer.alloc(1 << 16, 'abcdefghijklmnopqrstuvwxyz');
let sourceAccepted = 0;
const sourceHandler = (s: Socket) => {
  let sent = 0;
  s.on('error', () => undefined);
  const pump = () => {
    while (sent < SOURCE_BYTES) {
      sent += sourceChunk.length;
      const ok = s.write(sourceChunk, () => { sourceAccepted += sourceChunk.length; });
      if (!ok) { s.once('drain', pump); return; }
    }
    s.end();
  };
  pump();
};

/**
 * A backend that never completes a connect: a listening socket (backlog 1) in a process that is
 * stopped, so nothing accepts; a few connections fill its queue and the kernel drops further SYNs.
 */
async function blackhole(): Promise<{ address: string; stop(): void }> {
  const js = "require('net').createServer().listen({ port: 0, host: '127.0.0.1', backlog: 1 }, function () { console.log(this.address().port); })";
  const child: ChildProcess = spawn(process.execPath, ['-e', js], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve) => child.stdout!.once('data', (d: Buffer) => resolve(Number(d.toString().trim()))));
  child.kill('SIGSTOP');
  const fillers = Array.from({ length: 4 }, () => connect({ port, host: '127.0.0.1' }).on('error', () => undefined));
  await new Promise((r) => setTimeout(r, 300));
  return { address: `127.0.0.1:${port}`, stop: () => { for (const f of fillers) f.destroy(); child.kill('SIGKILL'); } };
}

let hashing: TcpBackend;
let source: TcpBackend;
let hole: Awaited<ReturnType<typeof blackhole>>;
let proxyAware: TcpBackend;
let banner: TcpBackend;
let sy: Switchyard;
let ports: { plain: number; retry: number; v1: number; v2: number; front: number; slowFront: number; idle: number; source: number; hole: number; banner: number; admin: number };

before(async () => {
  hashing = await tcpBackend(hashingHandler);
  source = await tcpBackend(sourceHandler);
  hole = await blackhole();
  proxyAware = await tcpBackend((s, src) => { s.end(`${src?.address}:${src?.port}`); }, true);
  // A server that speaks first (SMTP-style): its greeting goes out the moment it accepts.
  banner = await tcpBackend((s) => {
    s.write('220 ready\r\n');
    s.on('data', (d: Buffer) => s.end(`221 bye ${d.toString().trim()}\r\n`));
    s.on('error', () => undefined);
  });
  ports = { plain: await freePort(), retry: await freePort(), v1: await freePort(), v2: await freePort(), front: await freePort(), slowFront: await freePort(), idle: await freePort(), source: await freePort(), hole: await freePort(), banner: await freePort(), admin: await freePort() };
  const dead = await freePort();
  const listener = (name: string, port: number, service: string, extra: Record<string, unknown> = {}) =>
    ({ name, address: `127.0.0.1:${port}`, protocol: 'tcp', service, ...extra });
  sy = await startSwitchyard({
    workers: 1,
    admin: { address: `127.0.0.1:${ports.admin}` },
    listeners: [
      listener('plain', ports.plain, 'hashing'),
      listener('retry', ports.retry, 'flaky'),
      listener('v1', ports.v1, 'aware-v1'),
      listener('v2', ports.v2, 'aware-v2'),
      listener('front', ports.front, 'aware-v2', { acceptProxyProtocol: true }),
      listener('slowFront', ports.slowFront, 'aware-v2', { acceptProxyProtocol: true, timeouts: { header: '300ms' } }),
      listener('idle', ports.idle, 'hashing', { timeouts: { idle: '400ms' } }),
      listener('source', ports.source, 'source'),
      listener('hole', ports.hole, 'hole'),
      listener('banner', ports.banner, 'banner'),
    ],
    services: {
      hole: { backends: [{ address: hole.address }], timeouts: { connect: '300ms' }, retries: { enabled: false }, outlierDetection: { enabled: false }, circuitBreaker: { enabled: false } },
      source: { backends: [{ address: source.address }] },
      hashing: { backends: [{ address: hashing.address }] },
      banner: { backends: [{ address: banner.address }] },
      flaky: { balancer: { algorithm: 'round-robin' }, backends: [{ address: `127.0.0.1:${dead}` }, { address: hashing.address }], outlierDetection: { enabled: false }, circuitBreaker: { enabled: false } },
      'aware-v1': { backends: [{ address: proxyAware.address }], sendProxyProtocol: 'v1' },
      'aware-v2': { backends: [{ address: proxyAware.address }], sendProxyProtocol: 'v2' },
    },
  });
});

after(async () => {
  await sy?.stop();
  await hashing.close();
  await source.close();
  hole.stop();
  await proxyAware.close();
  await banner.close();
});

test('the configured engine is the one serving: the fast L4 engine does not fall back silently', async () => {
  const engine = process.env.SWITCHYARD_TEST_ENGINE ?? 'fast';
  // Worker counters reach the primary about once a second.
  let text = '';
  for (let i = 0; i < 50 && !text.includes('switchyard_listener_engine_workers{listener="plain"'); i++) {
    const r = await fetch(`http://127.0.0.1:${ports.admin}/metrics`);
    text = await r.text();
    if (!text.includes('switchyard_listener_engine_workers{listener="plain"')) await new Promise((res) => setTimeout(res, 200));
  }
  for (const name of ['plain', 'v2', 'front', 'banner']) {
    assert.match(text, new RegExp(`switchyard_listener_engine_workers\\{listener="${name}",engine="${engine}"\\} 1\\n`), `listener ${name} on ${engine}`);
  }
  assert.doesNotMatch(text, new RegExp(`switchyard_listener_engine_workers\\{[^}]*engine="${engine === 'fast' ? 'node' : 'fast'}"`));
  assert.doesNotMatch(sy.output(), /serving with engine/, 'no fallback logged');
});

/** Connects, sends `chunks` (then half-closes), returns everything received until the server ends. */
function exchange(port: number, send: (s: Socket) => void): Promise<{ text: string; localPort: number }> {
  return new Promise((resolve, reject) => {
    const s = connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    let text = '';
    s.on('connect', () => send(s));
    s.on('data', (d) => { text += d.toString(); });
    s.on('end', () => { s.end(); resolve({ text, localPort: s.localPort! }); });
    s.on('error', reject);
  });
}

// 64 MiB proves the relay (count, order, half-close); bench/big-transfer.mjs moves 1 GiB on a quiet machine.
test('64 MiB through an L4 listener: byte count and checksum equal; the answer arrives after the client half-closes', { timeout: 60_000 }, async () => {
  const TOTAL = 64 * 2 ** 20;
  const chunk = Buffer.alloc(1 << 20);
  for (let i = 0; i < chunk.length; i++) chunk[i] = (i * 13) & 0xff;
  const sent = createHash('sha1');
  const { text } = await exchange(ports.plain, (s) => {
    let i = 0;
    const pump = () => {
      while (i < TOTAL / chunk.length) {
        chunk[0] = i & 0xff;
        sent.update(chunk);
        i++;
        if (!s.write(Buffer.from(chunk))) { s.once('drain', pump); return; }
      }
      s.end(); // half-close: the backend answers only after seeing our end
    };
    pump();
  });
  assert.equal(text, `${TOTAL} ${sent.digest('hex')}`);
});

test('backpressure: a client that stops reading stops the backend (the proxy does not buffer the stream); then every byte arrives in order', { timeout: 120_000 }, async () => {
  sourceAccepted = 0;
  const s = connect({ port: ports.source, host: '127.0.0.1' });
  s.pause();
  s.on('error', () => undefined);
  await new Promise<void>((r) => s.once('connect', () => r()));
  // Wait until the pipeline is full: the source's progress stops growing while nobody reads.
  let last = -1;
  for (let i = 0; i < 40 && sourceAccepted !== last; i++) {
    last = sourceAccepted;
    await new Promise((r) => setTimeout(r, 250));
  }
  const stalledAt = sourceAccepted;
  console.log(`backpressure: source stalled after ${(stalledAt / 2 ** 20).toFixed(1)} MiB of ${SOURCE_BYTES / 2 ** 20} MiB (kernel buffers on three sockets + one read buffer)`);
  assert.ok(stalledAt < SOURCE_BYTES / 2, `the source got ${stalledAt} bytes out while the client read nothing: the proxy kept reading`);
  const expected = createHash('sha1');
  for (let i = 0; i < SOURCE_BYTES / sourceChunk.length; i++) expected.update(sourceChunk);
  const got = createHash('sha1');
  let n = 0;
  await new Promise<void>((resolve, reject) => {
    s.on('data', (d: Buffer) => { n += d.length; got.update(d); });
    s.on('end', () => resolve());
    s.on('error', reject);
    s.resume();
  });
  assert.equal(n, SOURCE_BYTES);
  assert.equal(got.digest('hex'), expected.digest('hex'));
});

test('a backend connect that never completes is given up after timeouts.connect: the client is closed', { timeout: 30_000 }, async () => {
  for (let i = 0; i < 2; i++) {
    const t0 = Date.now();
    const s = connect({ port: ports.hole, host: '127.0.0.1' });
    s.on('error', () => undefined);
    s.resume();
    await new Promise<void>((r) => s.once('close', () => r()));
    const ms = Date.now() - t0;
    assert.ok(ms >= 250 && ms < 3000, `closed after ${ms} ms (connect timeout 300 ms)`);
  }
});

test('many short connections each get their own answer', { timeout: 60_000 }, async () => {
  const results = await Promise.all(Array.from({ length: 200 }, (_, i) => exchange(ports.plain, (s) => s.end(`hello ${i}`))));
  results.forEach((r, i) => assert.equal(r.text, `${`hello ${i}`.length} ${createHash('sha1').update(`hello ${i}`).digest('hex')}`));
});

test('a backend that speaks first: its greeting reaches the silent client, then the dialogue goes on', { timeout: 60_000 }, async () => {
  // The greeting can arrive together with the connect's completion: it must wait for the relay.
  const dialogue = (i: number) => new Promise<string>((resolve, reject) => {
    const s = connect({ port: ports.banner, host: '127.0.0.1' });
    let text = '';
    s.on('data', (d: Buffer) => {
      const first = text === '';
      text += d.toString();
      if (first && text.startsWith('220 ready\r\n')) s.write(`QUIT ${i}\r\n`);
    });
    s.on('end', () => resolve(text));
    s.on('error', reject);
  });
  const texts = await Promise.all(Array.from({ length: 100 }, (_, i) => dialogue(i)));
  texts.forEach((t, i) => assert.equal(t, `220 ready\r\n221 bye QUIT ${i}\r\n`));
});

test('a refused backend connect is retried on another backend: every connection succeeds', async () => {
  const before = hashing.conns;
  for (let i = 0; i < 10; i++) {
    const r = await exchange(ports.retry, (s) => s.end('x'));
    assert.equal(r.text.split(' ')[0], '1');
  }
  assert.equal(hashing.conns - before, 10);
});

test('PROXY protocol v1 and v2 tell the backend the real client address', async () => {
  for (const port of [ports.v1, ports.v2]) {
    const r = await exchange(port, (s) => s.end());
    assert.equal(r.text, `127.0.0.1:${r.localPort}`);
  }
});

test('a PROXY header from a front tier is accepted and passed on; a connection without one is refused', async () => {
  const r = await exchange(ports.front, (s) => {
    s.write(encodeProxyV1({ address: '203.0.113.7', port: 5555 }, { address: '198.51.100.1', port: 443 }));
    s.end();
  });
  assert.equal(r.text, '203.0.113.7:5555');
  const bare = await exchange(ports.front, (s) => s.end('GET / HTTP/1.1\r\n\r\n')).catch(() => ({ text: '', localPort: 0 }));
  assert.equal(bare.text, '');
});

/** A PROXY v2 header for `src` → `dst` followed by TLVs (type, value), its length field covering them. */
function proxyV2WithTlvs(src: { address: string; port: number }, dst: { address: string; port: number }, tlvs: [number, Buffer][]): Buffer {
  const base = encodeProxyV2(src, dst);
  const tail = Buffer.concat(tlvs.map(([type, value]) => {
    const t = Buffer.alloc(3);
    t[0] = type;
    t.writeUInt16BE(value.length, 1);
    return Buffer.concat([t, value]);
  }));
  const out = Buffer.concat([base, tail]);
  out.writeUInt16BE(out.readUInt16BE(14) + tail.length, 14);
  return out;
}

test('a PROXY v2 header with TLVs (ALPN, authority, CRC32C, NOOP) is accepted on a real listener; a TLV overrunning the header is refused', async () => {
  const header = proxyV2WithTlvs({ address: '203.0.113.9', port: 6000 }, { address: '198.51.100.1', port: 443 },
    [[0x01, Buffer.from('h2')], [0x02, Buffer.from('example.com')], [0x03, Buffer.alloc(4)], [0x04, Buffer.alloc(7)]]);
  // Split across two writes: the listener must wait for the whole header.
  const r = await exchange(ports.front, (s) => { s.write(header.subarray(0, 20)); setTimeout(() => s.end(header.subarray(20)), 50); });
  assert.equal(r.text, '203.0.113.9:6000');
  const broken = Buffer.from(header);
  broken.writeUInt16BE(broken.readUInt16BE(14) - 2, 14); // the last TLV now overruns the announced length
  const before = proxyAware.conns;
  const refused = await exchange(ports.front, (s) => s.end(broken)).catch(() => ({ text: '', localPort: 0 }));
  assert.equal(refused.text, '');
  assert.equal(proxyAware.conns, before, 'nothing reached the backend');
});

test('a front-tier connection whose PROXY header does not complete within timeouts.header is closed, the backend never reached', { timeout: 30_000 }, async () => {
  const before = proxyAware.conns;
  const closed = await new Promise<boolean>((resolve) => {
    const s = connect({ port: ports.slowFront, host: '127.0.0.1' });
    // Half a v2 header, then silence (bounded by the test: 10 s).
    s.on('connect', () => s.write(encodeProxyV2({ address: '203.0.113.9', port: 6000 }, { address: '198.51.100.1', port: 443 }).subarray(0, 10)));
    const giveUp = setTimeout(() => { s.destroy(); resolve(false); }, 10_000);
    s.on('error', () => undefined);
    s.on('close', () => { clearTimeout(giveUp); resolve(true); });
  });
  assert.ok(closed, 'closed by the listener');
  assert.equal(proxyAware.conns, before, 'nothing reached the backend');
});

test('a connection silent both ways for timeouts.idle is closed; one with traffic in either direction is not', { timeout: 30_000 }, async () => {
  const closedAfter = (trickle: boolean) => new Promise<number>((resolve) => {
    const s = connect({ port: ports.idle, host: '127.0.0.1' });
    const t0 = Date.now();
    let timer: NodeJS.Timeout | undefined;
    s.on('connect', () => {
      s.write('x');
      if (trickle) timer = setInterval(() => s.write('y'), 150);
    });
    s.on('data', () => undefined);
    s.on('error', () => undefined);
    s.on('close', () => { clearInterval(timer); resolve(Date.now() - t0); });
    // The trickling one is ended by the test itself after 1.5 s.
    if (trickle) setTimeout(() => { clearInterval(timer); s.destroy(); }, 1500);
  });
  const silent = await closedAfter(false);
  assert.ok(silent >= 350 && silent < 3000, `silent connection closed after ${silent} ms`);
  const busy = await closedAfter(true);
  assert.ok(busy >= 1450, `a connection with traffic was cut after ${busy} ms`);
});
