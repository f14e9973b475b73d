import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { once } from 'node:events';
import { joinWriteBatch, type Batchable } from './write-batch.js';

/** A connected loopback pair: `local` is written, `peer` collects what arrives. */
async function pair(t: { after(fn: () => void): void }): Promise<{ local: Socket; peer: Socket; received: () => Buffer; ended: Promise<unknown> }> {
  let accepted!: (s: Socket) => void;
  const got = new Promise<Socket>((r) => { accepted = r; });
  const server: Server = createServer(accepted);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  const local = connect(port, '127.0.0.1');
  await once(local, 'connect');
  const peer = await got;
  const chunks: Buffer[] = [];
  peer.on('data', (d: Buffer) => chunks.push(d));
  const ended = once(peer, 'end');
  t.after(() => { local.destroy(); peer.destroy(); server.close(); });
  return { local, peer, received: () => Buffer.concat(chunks), ended };
}

const turn = () => new Promise<void>((r) => setImmediate(r));
const batchable = (socket: Socket): Batchable => ({ socket, batched: false });

test('writes of one turn are held until the turn ends, then leave in order', async (t) => {
  const { local, peer, received } = await pair(t);
  const c = batchable(local);
  for (const part of ['a', 'bb', 'ccc']) { joinWriteBatch(c); local.write(part); }
  // Unbatched, an idle socket writes at once and holds nothing.
  assert.equal(local.writableLength, 6);
  assert.equal(c.batched, true);
  await turn();
  assert.equal(local.writableLength, 0);
  assert.equal(c.batched, false);
  while (received().length < 6) await once(peer, 'data');
  assert.equal(received().toString(), 'abbccc');
});

test('a socket joins a batch once per turn and the next turn starts a new batch', async (t) => {
  const { local, peer, received } = await pair(t);
  const c = batchable(local);
  joinWriteBatch(c); joinWriteBatch(c); local.write('x');
  assert.equal(local.writableCorked, 1);
  await turn();
  assert.equal(local.writableCorked, 0);
  joinWriteBatch(c); local.write('y');
  assert.equal(local.writableCorked, 1);
  await turn();
  assert.equal(local.writableCorked, 0);
  while (received().length < 2) await once(peer, 'data');
  assert.equal(received().toString(), 'xy');
});

test('backpressure still shows: a batched write past the high-water mark returns false and drain follows', async (t) => {
  const { local, peer } = await pair(t);
  peer.resume();
  const c = batchable(local);
  joinWriteBatch(c);
  const big = Buffer.alloc(local.writableHighWaterMark + 1, 1);
  assert.equal(local.write(big), false);
  await once(local, 'drain');
});

test('a write made while the batch flushes is not stranded', async (t) => {
  const { local, peer, received } = await pair(t);
  const c = batchable(local);
  const big = Buffer.alloc(local.writableHighWaterMark + 1, 1);
  joinWriteBatch(c);
  local.write(big);
  // The drain handler writes again: it must land in a later batch that is flushed too.
  local.once('drain', () => { joinWriteBatch(c); local.write('tail'); });
  const want = big.length + 4;
  while (received().length < want) await once(peer, 'data');
  assert.equal(received().subarray(big.length).toString(), 'tail');
  assert.equal(local.writableCorked, 0);
});

test('end() and destroy() inside a batch are safe: ended data arrives, the later flush is harmless', async (t) => {
  const a = await pair(t);
  const ca = batchable(a.local);
  joinWriteBatch(ca); a.local.write('bye');
  a.local.end();
  await a.ended;
  assert.equal(a.received().toString(), 'bye');

  const b = await pair(t);
  const cb = batchable(b.local);
  joinWriteBatch(cb); b.local.write('lost');
  b.local.destroy();
  await turn(); // the flush uncorks a destroyed socket: no throw
  assert.equal(cb.batched, false);
});
