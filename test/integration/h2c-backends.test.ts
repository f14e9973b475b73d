// engine-independent: this file sets its own engines or starts no data plane, so the suite runs it once (package.json "test").
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { connect as h2connect, createServer as createH2Server, type Http2Server } from 'node:http2';
import { request } from 'undici';
import { startSwitchyard, freePort, baseConfig, type Switchyard } from './harness.js';
import { CLI } from './harness.js';

/* Services with `backendProtocol: h2c`: cleartext HTTP/2 backends (gRPC-style), reached from HTTP/1.1 and HTTP/2 clients. */

const dir = mkdtempSync(join(tmpdir(), 'swy-h2c-'));
const key = join(dir, 'site.key');
const cert = join(dir, 'site.crt');
let backend: Http2Server;
let backendAddress: string;
let sy: Switchyard;
let httpsPort: number;

before(async () => {
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert,
    '-days', '2', '-subj', '/CN=site.test'], { stdio: 'ignore' });
  // An h2c-only backend: it speaks HTTP/2 frames from the first byte and nothing else.
  backend = createH2Server();
  backend.on('stream', (stream, headers) => {
    const chunks: Buffer[] = [];
    stream.on('data', (d: Buffer) => chunks.push(d));
    stream.on('end', () => {
      stream.respond({ ':status': 200, 'content-type': 'application/json', 'x-backend': 'h2c' });
      stream.end(JSON.stringify({ path: headers[':path'], method: headers[':method'], authority: headers[':authority'], proto: headers['x-forwarded-proto'], body: Buffer.concat(chunks).toString() }));
    });
  });
  await new Promise<void>((resolve) => backend.listen(0, '127.0.0.1', resolve));
  backendAddress = `127.0.0.1:${(backend.address() as AddressInfo).port}`;
  const port = await freePort();
  httpsPort = await freePort();
  sy = await startSwitchyard(baseConfig(port, { grpc: { backends: [{ address: backendAddress }], backendProtocol: 'h2c' } }, undefined, {
    listeners: [
      { name: 'web', address: `127.0.0.1:${port}`, engine: 'node' },
      { name: 'tls', address: `127.0.0.1:${httpsPort}`, protocol: 'https', engine: 'node', tls: { certificates: [{ cert, key }] } },
    ],
  }));
});

after(async () => {
  await sy?.stop();
  backend?.close();
});

test('an HTTP/1.1 client reaches an h2c backend: method, path, body and authority carried over', async () => {
  const r = await request(`${sy.url}/svc/Method?x=1`, { method: 'POST', body: 'payload', headers: { host: 'api.test' } });
  assert.equal(r.statusCode, 200);
  assert.equal(r.headers['x-backend'], 'h2c');
  const seen = await r.body.json() as Record<string, string>;
  assert.deepEqual(seen, { path: '/svc/Method?x=1', method: 'POST', authority: 'api.test', proto: 'http', body: 'payload' });
});

test('an HTTP/2 client on an https listener reaches the h2c backend', async () => {
  const s = h2connect(`https://127.0.0.1:${httpsPort}`, { rejectUnauthorized: false });
  try {
    const body = await new Promise<string>((resolve, reject) => {
      const st = s.request({ ':path': '/h2/path', ':authority': 'api.test' });
      let out = '';
      st.on('data', (d: Buffer) => { out += d.toString(); });
      st.on('end', () => resolve(out));
      st.on('error', reject);
    });
    const seen = JSON.parse(body);
    assert.equal(seen.path, '/h2/path');
    assert.equal(seen.proto, 'https');
  } finally {
    s.close();
  }
});

test('a route from a fast-engine listener to an h2c service is rejected with its path and reason', () => {
  const cfgPath = join(dir, 'bad.json');
  const cfg = baseConfig(8080, { grpc: { backends: [{ address: backendAddress }], backendProtocol: 'h2c' } });
  execFileSync('sh', ['-c', `cat > ${cfgPath}`], { input: JSON.stringify({ ...cfg, listeners: [{ name: 'web', address: '127.0.0.1:1', engine: 'fast' }] }) });
  let out = '';
  try {
    execFileSync(process.execPath, [CLI, 'validate', '-c', cfgPath], { encoding: 'utf8', stdio: 'pipe' });
  } catch (e) {
    out = String((e as { stdout: string; stderr: string }).stdout) + String((e as { stderr: string }).stderr);
  }
  assert.match(out, /routes\[0\]\.service: service "grpc" has h2c backends; the listeners serving this route must use engine: node/);
});
