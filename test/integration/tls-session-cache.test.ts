// engine-independent: this file sets its own engines or starts no data plane, so the suite runs it once (package.json "test").
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { constants } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, createSecureContext, createServer, type Server, type SecureVersion } from 'node:tls';
import type { AddressInfo } from 'node:net';
import type { Redis } from 'ioredis';
import { startRedis, type TestRedis } from '../support/redis.js';
import {
  attachSessionCache, createCacheRedis, redisReady, resumptionServerOptions, sessionProtocolVersion, sessionIdContext,
  DEFAULT_SESSION_KEY_PREFIX, type CacheLog, type SessionCache,
} from '../../src/tls/session-cache.js';
import { SharedTicketKeys } from '../../src/tls/ticket-keys.js';

/*
 * Two tls.Server instances with the same certificate stand for two nodes of a fleet sharing one
 * real redis-server: sessions made on one resume on the other, by session ID and by ticket, TLS
 * 1.2 and 1.3, across key rotations, and Redis trouble only ever costs full handshakes.
 */

const dir = mkdtempSync(join(tmpdir(), 'swy-tls-cache-'));
execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
  '-subj', '/CN=localhost', '-days', '1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
const cert = readFileSync(join(dir, 'cert.pem'));
const key = readFileSync(join(dir, 'key.pem'));

const TIMEOUT_MS = 75;
let redis: TestRedis;
const cleanups: Array<() => Promise<void> | void> = [];

before(async () => { redis = await startRedis(); });
after(async () => {
  for (const c of cleanups.reverse()) await c();
  await redis?.close();
  rmSync(dir, { recursive: true, force: true });
});

interface NodeUnderTest { server: Server; port: number; cache: SessionCache; keys: SharedTicketKeys; client: Redis }
interface NodeOptions { noTickets?: boolean; sni?: boolean; stallPauseMs?: number; log?: CacheLog }

let fleets = 0;

/** Two nodes sharing one Redis (each with its own client, key prefix and ticket record of this test). */
async function fleet(opts: NodeOptions = {}): Promise<[NodeUnderTest, NodeUnderTest]> {
  const id = fleets++;
  const make = async (): Promise<NodeUnderTest> => {
    const client = createCacheRedis(redis.url, { timeoutMs: TIMEOUT_MS, log: opts.log });
    await redisReady(client, 3000);
    const sniContext = createSecureContext({ cert, key });
    const server = createServer({
      cert, key, ...resumptionServerOptions(),
      secureOptions: opts.noTickets === true ? constants.SSL_OP_NO_TICKET : 0,
      ...(opts.sni === true ? { SNICallback: (_name: string, cb: (e: Error | null, c: typeof sniContext) => void) => cb(null, sniContext) } : {}),
    }, (s) => { s.on('error', () => undefined); s.end('ok'); });
    server.on('tlsClientError', () => undefined);
    const cache = attachSessionCache(server, { redis: client, keyPrefix: `${DEFAULT_SESSION_KEY_PREFIX}${id}:`, timeoutMs: TIMEOUT_MS, stallPauseMs: opts.stallPauseMs });
    const keys = new SharedTicketKeys({ redis: client, key: `switchyard:test:ticket-keys:${id}`, pollEveryMs: 200 });
    assert.equal(keys.attach(server), 'callback');
    await keys.start();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const node = { server, port: (server.address() as AddressInfo).port, cache, keys, client };
    cleanups.push(async () => { keys.close(); cache.detach(); client.disconnect(); await new Promise((r) => server.close(r)); });
    return node;
  };
  return [await make(), await make()];
}

interface Handshake { reused: boolean; session: Buffer | undefined; ticket: Buffer | undefined; ms: number; protocol: string | null }

