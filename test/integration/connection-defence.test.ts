import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { connect as tlsConnect, createServer as createTlsServer, type ConnectionOptions, type Server as TlsServer } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, createServer, type Server, type Socket, type AddressInfo } from 'node:net';
import { request } from 'undici';
import { startBackends, startSwitchyard, freePort, sleep, pollUntil, type Backend, type Switchyard } from './harness.js';

/*
 * Abuse defences at accept (issue 18, items 3 and 4), on real listeners: per-client concurrent
 * connection and new-connection-rate limits on tcp, http, https and tls-passthrough listeners (clients bound to
 * 127.0.0.2 and 127.0.0.3, so one client over its limit must not touch the other), a deny list
 * that a reload puts in force for the next connection, and the admin API's temporary blocks
 * with their expiry and audit.
 */

const A = '127.0.0.2';
const B = '127.0.0.3';
const dir = mkdtempSync(join(tmpdir(), 'swy-conn-defence-'));
const auditPath = join(dir, 'audit.log');
let http: Backend[];
let echo: Server;
let sy: Switchyard;
let admin: string;
let tcpPort: number;
let config: Record<string, unknown>;
const opened: Socket[] = [];

/** What happened to one connection: answered (and held open when `hold`), or closed unanswered. */
type Outcome = 'served' | 'closed';

/**
 * The one-time verdict on probe socket `s`: the first outcome wins; a served socket is kept open
 * when `hold` (closed at the end), else destroyed; no verdict within 2 s counts as closed.
 */
function settleOnce(s: Socket, hold: boolean, resolve: (o: Outcome) => void): (o: Outcome) => void {
  let settled = false;
  const done = (o: Outcome) => {
    if (settled) return;
    settled = true;
    clearTimeout(t);
    if (o === 'served' && hold) opened.push(s); else s.destroy();
    resolve(o);
  };
  const t = setTimeout(() => done('closed'), 2000);
  return done;
}

/** Connects from `from`, sends `payload`, and waits (≤ 2 s) for `expect` in the answer or the close. */
function probe(port: number, from: string, payload: string, expect: RegExp, hold = false): Promise<Outcome> {
  return new Promise((resolve) => {
    const s = connect({ port, host: '127.0.0.1', localAddress: from });
    let got = '';
    const done = settleOnce(s, hold, resolve);
    s.on('data', (d) => { got += d.toString('latin1'); if (expect.test(got)) done('served'); });
    s.on('error', () => done('closed'));
    s.on('close', () => done('closed'));
    s.on('connect', () => s.write(payload));
  });
}
const tcp = (from: string, hold = false) => probe(tcpPort, from, 'ping\n', /ping/, hold);

/** A TLS handshake from `from` (through an https listener, or a passthrough one to a TLS backend) and one echoed line. */
function tlsProbe(port: number, from: string, hold = false): Promise<Outcome> {
  return new Promise((resolve) => {
    // tls.connect hands localAddress to the TCP connect (its options type does not list it).
    const s = tlsConnect({ port, host: '127.0.0.1', localAddress: from, servername: 'defence.test', rejectUnauthorized: false } as ConnectionOptions);
    const done = settleOnce(s, hold, resolve);
    s.on('secureConnect', () => done('served'));
    s.on('error', () => done('closed'));
    s.on('close', () => done('closed'));
  });
}
const web = (port: number, from: string, hold = false) => probe(port, from, 'GET / HTTP/1.1\r\nhost: t\r\n\r\n', /^HTTP\/1\.1 200/, hold);

async function metrics(): Promise<string> {
  const r = await request(`${admin}/metrics`);
  return r.body.text();
}
function refused(text: string, listener: string, reason: string): number {
  const line = text.split('\n').find((l) => l.startsWith('switchyard_connections_refused_total{') && l.includes(`listener="${listener}"`) && l.includes(`reason="${reason}"`));
  return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1));
}
/**
 * Reads /metrics until every `[listener, reason, at least]` holds: the primary collects the
 * workers' counters once a second, and a collection may run late on a loaded machine.
 */
