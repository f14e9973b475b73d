import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as netConnect, type AddressInfo } from 'node:net';
import { connect as tlsConnect, createServer as createTlsServer, type Server } from 'node:tls';
import { startSwitchyard, freePort, type Switchyard } from './harness.js';

/*
 * TLS passthrough: Switchyard holds no certificate; it peeks the ClientHello, routes on the
 * server name and pipes the encrypted bytes. The certificate the client sees proves which
 * backend terminated the session.
 */

const dir = mkdtempSync(join(tmpdir(), 'swy-tls-'));

/** A self-signed certificate for `cn` made with the openssl CLI (test fixture only). */
function selfSigned(cn: string): { key: Buffer; cert: Buffer } {
  const key = join(dir, `${cn}.key`);
  const cert = join(dir, `${cn}.crt`);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '2',
    '-subj', `/CN=${cn}`, '-addext', `subjectAltName=DNS:${cn}`], { stdio: 'ignore' });
  return { key: readFileSync(key), cert: readFileSync(cert) };
}

let api: Server;
let web: Server;
let sy: Switchyard;

async function tlsBackend(name: string, cn: string): Promise<Server> {
  const s = createTlsServer(selfSigned(cn), (sock) => { sock.end(`${name}\n`); });
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return s;
}

before(async () => {
  api = await tlsBackend('api', 'api.example.com');
  web = await tlsBackend('web', 'www.example.org');
  const port = await freePort();
  const addr = (s: Server) => `127.0.0.1:${(s.address() as AddressInfo).port}`;
  sy = await startSwitchyard({
    workers: 1,
    listeners: [{
      name: 'tls', address: `127.0.0.1:${port}`, protocol: 'tls-passthrough', service: 'web',
      sni: [{ hosts: ['api.example.com'], service: 'api' }, { hosts: ['*.example.org'], service: 'web' }],
      timeouts: { header: '1s' },
    }],
    services: { api: { backends: [{ address: addr(api) }] }, web: { backends: [{ address: addr(web) }] } },
  });
});

after(async () => {
  await sy?.stop();
  api.close();
  web.close();
});

function hello(servername: string | undefined): Promise<{ cn: string; text: string }> {
  return new Promise((resolve, reject) => {
    const s = tlsConnect({ host: '127.0.0.1', port: sy.port, servername, rejectUnauthorized: false });
    let text = '';
    s.on('secureConnect', () => undefined);
    s.on('data', (d) => { text += d.toString(); });
    s.on('end', () => resolve({ cn: String(s.getPeerCertificate().subject?.CN), text }));
    s.on('error', reject);
  });
}

test('routes by SNI to the backend that holds the certificate, without terminating TLS', async () => {
  assert.deepEqual(await hello('api.example.com'), { cn: 'api.example.com', text: 'api\n' });
  assert.deepEqual(await hello('www.example.org'), { cn: 'www.example.org', text: 'web\n' });
  assert.deepEqual(await hello('deep.sub.example.org'), { cn: 'www.example.org', text: 'web\n' });
  // No SNI at all: the listener's default service.
  assert.deepEqual(await hello(undefined), { cn: 'www.example.org', text: 'web\n' });
});

test('malformed, truncated or missing ClientHellos are closed cleanly and the worker keeps serving', async () => {
  const send = (bytes: Buffer | string, end: boolean) => new Promise<string>((resolve) => {
    const s = netConnect(sy.port, '127.0.0.1', () => { s.write(bytes); if (end) s.end(); });
    let got = '';
    s.on('data', (d) => { got += d.toString('latin1'); });
    s.on('close', () => resolve(got));
    s.on('error', () => undefined);
  });
  assert.equal(await send('GET / HTTP/1.1\r\nHost: x\r\n\r\n', false), '');
  assert.equal(await send(Buffer.from([0x16, 0x03, 0x01, 0x00, 0xff, 0x01, 0x00]), true), ''); // truncated, then EOF
  assert.equal(await send(Buffer.from([0x16, 0x03, 0x01, 0x00, 0x05, 0x02, 0x00, 0x00, 0x01, 0x00]), false), ''); // not a ClientHello
  assert.equal(await send(Buffer.from([0x16, 0x03, 0x01]), false), ''); // silent after 3 bytes: cut at the 1 s head timeout
  assert.deepEqual(await hello('api.example.com'), { cn: 'api.example.com', text: 'api\n' });
});
