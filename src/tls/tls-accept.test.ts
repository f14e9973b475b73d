import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, createSecureContext, createServer, type ConnectionOptions, type TLSSocket } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { acceptWithoutNetSocket, canAcceptWithoutNetSocket, TlsConnection } from './tls-accept.js';

/*
 * The accept takeover: TLS connections handshaken on a bare TLSWrap must behave as tls.Server's
 * own sockets (handshake, SNI, ALPN, resumption, data both ways, close), and the takeover must really be
 * in place on the Node the project supports (else the fast engine silently loses it).
 */

function certificate(dir: string, name: string): { cert: Buffer; key: Buffer } {
  const cert = join(dir, `${name}.crt`);
  const key = join(dir, `${name}.key`);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert,
    '-days', '2', '-subj', `/CN=${name}`, '-addext', `subjectAltName=DNS:${name}`], { stdio: 'ignore' });
  return { cert: readFileSync(cert), key: readFileSync(key) };
}

test('TLS connections accepted on a bare TLSWrap: SNI, ALPN, echo, resumption, handshake deadline; no "connection" event', async () => {
  assert.ok(canAcceptWithoutNetSocket, 'this Node lacks the TLSSocket internals the fast engine uses');
  const dir = mkdtempSync(join(tmpdir(), 'swy-tls-accept-'));
  try {
    const a = certificate(dir, 'a.test');
    const b = certificate(dir, 'b.test');
    const contexts = { 'b.test': createSecureContext(b) };
    const sni = (name: string, cb: (err: Error | null, ctx?: ReturnType<typeof createSecureContext>) => void) => cb(null, contexts[name as 'b.test']);
    let netConnections = 0;
    let lean = 0;
    const server = createServer({ ...a, ALPNProtocols: ['h2', 'http/1.1'], SNICallback: sni }, (s: TLSSocket) => {
      if (s instanceof TlsConnection) lean++;
      s.on('data', (d: Buffer) => s.write(`${s.alpnProtocol}:${s.servername}:${d.toString()}`));
      s.on('end', () => s.end());
    });
    server.on('connection', () => { netConnections++; });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    let handshakeMs = 10_000;
    assert.equal(acceptWithoutNetSocket(server, sni, () => handshakeMs), true);
    const port = (server.address() as AddressInfo).port;

    const talk = (servername: string, session?: Buffer) => new Promise<{ text: string; subject: string; reused: boolean; session?: Buffer }>((resolve, reject) => {
      let saved: Buffer | undefined;
      const c = connect({ port, host: '127.0.0.1', servername, rejectUnauthorized: false, ALPNProtocols: ['http/1.1'], maxVersion: 'TLSv1.2', session });
      let text = '';
      c.on('session', (s: Buffer) => { saved = s; });
      c.on('secureConnect', () => c.end('ping'));
      c.on('data', (d: Buffer) => { text += d.toString(); });
      c.on('end', () => resolve({ text, subject: String(c.getPeerCertificate().subject?.CN), reused: c.isSessionReused(), session: saved ?? session }));
      c.on('error', reject);
    });
    const first = await talk('b.test');
    assert.equal(first.text, 'http/1.1:b.test:ping');
    assert.equal(first.subject, 'b.test');
    const other = await talk('a.test');
    assert.equal(other.subject, 'a.test', 'no SNI context for a.test: the default certificate');
    const again = await talk('b.test', first.session);
    assert.equal(again.reused, true, 'a TLS 1.2 session resumes');
    // (a resumed TLS 1.2 session reports no server name, with or without the takeover)
    assert.match(again.text, /^http\/1\.1:.*:ping$/);
    assert.equal(netConnections, 0, 'connections went through the takeover, not tls.Server\'s net.Socket path');
    assert.equal(lean, 3, 'each handshaken connection is a TlsConnection over its TLSWrap, not a TLSSocket');

    // A client that is not TLS at all: its connection alone is closed.
    const { connect: tcp } = await import('node:net');
    await new Promise<void>((resolve) => {
      const s = tcp({ port, host: '127.0.0.1' }, () => s.write('GET / HTTP/1.1\r\n\r\n'));
      s.on('error', () => undefined);
      s.on('close', () => resolve());
    });
    assert.equal((await talk('b.test')).text, 'http/1.1:b.test:ping');

    // A client that connects and never finishes its handshake is closed after handshakeMs (read
    // when the connection arrives); one that completes in time is not cut by that deadline.
    handshakeMs = 300;
    const silent = Date.now();
    const silentFor = await new Promise<number>((resolve) => {
      const s = tcp({ port, host: '127.0.0.1' }, () => s.write(Buffer.from([0x16, 0x03, 0x01, 0x00, 0x40]))); // a record header, then nothing
      s.on('error', () => undefined);
      s.on('close', () => resolve(Date.now() - silent));
    });
    assert.ok(silentFor >= 250 && silentFor < 5_000, `closed after ${silentFor} ms`);
    const slowTalk = await new Promise<string>((resolve, reject) => {
      const c = connect({ port, host: '127.0.0.1', servername: 'b.test', rejectUnauthorized: false, maxVersion: 'TLSv1.2' });
      let text = '';
      c.on('secureConnect', () => setTimeout(() => c.end('late'), 700)); // past the handshake deadline
      c.on('data', (d: Buffer) => { text += d.toString(); });
      c.on('end', () => resolve(text));
      c.on('error', reject);
    });
    assert.match(slowTalk, /:late$/);
    await new Promise<void>((r) => server.close(() => r()));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a connection the server let go of while it ends survives a GC: the TLSWrap lives as long as its TCP handle', async () => {
  // A TLSWrap is freed by GC once no JS reaches it, which detaches it from its TCP handle; the
  // client's next bytes then abort the process. Here the server ends its side and keeps no
  // reference (as the HTTP layer does after a `Connection: close` response); the client, still
  // open, writes after a full GC.
  const dir = mkdtempSync(join(tmpdir(), 'swy-tls-accept-'));
  try {
    const a = certificate(dir, 'a.test');
    const server = createServer({ ...a }, (s: TLSSocket) => { s.end('bye'); });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    assert.equal(acceptWithoutNetSocket(server, (_name, cb) => cb(null), () => 10_000), true);
    const port = (server.address() as AddressInfo).port;
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const clients = await Promise.all(Array.from({ length: 8 }, () => new Promise<TLSSocket>((resolve, reject) => {
      // (allowHalfOpen: the client stays open after the server's end; tls.connect passes it on, its type does not say so)
      const c = connect({ port, host: '127.0.0.1', rejectUnauthorized: false, allowHalfOpen: true } as ConnectionOptions);
      let text = '';
      c.on('data', (d: Buffer) => { text += d.toString(); });
      c.on('end', () => (text === 'bye' ? resolve(c) : reject(new Error(`server said ${JSON.stringify(text)}`))));
      c.on('error', reject);
    })));
    gc(); gc();
    await new Promise((r) => setImmediate(r));
    gc();
    const closed = clients.map((c) => new Promise<void>((resolve) => { c.on('error', () => undefined); c.on('close', () => resolve()); }));
    for (const c of clients) c.end('still here');
    await Promise.all(closed);
    await new Promise<void>((r) => server.close(() => r()));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