async function untilRefused(want: [listener: string, reason: string, atLeast: number][]): Promise<void> {
  await pollUntil(`refusals counted (${want.map(([l, r, n]) => `${l}/${r} ≥ ${n}`).join(', ')})`,
    async () => { const text = await metrics(); return want.map(([l, r]) => refused(text, l, r)); },
    (counts) => want.every(([, , n], i) => counts[i] >= n));
}
async function adminCall(method: string, path: string, body?: unknown) {
  const r = await request(`${admin}${path}`, { method: method as 'GET', headers: { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: r.statusCode, body: JSON.parse(await r.body.text()) as Record<string, unknown> };
}
const closeHeld = () => { for (const s of opened.splice(0)) s.destroy(); };

let webPort: number;
let ratePort: number;
let httpsPort: number;
let passPort: number;
let tlsEcho: TlsServer;

before(async () => {
  http = await startBackends(1);
  echo = createServer((s) => { s.on('error', () => undefined); s.pipe(s); });
  await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
  [tcpPort, webPort, ratePort, httpsPort, passPort] = [await freePort(), await freePort(), await freePort(), await freePort(), await freePort()];
  const key = join(dir, 'site.key');
  const cert = join(dir, 'site.crt');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '2',
    '-subj', '/CN=defence.test', '-addext', 'subjectAltName=DNS:defence.test'], { stdio: 'ignore' });
  tlsEcho = createTlsServer({ key: readFileSync(key), cert: readFileSync(cert) }, (s) => { s.on('error', () => undefined); s.pipe(s); });
  await new Promise<void>((r) => tlsEcho.listen(0, '127.0.0.1', r));
  const adminPort = await freePort();
  admin = `http://127.0.0.1:${adminPort}`;
  config = {
    workers: 1,
    listeners: [
      { name: 'web', address: `127.0.0.1:${webPort}`, clientLimits: { maxConnections: 3 } },
      { name: 'l4', address: `127.0.0.1:${tcpPort}`, protocol: 'tcp', service: 'echo', clientLimits: { maxConnections: 3 } },
      { name: 'rate', address: `127.0.0.1:${ratePort}`, clientLimits: { connectionRate: 2, connectionBurst: 4 } },
      { name: 'tls', address: `127.0.0.1:${httpsPort}`, protocol: 'https', tls: { certificates: [{ cert, key }] }, clientLimits: { maxConnections: 3 } },
      { name: 'pass', address: `127.0.0.1:${passPort}`, protocol: 'tls-passthrough', service: 'tlsecho', clientLimits: { maxConnections: 3 } },
    ],
    routes: [{ match: { path: { prefix: '/' } }, service: 'app' }],
    services: {
      app: { backends: [{ address: http[0].address }] },
      echo: { backends: [{ address: `127.0.0.1:${(echo.address() as AddressInfo).port}` }] },
      tlsecho: { backends: [{ address: `127.0.0.1:${(tlsEcho.address() as AddressInfo).port}` }] },
    },
    admin: { address: `127.0.0.1:${adminPort}`, auditLog: { path: auditPath } },
    access: { temporaryBlocks: { max: 2, maxTtl: '1m' } },
  };
  sy = await startSwitchyard(config);
});

after(async () => {
  closeHeld();
  await sy?.stop();
  await Promise.all(http.map((b) => b.close()));
  await new Promise<void>((r) => echo.close(() => r()));
  await new Promise<void>((r) => tlsEcho.close(() => r()));
});

const kinds = {
  tcp: { listener: 'l4', run: (from: string, hold?: boolean) => tcp(from, hold) },
  http: { listener: 'web', run: (from: string, hold?: boolean) => web(webPort, from, hold) },
  https: { listener: 'tls', run: (from: string, hold?: boolean) => tlsProbe(httpsPort, from, hold) },
  'tls-passthrough': { listener: 'pass', run: (from: string, hold?: boolean) => tlsProbe(passPort, from, hold) },
};

