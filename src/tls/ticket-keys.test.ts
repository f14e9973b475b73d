import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Redis } from 'ioredis';
import { startRedis, type TestRedis } from '../../test/support/redis.js';
import { createCacheRedis, redisReady } from './session-cache.js';
import { SharedTicketKeys } from './ticket-keys.js';

/* The fleet's ticket keys in a real Redis: convergence, atomic rotation, local fallback, callback shapes. */

let redis: TestRedis;
const clients: Redis[] = [];
const stores: SharedTicketKeys[] = [];

before(async () => { redis = await startRedis(); });
after(async () => {
  for (const s of stores) s.close();
  for (const c of clients) c.disconnect();
  await redis?.close();
});

let n = 0;
/** A node: its own Redis client and key store, on a record key of its test. */
async function node(key: string, opts: { rotateEveryMs?: number; pollEveryMs?: number } = {}): Promise<SharedTicketKeys> {
  const client = createCacheRedis(redis.url, { timeoutMs: 500 });
  clients.push(client);
  await redisReady(client, 3000);
  const s = new SharedTicketKeys({ redis: client, key, ...opts });
  stores.push(s);
  return s;
}

async function until(what: string, cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const nameOf = (k: Buffer | undefined): Buffer => k!.subarray(0, 16);

test('two nodes converge on one record: current, next and previous are the same everywhere', async () => {
  const key = `t${n++}`;
  const a = await node(key);
  const b = await node(key);
  assert.equal(a.keys.shared, false);
  assert.equal(a.keys.generation, 0);
  assert.equal(await a.sync(), true);
  assert.equal(await b.sync(), true);
  for (const s of [a, b]) {
    assert.equal(s.keys.shared, true);
    assert.equal(s.keys.generation, 1);
    assert.equal(s.keys.current.length, 48);
    assert.equal(s.keys.next?.length, 48);
    assert.equal(s.keys.previous, undefined);
  }
  assert.ok(a.keys.current.equals(b.keys.current));
  assert.ok(a.keys.next!.equals(b.keys.next!));
  assert.ok(!a.keys.current.equals(a.keys.next!));
});

test('concurrent forced rotations from two nodes advance one generation; next becomes current', async () => {
  const key = `t${n++}`;
  const a = await node(key);
  const b = await node(key);
  await a.sync();
  await b.sync();
  const before1 = a.keys;
  await Promise.all([a.rotate(), b.rotate()]);
  await a.sync();
  await b.sync();
  for (const s of [a, b]) {
    assert.equal(s.keys.generation, 2);
    assert.ok(s.keys.current.equals(before1.next!));
    assert.ok(s.keys.previous!.equals(before1.current));
  }
  assert.ok(a.keys.next!.equals(b.keys.next!));
});

test('a rotation falls due on Redis time once per interval, however many nodes poll', async () => {
  const key = `t${n++}`;
  const nodes = await Promise.all([0, 1, 2].map(() => node(key, { rotateEveryMs: 300 })));
  await Promise.all(nodes.map((s) => s.sync()));
  assert.deepEqual(nodes.map((s) => s.keys.generation), [1, 1, 1]);
  await Promise.all(nodes.map((s) => s.sync()));
  assert.deepEqual(nodes.map((s) => s.keys.generation), [1, 1, 1], 'not due yet');
  await new Promise((r) => setTimeout(r, 350));
  await Promise.all(nodes.map((s) => s.sync()));
  assert.deepEqual(nodes.map((s) => s.keys.generation), [2, 2, 2]);
});

test('polling picks up a rotation made by another node', async () => {
  const key = `t${n++}`;
  const a = await node(key, { pollEveryMs: 50 });
  const b = await node(key);
  await a.start();
  await b.sync();
  await b.rotate();
  await until('node a to adopt generation 2', () => a.keys.generation === 2);
  assert.ok(a.keys.current.equals(b.keys.current));
});

test('the callback encrypts with current, accepts current and next, renews previous, refuses others in the shape Node needs', async () => {
  const key = `t${n++}`;
  const a = await node(key);
  await a.sync();
  await a.rotate();
  const { current, next, previous } = a.keys;
  const enc = a.ticketKeyCallback(Buffer.alloc(16), Buffer.alloc(16), true);
  assert.equal(enc.length, 5);
  assert.equal(enc[0], 1);
  assert.ok((enc[1] as Buffer).equals(current.subarray(16, 32)));
  assert.ok((enc[2] as Buffer).equals(current.subarray(32, 48)));
  assert.ok((enc[3] as Buffer).equals(nameOf(current)));
  assert.equal((enc[4] as Buffer).length, 16);
  assert.equal(a.ticketKeyCallback(nameOf(current), Buffer.alloc(16), false)[0], 1);
  assert.equal(a.ticketKeyCallback(nameOf(next), Buffer.alloc(16), false)[0], 1);
  const old = a.ticketKeyCallback(nameOf(previous), Buffer.alloc(16), false);
  assert.equal(old[0], 2);
  assert.ok((old[2] as Buffer).equals(previous!.subarray(32, 48)));
  // A bare [0] would abort Node (it reads two buffers whatever the code): both must be there.
  const refused = a.ticketKeyCallback(Buffer.alloc(16, 9), Buffer.alloc(16), false);
  assert.equal(refused[0], 0);
  assert.ok(Buffer.isBuffer(refused[1]) && (refused[1] as Buffer).length === 16);
  assert.ok(Buffer.isBuffer(refused[2]) && (refused[2] as Buffer).length === 16);
  assert.deepEqual({ issued: a.stats.issued, accepted: a.stats.accepted, renewed: a.stats.renewed, rejected: a.stats.rejected },
    { issued: 1, accepted: 2, renewed: 1, rejected: 1 });
});

test('a node that starts while Redis is down uses a local key, then adopts the fleet keys and still takes its local tickets', { timeout: 20_000 }, async () => {
  const key = `t${n++}`;
  const a = await node(key);
  await a.sync();
  await redis.stop();
  const client = createCacheRedis(redis.url);
  clients.push(client);
  const c = new SharedTicketKeys({ redis: client, key, pollEveryMs: 100 });
  stores.push(c);
  const t0 = Date.now();
  await c.start(1000);
  assert.ok(Date.now() - t0 < 1500, 'start() does not hang on a dead Redis');
  assert.equal(c.keys.shared, false);
  const local = c.keys.current;
  await redis.start(); // empty dataset: the fleet record is created anew
  await until('the late node to adopt the shared keys', () => c.keys.shared, 10_000);
  for (const end = Date.now() + 10_000; !(await a.sync());) { // a's client reconnects with back-off
    if (Date.now() > end) assert.fail('node a never reached Redis again');
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.ok(c.keys.current.equals(a.keys.current));
  assert.equal(c.ticketKeyCallback(nameOf(local), Buffer.alloc(16), false)[0], 2, 'local tickets still resume (renewed)');
});