/** One TLS connection: waits for the server's close, collects the last session (ticket) it was given. */
function handshake(node: NodeUnderTest, version: SecureVersion, opts: { session?: Buffer; clientNoTickets?: boolean } = {}): Promise<Handshake> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    let ms = 0;
    let reused = false;
    let protocol: string | null = null;
    let session: Buffer | undefined;
    let ticket: Buffer | undefined;
    const s = connect({
      host: '127.0.0.1', port: node.port, servername: 'localhost', rejectUnauthorized: false,
      minVersion: version, maxVersion: version, session: opts.session,
      secureOptions: opts.clientNoTickets === true ? constants.SSL_OP_NO_TICKET : 0,
    });
    const timer = setTimeout(() => { s.destroy(); reject(new Error('handshake timed out')); }, 5000);
    s.on('secureConnect', () => { ms = performance.now() - t0; reused = s.isSessionReused(); protocol = s.getProtocol(); ticket = s.getTLSTicket(); });
    s.on('session', (x: Buffer) => { session = x; });
    s.on('data', () => undefined);
    s.on('error', (e) => { clearTimeout(timer); reject(e); });
    s.on('close', () => { clearTimeout(timer); resolve({ reused, session, ticket, ms, protocol }); });
  });
}

async function until(what: string, cond: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const sessionKeys = (client: Redis, id: number): Promise<string[]> => client.keys(`${DEFAULT_SESSION_KEY_PREFIX}${id}:*`);

test('the fleet session ID context is fixed and 32 characters; sessionTimeout matches the one-hour TTL', () => {
  assert.equal(sessionIdContext(), sessionIdContext('switchyard'));
  assert.equal(sessionIdContext().length, 32);
  assert.notEqual(sessionIdContext('a'), sessionIdContext('b'));
  assert.deepEqual(resumptionServerOptions(), { sessionIdContext: sessionIdContext(), sessionTimeout: 3600 });
});

test('the protocol version is read from DER sessions and garbage yields undefined', () => {
  // SEQUENCE (long form) { INTEGER 1, INTEGER 0x0304, ... } and the short form with 0x0303
  assert.equal(sessionProtocolVersion(Buffer.from('308180020101020203040402', 'hex')), 0x0304);
  assert.equal(sessionProtocolVersion(Buffer.from('307c020101020203030402c0', 'hex')), 0x0303);
  assert.equal(sessionProtocolVersion(Buffer.from('deadbeef', 'hex')), undefined);
  assert.equal(sessionProtocolVersion(Buffer.alloc(0)), undefined);
});

test('TLS 1.2 by session ID: a session made on node 1 resumes on node 2 through Redis (TTL one hour)', async () => {
  const [n1, n2] = await fleet({ noTickets: true });
  const first = await handshake(n1, 'TLSv1.2');
  assert.equal(first.reused, false);
  await until('the session to be stored', () => n1.cache.stats.stored === 1);
  const [stored] = await sessionKeys(n1.client, fleets - 1);
  const pttl = await n1.client.pttl(stored);
  assert.ok(pttl > 3_590_000 && pttl <= 3_600_000, `PTTL ${pttl}`);
  const again = await handshake(n2, 'TLSv1.2', { session: first.session });
  assert.equal(again.reused, true);
  assert.equal(again.protocol, 'TLSv1.2');
  assert.equal(n2.cache.stats.hits, 1);
  assert.equal(n2.cache.stats.resumedHandshakes, 1);
  assert.equal(n1.cache.stats.fullHandshakes, 1);
});

test('TLS 1.2 client without ticket support resumes by session ID on servers that issue tickets', async () => {
  const [n1, n2] = await fleet();
  const first = await handshake(n1, 'TLSv1.2', { clientNoTickets: true });
  await until('the session to be stored', () => n1.cache.stats.stored === 1);
  const again = await handshake(n2, 'TLSv1.2', { clientNoTickets: true, session: first.session });
  assert.equal(again.reused, true);
  assert.equal(n2.cache.stats.hits, 1);
});

test('TLS 1.2 by ticket: a ticket made on node 1 resumes on node 2 without any Redis lookup', async () => {
  const [n1, n2] = await fleet();
  const first = await handshake(n1, 'TLSv1.2');
  const again = await handshake(n2, 'TLSv1.2', { session: first.session });
  assert.equal(again.reused, true);
  assert.deepEqual(again.ticket, first.ticket, 'a ticket under the current key is not renewed');
  assert.equal(n2.keys.stats.accepted, 1);
  assert.equal(n2.cache.stats.hits + n2.cache.stats.misses, 0);
  assert.equal(n1.cache.stats.stored, 0, 'a session given a ticket is not stored');
});

test('TLS 1.3: a ticket made on node 1 resumes on node 2, and TLS 1.3 sessions are never written to Redis', async () => {
  const [n1, n2] = await fleet();
  const first = await handshake(n1, 'TLSv1.3');
  assert.equal(first.protocol, 'TLSv1.3');
  assert.ok(first.session !== undefined);
  const again = await handshake(n2, 'TLSv1.3', { session: first.session });
  assert.equal(again.reused, true);
  assert.equal(n2.keys.stats.accepted, 1);
  await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(await sessionKeys(n1.client, fleets - 1), []);
  assert.equal(n1.cache.stats.stored + n2.cache.stats.stored, 0);
});

test('with SNICallback contexts, TLS 1.2 and TLS 1.3 tickets still resume across nodes', async () => {
  const [n1, n2] = await fleet({ sni: true });
  for (const v of ['TLSv1.2', 'TLSv1.3'] as const) {
    const first = await handshake(n1, v);
    const again = await handshake(n2, v, { session: first.session });
    assert.equal(again.reused, true, v);
  }
  assert.equal(n2.keys.stats.accepted, 2);
});

test('after a rotation a ticket under the previous key resumes (TLS 1.2 gets a fresh ticket); a node that has not polled yet reads tickets under the new key', async () => {
  const [n1, n2] = await fleet();
  const old12 = await handshake(n1, 'TLSv1.2');
  const old13 = await handshake(n1, 'TLSv1.3');
  assert.equal(await n1.keys.rotate(), true);
  await n2.keys.sync();
  assert.equal(n2.keys.keys.generation, n1.keys.keys.generation);
  const r12 = await handshake(n2, 'TLSv1.2', { session: old12.session });
  assert.equal(r12.reused, true);
  assert.ok(r12.ticket !== undefined && old12.ticket !== undefined);
  assert.notDeepEqual(r12.ticket, old12.ticket, 'renewed: a new ticket under the current key');
  assert.deepEqual(r12.ticket.subarray(0, 16), n2.keys.keys.current.subarray(0, 16), 'the ticket names the current key');
  assert.equal((await handshake(n2, 'TLSv1.3', { session: old13.session })).reused, true);
  assert.equal(n2.keys.stats.renewed, 2);

  // n1 rotates again; n2 has not polled, yet the new current key is n2's `next`.
  n2.keys.close();
  assert.equal(await n1.keys.rotate(), true);
  assert.notEqual(n2.keys.keys.generation, n1.keys.keys.generation);
  for (const v of ['TLSv1.2', 'TLSv1.3'] as const) {
    const fresh = await handshake(n1, v);
    assert.equal((await handshake(n2, v, { session: fresh.session })).reused, true, v);
  }
});

test('after setSecureContext() the server must be re-attached; then tickets resume again', async () => {
  const [n1, n2] = await fleet();
  n1.server.setSecureContext({ cert, key, ...resumptionServerOptions() });
  const lost = await handshake(n1, 'TLSv1.3');
  assert.equal((await handshake(n2, 'TLSv1.3', { session: lost.session })).reused, false, 'not re-attached: a random per-context key');
  assert.equal(n1.keys.reattach(n1.server), 'callback');
  const fresh = await handshake(n1, 'TLSv1.3');
  assert.equal((await handshake(n2, 'TLSv1.3', { session: fresh.session })).reused, true);
});

test('without the internal hook (simulated) the keys go in through setTicketKeys: current only, re-set at each rotation', async () => {
  const [n1, n2] = await fleet();
  const warnings: string[] = [];
  const stores = [n1, n2].map((n, i) => {
    const k = new SharedTicketKeys({ redis: n.client, key: `switchyard:test:ticket-keys:nohook`, log: (_l, msg) => warnings.push(msg) });
    cleanups.push(() => k.close());
    n.server.setSecureContext({ cert, key, ...resumptionServerOptions() }); // a fresh context, without the fleet's hook
    // Shadow the internal method on the native context, as on a Node without it.
    (n.server as unknown as { _sharedCreds: { context: Record<string, unknown> } })._sharedCreds.context.enableTicketKeyCallback = undefined;
    assert.equal(k.attach(n.server), 'set-ticket-keys', `node ${i + 1}`);
    return k;
  });
  assert.equal(warnings.length, 2);
  await stores[0].sync();
  await stores[1].sync();
  const first = await handshake(n1, 'TLSv1.3');
  assert.equal((await handshake(n2, 'TLSv1.3', { session: first.session })).reused, true);
  await stores[0].rotate();
  await stores[1].sync();
  assert.equal((await handshake(n2, 'TLSv1.3', { session: first.session })).reused, false, 'the previous key is not accepted');
  const fresh = await handshake(n2, 'TLSv1.3');
  assert.equal((await handshake(n1, 'TLSv1.3', { session: fresh.session })).reused, true);
});

test('Redis stopped: handshakes stay prompt (full, counted as errors), tickets still resume; after restart the cache works again', { timeout: 30_000 }, async () => {
  const logged: string[] = [];
  const [n1, n2] = await fleet({ noTickets: true, log: (level, msg) => logged.push(`${level} ${msg}`) });
  const [t1, t2] = await fleet();
  const made = await handshake(n1, 'TLSv1.2');
  await until('the session to be stored', () => n1.cache.stats.stored === 1);
  await redis.stop();
  await until('the clients to notice', () => n1.client.status !== 'ready' && n2.client.status !== 'ready', 5000);

  const errorsBefore = n2.cache.stats.errors;
  const fullBefore = n2.cache.stats.fullHandshakes;
  const down = await handshake(n2, 'TLSv1.2', { session: made.session });
  assert.equal(down.reused, false); // it completed: a lookup on a stopped Redis does not hold it
  assert.equal(n2.cache.stats.errors, errorsBefore + 2, 'the lookup and the store of the new session');
  assert.equal(n2.cache.stats.fullHandshakes, fullBefore + 1);
  const fresh = await handshake(n1, 'TLSv1.2');
  assert.equal(fresh.reused, false);
  assert.equal(n1.cache.stats.stored, 1, 'nothing stored while down');
  assert.equal(n1.cache.stats.errors, 1);

  // The ticket keys are in memory: ticket resumption across nodes goes on without Redis.
  const ticket = await handshake(t1, 'TLSv1.3');
  assert.equal((await handshake(t2, 'TLSv1.3', { session: ticket.session })).reused, true);

  await redis.start(); // empty: sessions stored before are gone
  await until('the clients to reconnect', () => n1.client.status === 'ready' && n2.client.status === 'ready', 10_000);
  const after = await handshake(n1, 'TLSv1.2');
  await until('the session to be stored', () => n1.cache.stats.stored === 2);
  assert.equal((await handshake(n2, 'TLSv1.2', { session: after.session })).reused, true);
  // Two clients, each: reachable at start, unreachable once (despite many failed reconnects), reachable again.
  assert.equal(logged.filter((l) => l.startsWith('warn')).length, 2, logged.join('\n'));
  assert.equal(logged.filter((l) => l.startsWith('info')).length, 4, logged.join('\n'));
});

test('a stalled Redis (SIGSTOP) holds a handshake at most the lookup timeout, then is bypassed until it answers again', { timeout: 30_000 }, async () => {
  await redis.start(); // no-op unless an earlier test left it stopped
  const [n1, n2] = await fleet({ noTickets: true, stallPauseMs: 1000 });
  const made = await handshake(n1, 'TLSv1.2');
  await until('the session to be stored', () => n1.cache.stats.stored === 1);
  redis.pause();
  try {
    const first = await handshake(n2, 'TLSv1.2', { session: made.session });
    // It completes although Redis never answers (the lookup timed out), and not before the timeout.
    assert.equal(first.reused, false);
    assert.ok(first.ms >= TIMEOUT_MS - 5, `stalled lookup took ${first.ms.toFixed(1)} ms`);
    // Lookups and the stores of the new sessions time out; after three in a row Redis is skipped.
    const later: number[] = [];
    for (let i = 0; i < 4; i++) {
      const h = await handshake(n2, 'TLSv1.2', { session: made.session });
      assert.equal(h.reused, false);
      later.push(h.ms);
    }
    // Bypassed: the last two wait for no lookup, so each is quicker than the one that waited out the
    // timeout (an order, not a bound: a loaded machine slows every handshake alike).
    assert.ok(later.slice(-2).every((ms) => ms < first.ms), `not bypassed: ${first.ms.toFixed(1)} ms, then ${later.map((ms) => ms.toFixed(1)).join(', ')} ms`);
    assert.ok(n2.cache.stats.errors >= 5);
  } finally {
    redis.resume();
  }
  await until('a resumption through Redis again', async () => (await handshake(n2, 'TLSv1.2', { session: made.session })).reused, 10_000);
  assert.equal(n2.cache.stats.hits, 1);
});