for (const [kind, { listener, run }] of Object.entries(kinds)) {
  test(`per-client concurrent connections on a ${kind} listener: the 4th of one client is closed at accept, another client is not affected`, async () => {
    const before = refused(await metrics(), listener, 'client-connections');
    try {
      for (let i = 0; i < 3; i++) assert.equal(await run(A, true), 'served', `connection ${i + 1} of ${A}`);
      assert.equal(await run(A), 'closed', `a 4th connection of ${A} is refused`);
      for (let i = 0; i < 3; i++) assert.equal(await run(B, true), 'served', `connection ${i + 1} of ${B} while ${A} is at its limit`);
      opened.shift()!.destroy(); // one of A's
      let again: Outcome = 'closed';
      for (let i = 0; i < 20 && again === 'closed'; i++) { await sleep(50); again = await run(A, true); }
      assert.equal(again, 'served', 'a closed connection frees its place');
    } finally { closeHeld(); }
    await untilRefused([[listener, 'client-connections', before + 1]]);
  });
}

test('new connections per second per client: a burst of 4, then about 2/s; another client keeps its own budget', async () => {
  let served = 0;
  const started = Date.now();
  for (let i = 0; i < 12; i++) if (await web(ratePort, A) === 'served') served++;
  const seconds = (Date.now() - started) / 1000;
  assert.ok(served >= 4 && served <= 4 + Math.ceil(2 * seconds) + 1, `${served} of 12 served in ${seconds.toFixed(2)} s`);
  assert.equal(await web(ratePort, B), 'served', `${B} is not limited by ${A}'s rate`);
  await untilRefused([['rate', 'client-rate', 12 - served]]);
});

test('a deny list put in by a reload refuses the next connection; removing it admits again', async () => {
  assert.equal(await web(webPort, A), 'served');
  const listeners = (config.listeners as Record<string, unknown>[]).map((l) => (l.name === 'web' ? { ...l, access: { deny: [`${A}/32`] } } : l));
  sy.writeConfig({ ...config, listeners });
  const r = await adminCall('POST', '/api/reload', {});
  assert.equal(r.body.result, 'applied', JSON.stringify(r.body));
  assert.equal(await web(webPort, A), 'closed', 'denied right after the reload');
  assert.equal(await web(webPort, B), 'served');
  assert.equal(await tcp(A), 'served', 'a listener-level rule applies to its listener only');
  sy.writeConfig({ ...config, access: { ...(config.access as object), deny: ['127.0.0.0/24'], allow: [`${B}/32`] } });
  assert.equal((await adminCall('POST', '/api/reload', {})).body.result, 'applied');
  assert.equal(await web(webPort, A), 'closed', 'a global rule (deny 127.0.0.0/24) applies to every listener');
  assert.equal(await tcp(A), 'closed');
  assert.equal(await web(webPort, B), 'served', 'the more specific allow of 127.0.0.3/32 wins');
  sy.writeConfig(config);
  assert.equal((await adminCall('POST', '/api/reload', {})).body.result, 'applied');
  assert.equal(await web(webPort, A), 'served', 'admitted again');
  await untilRefused([['web', 'denied', 2]]);
});

