import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { request as httpRequest } from 'node:http';
import WebSocket, { WebSocketServer } from 'ws';
import { startBackends, startSwitchyard, freePort, baseConfig, sleep, type Backend, type Switchyard } from './harness.js';

/* WebSocket tunnelling, slow clients, connection caps and graceful drain on SIGTERM. */

let backends: Backend[];
let wss: WebSocketServer;

before(async () => {
  backends = await startBackends(1, (req, res) => {
    const ms = Number(new URL(req.url!, 'http://x').searchParams.get('delay') ?? 0);
    req.resume();
    setTimeout(() => res.end(`done after ${ms}`), ms);
  });
  wss = new WebSocketServer({ server: backends[0].server });
  wss.on('connection', (ws, req) => ws.on('message', (m) => ws.send(`echo ${req.url} ${m.toString()}`)));
});

after(async () => {
  wss.close();
  await Promise.all(backends.map((b) => b.close()));
});

async function start(extra: Record<string, unknown> = {}, listener: Record<string, unknown> = {}): Promise<Switchyard> {
  const port = await freePort();
  return startSwitchyard(baseConfig(port, { app: { backends: [{ address: backends[0].address }] } }, undefined, {
    listeners: [{ name: 'web', address: `127.0.0.1:${port}`, ...listener }], ...extra,
  }));
}

test('WebSocket upgrade is tunnelled to the backend both ways', async () => {
  const sy = await start();
  try {
    const ws = new WebSocket(`ws://127.0.0.1:${sy.port}/chat?room=1`);
    await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
    const replies: string[] = [];
    ws.on('message', (m) => replies.push(m.toString()));
    ws.send('hello');
    ws.send('again');
    for (let i = 0; i < 40 && replies.length < 2; i++) await sleep(25);
    assert.deepEqual(replies, ['echo /chat?room=1 hello', 'echo /chat?room=1 again']);
    ws.close();
  } finally {
    await sy.stop();
  }
});

test('a slowloris client is cut off at the header timeout', async () => {
  const sy = await start({}, { timeouts: { header: '500ms' } });
  try {
    const t0 = Date.now();
    const got = await new Promise<string>((resolve) => {
      const s = connect(sy.port, '127.0.0.1');
      let data = '';
      s.write('GET / HTTP/1.1\r\nHost: a\r\n');
      const drip = setInterval(() => { if (!s.destroyed) s.write('X-Drip: 1\r\n'); }, 100);
      s.on('data', (d) => { data += d.toString(); });
      s.on('close', () => { clearInterval(drip); resolve(data); });
      s.on('error', () => undefined);
      setTimeout(() => s.destroy(), 5000);
    });
    const elapsed = Date.now() - t0;
    assert.ok(elapsed < 3000, `closed after ${elapsed} ms`);
    assert.match(got, /^HTTP\/1.1 408 /);
    assert.equal(backends[0].seen.filter((s) => s.headers['x-drip']).length, 0);
  } finally {
    await sy.stop();
  }
});

test('connections beyond maxConnections are refused while existing ones keep working', async () => {
  const sy = await start({}, { maxConnections: 2 });
  try {
    const open = await Promise.all([0, 1].map(() => new Promise<ReturnType<typeof connect>>((resolve) => {
      const s = connect(sy.port, '127.0.0.1', () => resolve(s));
    })));
    await sleep(100);
    const third = await new Promise<string>((resolve) => {
      const s = connect(sy.port, '127.0.0.1');
      let data = '';
      s.on('data', (d) => { data += d.toString(); });
      s.on('error', () => resolve('error'));
      s.on('close', () => resolve(`closed:${data}`));
      s.write('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
      setTimeout(() => resolve(`open:${data}`), 1500);
    });
    assert.match(third, /^(closed:|error)$/);
    const first = await new Promise<string>((resolve) => {
      open[0].on('data', (d) => resolve(d.toString()));
      open[0].write('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
    });
    assert.match(first, /^HTTP\/1.1 200 /);
    for (const s of open) s.destroy();
  } finally {
    await sy.stop();
  }
});

test('SIGTERM drains: in-flight requests finish, new connections are refused, exit code 0', { timeout: 30_000 }, async () => {
  const sy = await start({ shutdown: { drainTimeout: '10s' } });
  let finished = false;
  const inflight = new Promise<{ status: number; body: string }>((resolve, reject) => {
    httpRequest(`${sy.url}/slow?delay=3000`, (res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => { finished = true; resolve({ status: res.statusCode!, body }); });
    }).on('error', reject).end();
  });
  await sleep(300);
  const t0 = Date.now();
  const exit = sy.stop('SIGTERM');
  // The workers close their listeners a moment after the signal: try until a connect is refused,
  // which must happen while the slow request is still in flight.
  const connects = () => new Promise<boolean>((resolve) => {
    const s = connect(sy.port, '127.0.0.1');
    s.on('connect', () => { s.destroy(); resolve(true); });
    s.on('error', () => resolve(false));
  });
  let refused = false;
  while (!refused && !finished && Date.now() - t0 < 2500) {
    refused = !(await connects());
    if (!refused) await sleep(20);
  }
  const refusedInFlight = refused && !finished;
  const r = await inflight;
  assert.equal(r.status, 200);
  assert.equal(r.body, 'done after 3000');
  assert.equal(refusedInFlight, true, 'new connections are refused while draining');
  assert.equal(await exit, 0);
  assert.ok(Date.now() - t0 < 8000, 'exits once drained, not at the drain timeout');
});
