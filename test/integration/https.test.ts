import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { startBackends, startSwitchyard, freePort, baseConfig, sleep, type Backend, type Switchyard } from './harness.js';

/* TLS termination on an https listener: certificates by SNI, a default, TLS 1.2 floor, hot reload. */

const dir = mkdtempSync(join(tmpdir(), 'swy-https-'));

function makeCert(name: string, cn: string, san: string): { cert: string; key: string } {
  const key = join(dir, `${name}.key`);
  const cert = join(dir, `${name}.crt`);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '2',
    '-subj', `/CN=${cn}`, '-addext', `subjectAltName=${san}`], { stdio: 'ignore' });
  return { cert, key };
}

let backends: Backend[];
let sy: Switchyard;
let apiCert: { cert: string; key: string };

before(async () => {
  backends = await startBackends(1, (req, res) => { req.resume(); res.end(`proto=${req.headers['x-forwarded-proto']} host=${req.headers.host}`); });
  const site = makeCert('site', 'default.test', 'DNS:default.test');
  apiCert = makeCert('api', 'api.example.com', 'DNS:api.example.com');
  const wild = makeCert('wild', 'example.org', 'DNS:*.example.org');
  const port = await freePort();
  sy = await startSwitchyard(baseConfig(port, { app: { backends: [{ address: backends[0].address }] } }, undefined, {
    listeners: [{ name: 'tls', address: `127.0.0.1:${port}`, protocol: 'https', tls: { certificates: [site, apiCert, wild] }, timeouts: { header: '600ms' } }],
  }));
});

after(async () => {
  await sy?.stop();
  await Promise.all(backends.map((b) => b.close()));
});

/** One HTTPS GET on a fresh TLS connection; returns the served certificate and the body. */
function get(servername: string | undefined, opts: { maxVersion?: 'TLSv1.1' | 'TLSv1.2' } = {}): Promise<{ cn: string; fingerprint: string; body: string; protocol: string | null }> {
  return new Promise((resolve, reject) => {
    const s = tlsConnect({ host: '127.0.0.1', port: sy.port, servername, rejectUnauthorized: false, ALPNProtocols: ['http/1.1'], ...opts });
    let data = '';
    s.on('secureConnect', () => s.write(`GET / HTTP/1.1\r\nHost: ${servername ?? 'x'}\r\nConnection: close\r\n\r\n`));
    s.on('data', (d) => { data += d.toString(); });
    s.on('end', () => {
      const c = s.getPeerCertificate();
      resolve({ cn: String(c.subject?.CN), fingerprint: c.fingerprint256, body: data.slice(data.indexOf('\r\n\r\n') + 4), protocol: s.getProtocol() });
    });
    s.on('error', reject);
  });
}

test('serves the certificate matching the SNI (exact, wildcard, default) and proxies with X-Forwarded-Proto https', async () => {
  const api = await get('api.example.com');
  assert.equal(api.cn, 'api.example.com');
  assert.equal(api.body, 'proto=https host=api.example.com');
  assert.equal((await get('shop.example.org')).cn, 'example.org');
  assert.equal((await get('unknown.test')).cn, 'default.test');
  assert.equal((await get(undefined)).cn, 'default.test');
});

test('a client that starts a TLS handshake and goes silent is closed after timeouts.header', async () => {
  const { connect } = await import('node:net');
  const t0 = Date.now();
  const ms = await new Promise<number>((resolve) => {
    const s = connect({ port: sy.port, host: '127.0.0.1' }, () => s.write(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00]))); // a record header, no hello
    s.on('error', () => undefined);
    s.resume();
    s.on('close', () => resolve(Date.now() - t0));
  });
  assert.ok(ms >= 500 && ms < 5_000, `closed after ${ms} ms (timeouts.header 600 ms; Node's own default would be 120 s)`);
  assert.equal((await get('api.example.com')).body, 'proto=https host=api.example.com');
});

test('refuses TLS below 1.2', async () => {
  await assert.rejects(get('api.example.com', { maxVersion: 'TLSv1.1' }));
  assert.match(String((await get('api.example.com', { maxVersion: 'TLSv1.2' })).protocol), /TLSv1\.2/);
});

test('a replaced certificate file is picked up without a restart', { timeout: 30_000 }, async () => {
  const before = (await get('api.example.com')).fingerprint;
  const fresh = makeCert('api-new', 'api.example.com', 'DNS:api.example.com');
  renameSync(fresh.key, apiCert.key);
  renameSync(fresh.cert, apiCert.cert);
  let after = before;
  for (let i = 0; i < 50 && after === before; i++) { await sleep(100); after = (await get('api.example.com')).fingerprint; }
  assert.notEqual(after, before);
  await sy.waitForLog(/"msg":"certificates reloaded"/, 5000);
});
