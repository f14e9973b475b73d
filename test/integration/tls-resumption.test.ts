import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { constants } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type SecureVersion } from 'node:tls';
import { startBackends, startSwitchyard, freePort, baseConfig, type Backend, type Switchyard } from './harness.js';
import { startRedis, type TestRedis } from '../support/redis.js';

/*
 * The design's L2 cache: two Switchyard nodes share TLS sessions and ticket keys through one real
 * Redis, so a client resumes on the other node; with Redis gone, handshakes still succeed.
 */

const dir = mkdtempSync(join(tmpdir(), 'swy-resume-'));
const key = join(dir, 'site.key');
const cert = join(dir, 'site.crt');
let redis: TestRedis;
let backends: Backend[];
let nodes: Switchyard[] = [];

before(async () => {
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert,
    '-days', '2', '-subj', '/CN=site.test', '-addext', 'subjectAltName=DNS:site.test'], { stdio: 'ignore' });
  redis = await startRedis();
  backends = await startBackends(1);
  nodes = [];
  for (let i = 0; i < 2; i++) {
    const port = await freePort();
    nodes.push(await startSwitchyard(baseConfig(port, { app: { backends: [{ address: backends[0].address }] } }, undefined, {
      workers: 2,
      listeners: [{ name: 'site', address: `127.0.0.1:${port}`, protocol: 'https', tls: { certificates: [{ cert, key }] } }],
      tlsSessionCache: { redis: redis.url, timeout: '100ms' },
    })));
  }
});

after(async () => {
  for (const n of nodes) await n.stop();
  await Promise.all(backends.map((b) => b.close()));
  await redis?.close();
});

interface Result { reused: boolean; session: Buffer | undefined; status: string; protocol: string | null }

/** One HTTPS request on a fresh TLS connection (optionally resuming `session`). */
function get(port: number, version: SecureVersion, opts: { session?: Buffer; noTickets?: boolean } = {}): Promise<Result> {
  return new Promise((resolve, reject) => {
    const s = connect({
      host: '127.0.0.1', port, servername: 'site.test', rejectUnauthorized: false, minVersion: version, maxVersion: version,
      session: opts.session, ALPNProtocols: ['http/1.1'], secureOptions: opts.noTickets === true ? constants.SSL_OP_NO_TICKET : 0,
    });
    let reused = false;
    let protocol: string | null = null;
    let session: Buffer | undefined;
    let data = '';
    const timer = setTimeout(() => { s.destroy(); reject(new Error('request timed out')); }, 5000);
    s.on('secureConnect', () => { reused = s.isSessionReused(); protocol = s.getProtocol(); s.write('GET / HTTP/1.1\r\nHost: site.test\r\nConnection: close\r\n\r\n'); });
    s.on('session', (x: Buffer) => { session = x; });
    s.on('data', (d: Buffer) => { data += d.toString(); });
    s.on('error', (e) => { clearTimeout(timer); reject(e); });
    s.on('close', () => { clearTimeout(timer); resolve({ reused, session, status: data.slice(0, 12), protocol }); });
  });
}

test('a TLS 1.2 session ID made on node 1 resumes on node 2 (shared cache in Redis)', async () => {
  const first = await get(nodes[0].port, 'TLSv1.2', { noTickets: true });
  assert.equal(first.status, 'HTTP/1.1 200');
  assert.equal(first.reused, false);
  assert.ok(first.session);
  // The session is stored in Redis after the handshake, in the background.
  let again: Result | undefined;
  for (let i = 0; i < 20; i++) {
    again = await get(nodes[1].port, 'TLSv1.2', { session: first.session, noTickets: true });
    if (again.reused) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.equal(again!.reused, true, 'resumed on the other node');
  assert.equal(again!.status, 'HTTP/1.1 200');
});

test('a TLS 1.3 ticket and a TLS 1.2 ticket made on node 1 resume on node 2 (shared ticket keys)', async () => {
  for (const version of ['TLSv1.3', 'TLSv1.2'] as const) {
    const first = await get(nodes[0].port, version);
    assert.equal(first.protocol, version);
    assert.ok(first.session, `${version}: a ticket was issued`);
    const again = await get(nodes[1].port, version, { session: first.session });
    assert.equal(again.reused, true, `${version} ticket resumed on the other node`);
    assert.equal(again.status, 'HTTP/1.1 200');
  }
});

test('with Redis stopped, handshakes still succeed promptly (full handshakes), and resume again once it is back', { timeout: 60_000 }, async () => {
  await redis.stop();
  const started = Date.now();
  for (let i = 0; i < 10; i++) {
    const r = await get(nodes[i % 2].port, 'TLSv1.2', { noTickets: true });
    assert.equal(r.status, 'HTTP/1.1 200');
  }
  const ms = Date.now() - started;
  assert.ok(ms < 4000, `10 handshakes took ${ms} ms with Redis down`);
  // A session made on node 1 cannot reach node 2 without Redis: a full handshake, not an error.
  const s = await get(nodes[0].port, 'TLSv1.2', { noTickets: true });
  const other = await get(nodes[1].port, 'TLSv1.2', { session: s.session, noTickets: true });
  assert.equal(other.status, 'HTTP/1.1 200');
  assert.equal(other.reused, false);

  await redis.start();
  let reused = false;
  for (let i = 0; i < 40 && !reused; i++) {
    await new Promise((r) => setTimeout(r, 250));
    const made = await get(nodes[0].port, 'TLSv1.2', { noTickets: true });
    await new Promise((r) => setTimeout(r, 50));
    reused = (await get(nodes[1].port, 'TLSv1.2', { session: made.session, noTickets: true })).reused;
  }
  assert.equal(reused, true, 'resumption across nodes works again after Redis is back');
});