test('admin temporary blocks: in force on every listener at once, listed, bounded, removed, expired, audited', async () => {
  const add = await adminCall('POST', '/api/blocks', { cidr: B, ttl: '1500ms', reason: 'test flood' });
  assert.equal(add.status, 200, JSON.stringify(add.body));
  assert.equal((add.body.block as { cidr: string }).cidr, `${B}/32`);
  for (const [kind, k] of Object.entries(kinds)) assert.equal(await k.run(B), 'closed', `${kind} listener`);
  assert.equal(await web(webPort, A), 'served', 'another client is not blocked');
  // Guarded like every admin write: a cross-site form post (text/plain) or another origin cannot add one.
  const form = await request(`${admin}/api/blocks`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: JSON.stringify({ cidr: A, ttl: '1m' }) });
  assert.equal(form.statusCode, 415);
  await form.body.dump();
  const cross = await request(`${admin}/api/blocks`, { method: 'POST', headers: { 'content-type': 'application/json', origin: 'http://evil.example' }, body: JSON.stringify({ cidr: A, ttl: '1m' }) });
  assert.equal(cross.statusCode, 403);
  await cross.body.dump();
  const list = await adminCall('GET', '/api/blocks');
  assert.deepEqual((list.body.blocks as { cidr: string }[]).map((b) => b.cidr), [`${B}/32`]);
  assert.equal((await adminCall('POST', '/api/blocks', { cidr: '10.0.0.1/8', ttl: '1m' })).status, 400, 'host bits past the prefix');
  assert.equal((await adminCall('POST', '/api/blocks', { cidr: '192.0.2.0/24', ttl: '2h' })).status, 400, 'over maxTtl');
  assert.equal((await adminCall('POST', '/api/blocks', { cidr: '2001:db8::/32', ttl: '1m' })).status, 200);
  assert.equal((await adminCall('POST', '/api/blocks', { cidr: '192.0.2.0/24', ttl: '1m' })).status, 409, 'max 2 blocks');
  assert.equal((await adminCall('DELETE', '/api/blocks/2001%3Adb8%3A%3A%2F32')).status, 200);
  assert.equal((await adminCall('DELETE', '/api/blocks/2001:db8::/32')).status, 404, 'already removed');
  await sleep(1700);
  assert.equal(await web(webPort, B), 'served', 'the block expired');
  assert.deepEqual((await adminCall('GET', '/api/blocks')).body.blocks, []);
  const audit = readFileSync(auditPath, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { action: string; target?: string; result: string });
  assert.ok(audit.some((e) => e.action === 'block' && e.target === `${B}/32` && e.result === 'ok'));
  assert.ok(audit.some((e) => e.action === 'block' && e.result === 'failed'));
  assert.ok(audit.some((e) => e.action === 'unblock' && e.target === '2001:db8::/32' && e.result === 'ok'));
  await untilRefused(Object.values(kinds).map(({ listener }) => [listener, 'blocked', 1]));
});

test('two workers (the primary hands connections out round-robin): a temporary block and the per-client limit hold on both', async () => {
  const port = await freePort();
  const adminPort = await freePort();
  const two = await startSwitchyard({
    workers: 2,
    listeners: [{ name: 'web', address: `127.0.0.1:${port}`, clientLimits: { maxConnections: 4 } }],
    routes: [{ match: { path: { prefix: '/' } }, service: 'app' }],
    services: { app: { backends: [{ address: http[0].address }] } },
    admin: { address: `127.0.0.1:${adminPort}`, auditLog: { path: join(dir, 'two-audit.log') } },
  });
  try {
    const r = await request(`http://127.0.0.1:${adminPort}/api/blocks`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ cidr: `${B}/32`, ttl: '1m' }) });
    assert.equal(r.statusCode, 200, await r.body.text());
    const outcomes = [];
    for (let i = 0; i < 8; i++) outcomes.push(await web(port, B));
    assert.deepEqual(outcomes, new Array(8).fill('closed'), 'every connection refused, whichever worker took it');
    // 4 per node = 2 per worker: A holds at most 4 connections in all, spread as the primary hands them out.
    const held = [];
    for (let i = 0; i < 8; i++) held.push(await web(port, A, true));
    const served = held.filter((o) => o === 'served').length;
    assert.ok(served >= 2 && served <= 4, `${served} of 8 held connections admitted (limit 4 per node, 2 per worker)`);
  } finally {
    closeHeld();
    await two.stop();
  }
});
