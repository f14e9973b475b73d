import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { connect } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import { selfSignedCert } from '../support/self-signed.js';
import { startBackends, startSwitchyard, freePort, baseConfig, sleep, type Backend, type Switchyard } from './harness.js';

/*
 * WebSockets end to end: over TLS, a backend that refuses the upgrade, a client that stops
 * reading (the backend must be stopped, not buffered for), and SIGTERM with a tunnel open (it
 * keeps working during the drain and is cut at drainTimeout).
 */

/** The flood: FLOOD_MESSAGES messages of FLOOD_SIZE bytes, each starting with its index. */
const FLOOD_SIZE = 256 * 1024;
const FLOOD_MESSAGES = 256;
/** Bytes of the flood the backend's kernel accepted so far (sent minus what ws still buffers). */
let floodAccepted = 0;

let backend: Backend;
let cert: string;
let key: string;
let wss: WebSocketServer;
let sy: Switchyard;
let tlsPort: number;

before(async () => {
  ({ cert, key } = selfSignedCert());
  [backend] = await startBackends(1);
  wss = new WebSocketServer({ noServer: true });
  backend.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (req.url === '/refuse') { socket.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 6\r\nConnection: close\r\n\r\nno way'); return; }
    wss.handleUpgrade(req, socket, head, (ws) => {
      if (req.url === '/flood') { void flood(ws); return; }
      ws.on('message', (m) => ws.send(`echo ${req.url} ${m.toString()}`));
    });
  });
  tlsPort = await freePort();
  const port = await freePort();
  sy = await startSwitchyard(baseConfig(port, { app: { backends: [{ address: backend.address }] } }, undefined, {
    listeners: [
      { name: 'web', address: `127.0.0.1:${port}` },
      { name: 'tls', address: `127.0.0.1:${tlsPort}`, protocol: 'https', tls: { certificates: [{ cert, key }] } },
    ],
  }));
});

after(async () => {
  await sy?.stop();
  wss?.close();
  await backend?.close();
});

/** Sends the flood as fast as the connection takes it (never more than 1 MiB queued in ws), then closes. */
async function flood(ws: WebSocket): Promise<void> {
  floodAccepted = 0;
  let sent = 0;
  for (let i = 0; i < FLOOD_MESSAGES && ws.readyState === WebSocket.OPEN; i++) {
    const m = Buffer.alloc(FLOOD_SIZE, i & 0xff);
    m.writeUInt32BE(i, 0);
    ws.send(m);
    sent += FLOOD_SIZE;
    while (ws.bufferedAmount > 1 << 20 && ws.readyState === WebSocket.OPEN) {
      floodAccepted = sent - ws.bufferedAmount;
      await sleep(20);
    }
    floodAccepted = sent - ws.bufferedAmount;
  }
  ws.close(1000, 'done');
}

function opened(ws: WebSocket): Promise<void> {
  return new Promise((resolve, reject) => { ws.once('open', () => resolve()); ws.once('error', reject); });
}

/** Sends `text` and resolves with the next message, or 'closed' if the socket closes first. */
function echo(ws: WebSocket, text: string): Promise<string> {
  return new Promise((resolve) => {
    ws.once('message', (m) => resolve(m.toString()));
    ws.once('close', () => resolve('closed'));
    ws.send(text);
  });
}

test('WebSocket over TLS (wss) is tunnelled both ways', { timeout: 10_000 }, async () => {
  const ws = new WebSocket(`wss://127.0.0.1:${tlsPort}/secure`, { rejectUnauthorized: false });
  try {
    await opened(ws);
    assert.equal(await echo(ws, 'hello'), 'echo /secure hello');
    assert.equal(await echo(ws, 'again'), 'echo /secure again');
  } finally { ws.terminate(); }
});

test('a backend that refuses the upgrade: its answer reaches the client, no tunnel, the connection closes', { timeout: 10_000 }, async () => {
  const ws = new WebSocket(`ws://127.0.0.1:${sy.port}/refuse`);
  const answer = await new Promise<{ status: number; body: string; connection?: string }>((resolve, reject) => {
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (d: Buffer) => { body += d.toString(); });
      res.on('end', () => resolve({ status: res.statusCode!, body, connection: res.headers.connection }));
    });
    ws.once('open', () => reject(new Error('the upgrade was refused, yet the socket opened')));
    ws.once('error', reject);
  });
  assert.deepEqual(answer, { status: 403, body: 'no way', connection: 'close' });
});

test('backpressure: a WebSocket client that stops reading stops the backend; then every message arrives in order', { timeout: 60_000 }, async () => {
  const ws = new WebSocket(`ws://127.0.0.1:${sy.port}/flood`);
  try {
    await opened(ws);
    ws.pause();
    let last = -1;
    for (let i = 0; i < 40 && floodAccepted !== last; i++) { last = floodAccepted; await sleep(250); }
    const total = FLOOD_SIZE * FLOOD_MESSAGES;
    assert.ok(floodAccepted < total / 2, `the backend got ${floodAccepted} of ${total} bytes out while the client read nothing`);
    const got: number[] = [];
    let bytes = 0;
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    ws.on('message', (m: Buffer) => { got.push(m.readUInt32BE(0)); bytes += m.length; });
    ws.resume();
    assert.equal(await closed, 1000);
    assert.equal(bytes, total);
    assert.deepEqual(got, Array.from({ length: FLOOD_MESSAGES }, (_, i) => i));
  } finally { ws.terminate(); }
});

test('SIGTERM with a WebSocket open: the tunnel keeps working during the drain and is cut at drainTimeout; exit 0', { timeout: 30_000 }, async () => {
  const port = await freePort();
  const node = await startSwitchyard(baseConfig(port, { app: { backends: [{ address: backend.address }] } }, undefined, { shutdown: { drainTimeout: '1500ms' } }));
  const ws = new WebSocket(`ws://127.0.0.1:${port}/drain`);
  try {
    await opened(ws);
    const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()));
    let closedYet = false;
    void closed.then(() => { closedYet = true; });
    const exited = new Promise<number | null>((resolve) => node.proc.once('exit', resolve));
    node.proc.kill('SIGTERM');
    await node.waitForLog(/"msg":"shutting down: draining"/, 5000);
    // Draining for sure: the listener refuses new connections; the open tunnel still carries messages.
    let refused = false;
    for (let i = 0; i < 100 && !refused; i++) {
      refused = await new Promise<boolean>((resolve) => {
        const c = connect(port, '127.0.0.1');
        c.once('connect', () => { c.destroy(); resolve(false); });
        c.once('error', () => resolve(true));
      });
      if (!refused) await sleep(50);
    }
    assert.ok(refused, 'new connections are refused during the drain');
    assert.equal(await echo(ws, 'during the drain'), 'echo /drain during the drain');
    assert.equal(closedYet, false);
    await closed;
    assert.equal(await exited, 0);
    // Cut by the worker at drainTimeout, not by the primary's hard stop 5 s later.
    assert.doesNotMatch(node.output(), /drain timeout passed; killing workers/);
  } finally {
    ws.terminate();
    await node.stop();
  }
});
