import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import pino from 'pino';
import { FastHttpListener } from './fast-listener.js';
import { requestParsers } from './parser-free-list.js';
import { Snapshot, SnapshotHolder } from '../../snapshot/snapshot.js';
import { validateConfig } from '../../config/load.js';
import { systemClock } from '../../util/clock.js';
import { seededRandom } from '../../util/random.js';

/* The fast listener gives an idle keep-alive connection's parser back (parser-free-list.ts). */

let backend: Server;
let listener: FastHttpListener;
let holder: SnapshotHolder;
let port = 0;
const seen: string[] = [];

before(async () => {
  backend = createServer((req, res) => { seen.push(req.url!); req.resume(); req.on('end', () => res.end(`url ${req.url}`)); });
  await new Promise<void>((r) => backend.listen(0, '127.0.0.1', r));
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  port = (probe.address() as { port: number }).port;
  await new Promise((r) => probe.close(r));
  const config = validateConfig({
    listeners: [{ name: 'web', address: `127.0.0.1:${port}` }],
    routes: [{ match: { path: { prefix: '/app' } }, service: 'app' }],
    services: { app: { backends: [{ address: `127.0.0.1:${(backend.address() as { port: number }).port}` }] } },
  });
  holder = new SnapshotHolder(Snapshot.build(config, 1, { clock: systemClock, random: seededRandom(1) }));
  listener = new FastHttpListener(config.listeners[0], holder, systemClock, pino({ level: 'silent' }), 1, null);
  await listener.listen();
});

after(async () => {
  await listener.close(100);
  await holder.current.close();
  await new Promise((r) => backend.close(r));
});

/** Reads responses (Content-Length framed) from one socket, in order. */
function reader(s: Socket): (n: number) => Promise<string[]> {
  let buf = '';
  let wake = (): void => undefined;
  s.on('data', (d: Buffer) => { buf += d.toString('latin1'); wake(); });
  return async (n) => {
    const out: string[] = [];
    while (out.length < n) {
      const end = buf.indexOf('\r\n\r\n');
      const len = end < 0 ? -1 : Number(/content-length: (\d+)/i.exec(buf.slice(0, end))?.[1] ?? 0);
      if (end >= 0 && buf.length >= end + 4 + len) {
        out.push(`${buf.slice(0, 12)} ${buf.slice(end + 4, end + 4 + len)}`);
        buf = buf.slice(end + 4 + len);
        continue;
      }
      await new Promise<void>((r) => { wake = r; });
    }
    return out;
  };
}

/** Waits until `cond` holds, or several deadline sweeps (100 ms apart: parsers go back from the sweep) have run. */
async function settle(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 40 && !cond(); i++) await new Promise((r) => setTimeout(r, 20));
}

async function open(): Promise<{ s: Socket; read: (n: number) => Promise<string[]> }> {
  const s = connect(port, '127.0.0.1');
  await new Promise((r) => s.once('connect', r));
  return { s, read: reader(s) };
}

test('an idle keep-alive connection holds no parser; the next request on it parses as before', async () => {
  const { s, read } = await open();
  const free = requestParsers.size;
  s.write('GET /app/1 HTTP/1.1\r\nHost: x\r\n\r\n');
  assert.deepEqual(await read(1), ['HTTP/1.1 200 url /app/1']);
  await settle(() => requestParsers.size > free);
  assert.equal(requestParsers.size, free + 1, 'given back while idle');
  // A request split across reads after the release: the parser taken on its first bytes keeps the rest.
  s.write('GET /app/2 HTTP/1.1\r\nHo');
  await settle(() => requestParsers.size === free);
  assert.equal(requestParsers.size, free, 'taken on the first bytes, held while the head is incomplete');
  s.write('st: x\r\n\r\n');
  assert.deepEqual(await read(1), ['HTTP/1.1 200 url /app/2']);
  // Answered by the proxy itself (no route: 404, keep-alive) is idle too.
  s.write('GET /nowhere HTTP/1.1\r\nHost: x\r\n\r\n');
  assert.match((await read(1))[0], /^HTTP\/1\.1 404/);
  await settle(() => requestParsers.size > free);
  assert.equal(requestParsers.size, free + 1);
  s.destroy();
});

test('pipelined requests and a partial next one: the parser stays until nothing is left half-read', async () => {
  const { s, read } = await open();
  const free = requestParsers.size;
  // A 404 answered at once, then the head of a next request cut short: not idle in the parser's eyes.
  s.write('GET /nowhere HTTP/1.1\r\nHost: x\r\n\r\nGET /app/3 HTTP/1.1\r\nHost');
  assert.match((await read(1))[0], /^HTTP\/1\.1 404/);
  await settle(() => false);
  assert.equal(requestParsers.size, Math.max(free - 1, 0), 'kept: a request is half-read');
  s.write(': x\r\n\r\nGET /app/4 HTTP/1.1\r\nHost: x\r\n\r\nGET /app/5 HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nok');
  assert.deepEqual(await read(3), ['HTTP/1.1 200 url /app/3', 'HTTP/1.1 200 url /app/4', 'HTTP/1.1 200 url /app/5']);
  await settle(() => requestParsers.size === free);
  assert.equal(requestParsers.size, free, 'given back once all are answered');
  s.destroy();
});

test('a request after one without keep-alive is refused, never forwarded', async () => {
  const { s, read } = await open();
  s.write('GET /app/6 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\nGET /app/7 HTTP/1.1\r\nHost: x\r\n\r\n');
  const closed = new Promise((r) => s.once('close', r));
  const [answer] = await read(1);
  await closed;
  assert.doesNotMatch(answer, /app\/7/);
  assert.ok(!seen.includes('/app/7'), 'the second request never reached the backend');
});
