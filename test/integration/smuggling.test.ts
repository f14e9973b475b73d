import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSwitchyard, freePort, type Switchyard } from './harness.js';
import { startRawBackend, type RawBackend } from '../smuggling/raw-backend.js';
import { CORPUS } from '../smuggling/corpus.js';
import { runVector, sendH1 } from '../smuggling/client.js';
import { meetsExpectation } from '../smuggling/verdict.js';

/*
 * The smuggling and route-bypass corpus (test/smuggling/corpus.ts) against a real Switchyard:
 * `/admin` is routed to a service with no backend (every answer a 503), everything else to a
 * raw backend that records every request it parses. For each vector, on a fresh connection: the
 * backend never serves anything under /admin, never sees a forbidden header, the next client's
 * request is answered normally, and the client got the answer the corpus expects.
 */

let backend: RawBackend;
let sy: Switchyard;
let h2Port: number;

before(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'swy-smuggle-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', join(dir, 'k.pem'),
    '-out', join(dir, 'c.pem'), '-days', '2', '-subj', '/CN=h.test', '-addext', 'subjectAltName=DNS:h.test'], { stdio: 'ignore' });
  backend = await startRawBackend();
  const port = await freePort();
  h2Port = await freePort();
  const quiet = { retries: { enabled: false }, outlierDetection: { enabled: false }, circuitBreaker: { enabled: false } };
  sy = await startSwitchyard({
    workers: 1,
    logLevel: 'info',
    listeners: [
      { name: 'web', address: `127.0.0.1:${port}` },
      { name: 'tls', address: `127.0.0.1:${h2Port}`, protocol: 'https', tls: { certificates: [{ cert: join(dir, 'c.pem'), key: join(dir, 'k.pem') }] } },
    ],
    routes: [
      { name: 'protected', match: { path: { prefix: '/admin' } }, service: 'denied' },
      { name: 'no-upgrades', match: { path: { prefix: '/ws-ok-plain' } }, service: 'app', upgrades: [] },
      { name: 'app', match: { path: { prefix: '/' } }, service: 'app' },
    ],
    services: { denied: { backends: [], ...quiet }, app: { backends: [{ address: backend.address }], ...quiet } },
  });
});

after(async () => {
  await sy?.stop();
  await backend?.close();
});

for (const v of CORPUS) {
  test(`${v.family} ${v.id}: ${v.title}`, { timeout: 10_000 }, async () => {
    const r = await runVector({ h1Port: sy.port, h2Port }, backend, v);
    assert.deepEqual(r.violations, [], `unsafe: ${r.violations.join('; ')}`);
    assert.ok(meetsExpectation(v, r.outcome!, r.fromVector),
      `expected ${v.expect}, got statuses ${JSON.stringify(r.outcome!.statuses)}, closed ${r.outcome!.closed}, backend saw ${JSON.stringify(r.fromVector.map((s) => `${s.method} ${s.url}`))}`);
  });
}

test('a route with upgrades: [] serves a WebSocket upgrade as a plain request (the backend never sees Upgrade)', async () => {
  const start = backend.seen.length;
  const r = await sendH1(sy.port, ['GET /ws-ok-plain HTTP/1.1\r\nHost: h.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n' +
    'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n']);
  assert.deepEqual(r.statuses, [200]);
  const seen = backend.seen.slice(start);
  assert.equal(seen.length, 1);
  const h = seen[0].headers;
  for (let i = 0; i < h.length; i += 2) {
    assert.ok(!/^upgrade$/i.test(h[i]) && !/upgrade/i.test(h[i + 1]), `forwarded ${h[i]}: ${h[i + 1]}`);
  }
});

test('the corpus has at least 60 vectors in every family it names', () => {
  assert.ok(CORPUS.length >= 60, `${CORPUS.length} vectors`);
  assert.equal(new Set(CORPUS.map((v) => v.id)).size, CORPUS.length, 'vector ids are unique');
});
