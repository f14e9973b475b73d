import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import tls from 'node:tls';
import type { AddressInfo } from 'node:net';
import { parseClientHello, type SniResult } from './sni.js';

/** Connects a real Node TLS client to a plain TCP server and returns the first TLS record it sends. */
function captureClientHello(opts: tls.ConnectionOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let client: tls.TLSSocket | undefined;
    const server = net.createServer((sock) => {
      let got = Buffer.alloc(0);
      sock.on('error', () => {});
      sock.on('data', (d: Buffer) => {
        got = Buffer.concat([got, d]);
        if (got.length >= 5 && got.length >= 5 + got.readUInt16BE(3)) {
          sock.destroy();
          client?.destroy();
          server.close();
          resolve(got);
        }
      });
    });
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      client = tls.connect({ host: '127.0.0.1', port, ...opts });
      client.on('error', () => {});
    });
  });
}

/** Re-splits one handshake message (taken from single-record `hello`) into records of at most `size` bytes. */
function refragment(hello: Buffer, size: number): Buffer {
  const hs = hello.subarray(5, 5 + hello.readUInt16BE(3));
  const out: Buffer[] = [];
  for (let i = 0; i < hs.length; i += size) {
    const part = hs.subarray(i, i + size);
    const h = Buffer.from([22, 3, 1, 0, 0]);
    h.writeUInt16BE(part.length, 3);
    out.push(h, part);
  }
  return Buffer.concat(out);
}

const u16 = (n: number): Buffer => { const b = Buffer.alloc(2); b.writeUInt16BE(n); return b; };
const ext = (type: number, data: Buffer): Buffer => Buffer.concat([u16(type), u16(data.length), data]);
const sniExt = (name: string | Buffer): Buffer => {
  const n = typeof name === 'string' ? Buffer.from(name, 'latin1') : name;
  return ext(0, Buffer.concat([u16(n.length + 3), Buffer.from([0]), u16(n.length), n]));
};
const alpnExt = (protos: string[]): Buffer => {
  const list = Buffer.concat(protos.map((p) => Buffer.concat([Buffer.from([p.length]), Buffer.from(p, 'latin1')])));
  return ext(16, Buffer.concat([u16(list.length), list]));
};

/** A minimal ClientHello in one record; `exts` undefined means no extensions block at all. */
function buildHello(exts: Buffer[] | undefined, sessionId = Buffer.alloc(32, 9)): Buffer {
  const parts = [Buffer.from([3, 3]), Buffer.alloc(32, 7), Buffer.from([sessionId.length]), sessionId, u16(4), Buffer.from([0x13, 0x01, 0x13, 0x02]), Buffer.from([1, 0])];
  if (exts) { const e = Buffer.concat(exts); parts.push(u16(e.length), e); }
  const body = Buffer.concat(parts);
  const hs = Buffer.concat([Buffer.from([1, body.length >> 16, (body.length >> 8) & 0xff, body.length & 0xff]), body]);
  return Buffer.concat([Buffer.from([22, 3, 1]), u16(hs.length), hs]);
}

function assertOk(r: SniResult, serverName: string | undefined, alpn: string[], label = ''): void {
  assert.deepEqual(r, { kind: 'ok', serverName, alpn }, label);
}

function assertInvalid(buf: Buffer, label: string): void {
  const r = parseClientHello(buf);
  assert.equal(r.kind, 'invalid', `${label}: got ${JSON.stringify(r)}`);
}

function assertPrefixesIncomplete(buf: Buffer, label: string): void {
  for (let n = 0; n < buf.length; n++) {
    const r = parseClientHello(buf.subarray(0, n));
    assert.equal(r.kind, 'incomplete', `${label}: prefix ${n}/${buf.length} gave ${JSON.stringify(r)}`);
  }
}

function xorshift(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => { s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0; return s; };
}

const realHello = captureClientHello({ servername: 'api.example.com', ALPNProtocols: ['h2', 'http/1.1'] });

test('sni: real Node ClientHello gives server name and ALPN', async () => {
  const hello = await realHello;
  assertOk(parseClientHello(hello), 'api.example.com', ['h2', 'http/1.1']);
  // Trailing bytes after the hello are ignored.
  assertOk(parseClientHello(Buffer.concat([hello, Buffer.from([23, 3, 3, 0, 1, 0])])), 'api.example.com', ['h2', 'http/1.1']);
});

test('sni: real ClientHello without SNI (IP host) gives undefined, and no ALPN gives []', async () => {
  const hello = await captureClientHello({});
  assertOk(parseClientHello(hello), undefined, []);
});

test('sni: server name is lower-cased', async () => {
  const hello = await captureClientHello({ servername: 'API.Example.COM', ALPNProtocols: ['http/1.1'] });
  assertOk(parseClientHello(hello), 'api.example.com', ['http/1.1']);
});

test('sni: every truncation prefix of the real hello is incomplete', async () => {
  assertPrefixesIncomplete(await realHello, 'real hello');
});

test('sni: a hello split across records is reassembled; every prefix is incomplete', async () => {
  const hello = await realHello;
  for (const size of [1000, 100, 37, 9]) {
    const split = refragment(hello, size);
    assertOk(parseClientHello(split), 'api.example.com', ['h2', 'http/1.1'], `records of ${size}`);
    assertPrefixesIncomplete(split, `records of ${size}`);
  }
});

test('sni: reassembly is bounded: > 64 records or a body > 16 KiB is invalid', async () => {
  const hello = await realHello;
  assertInvalid(refragment(hello, 1), '1-byte records');
  // A 16 KiB body split over two records is accepted ...
  const pad = ext(21, Buffer.alloc(16384 - 2 - 32 - 1 - 32 - 2 - 4 - 2 - 2 - 4 - 4 - 16));
  const big = buildHello([sniExt('big.example'), pad]);
  assert.equal(big.readUInt16BE(3), 16388);
  assert.equal(big.length, 5 + 16388);
  // (one record may carry at most 16384 bytes, so it must be split)
  assertInvalid(big, 'record over 16384');
  const bigSplit = refragment(big, 16384);
  assertOk(parseClientHello(bigSplit), 'big.example', [], '16 KiB body in two records');
  // ... one byte more is refused as soon as the handshake header is seen.
  const tooBig = Buffer.from([22, 3, 1, 0x40, 0x00, 1, 0x00, 0x40, 0x01]);
  assertInvalid(tooBig, 'body 16385');
});

test('sni: non-TLS bytes are invalid at once', () => {
  assertInvalid(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'), 'HTTP');
  assertInvalid(Buffer.from('G'), 'first byte of HTTP');
  assertInvalid(Buffer.from('SSH-2.0-x\r\n'), 'SSH');
  assertInvalid(Buffer.from([0x80, 0x2e, 0x01, 0x00, 0x02]), 'SSLv2 hello');
  assertInvalid(Buffer.from([22, 2]), 'record major 2');
  assertInvalid(Buffer.from([22, 3, 0]), 'SSLv3 record');
  assertInvalid(Buffer.from([22, 3, 5]), 'record 3.5');
  assertInvalid(Buffer.from([22, 3, 1, 0, 0]), 'empty record');
  assertInvalid(Buffer.from([22, 3, 1, 0x40, 0x01]), 'record 16385');
  assertInvalid(Buffer.from([22, 3, 1, 0, 4, 2]), 'ServerHello');
  assertInvalid(Buffer.from([21, 3, 3, 0, 2, 2, 40]), 'alert');
  assert.deepEqual(parseClientHello(Buffer.alloc(0)), { kind: 'incomplete' });
});

test('sni: crafted hellos: no extensions, SNI only, ALPN only', () => {
  assertOk(parseClientHello(buildHello(undefined)), undefined, []);
  assertOk(parseClientHello(buildHello([])), undefined, []);
  assertOk(parseClientHello(buildHello([sniExt('a.b-c.example')])), 'a.b-c.example', []);
  assertOk(parseClientHello(buildHello([alpnExt(['h2'])])), undefined, ['h2']);
  assertOk(parseClientHello(buildHello([ext(0xfe0d, Buffer.alloc(10)), sniExt('x_y.test'), alpnExt(['\x0a\x0a', 'h2'])], Buffer.alloc(0))), 'x_y.test', ['\x0a\x0a', 'h2']);
  const longest = 'a.'.repeat(127) + 'b';
  assert.equal(longest.length, 255);
  assertOk(parseClientHello(buildHello([sniExt(longest)])), longest, []);
  const label63 = 'a'.repeat(63) + '.com';
  assertOk(parseClientHello(buildHello([sniExt(label63)])), label63, []);
});

test('sni: bad server names are invalid', () => {
  const bad: Array<[string | Buffer, string]> = [
    ['a.'.repeat(127) + 'bb', '256 bytes'],
    ['a'.repeat(64) + '.com', '64-byte label'],
    ['exa mple.com', 'space'],
    ['example.com.', 'trailing dot'],
    ['.example.com', 'leading dot'],
    ['a..b', 'empty label'],
    ['-a.com', 'label starts with hyphen'],
    ['a-.com', 'label ends with hyphen'],
    ['a.com-', 'name ends with hyphen'],
    ['exa/mple.com', 'slash'],
    ['ex\u00e4mple.com', 'non-ASCII'],
    [Buffer.from('exa\0mple.com', 'latin1'), 'NUL'],
    ['', 'empty'],
  ];
  for (const [name, label] of bad) assertInvalid(buildHello([sniExt(name)]), label);
});

test('sni: malformed structure is invalid', () => {
  const name = Buffer.from('a.example');
  const sni = (list: Buffer): Buffer => ext(0, list);
  const cases: Array<[Buffer, string]> = [
    [buildHello([sniExt('a.example'), sniExt('b.example')]), 'duplicate extension'],
    [buildHello([sni(Buffer.concat([u16(2 * (3 + name.length)), Buffer.from([0]), u16(name.length), name, Buffer.from([0]), u16(name.length), name]))]), 'two host_names'],
    [buildHello([sni(Buffer.concat([u16(3 + name.length), Buffer.from([1]), u16(name.length), name]))]), 'name type 1'],
    [buildHello([sni(u16(0))]), 'empty server_name list'],
    [buildHello([sni(Buffer.alloc(0))]), 'empty server_name extension'],
    [buildHello([sni(Buffer.concat([u16(3 + name.length + 1), Buffer.from([0]), u16(name.length), name, Buffer.from([0])]))]), 'list length overruns'],
    [buildHello([sni(Buffer.concat([u16(3 + name.length), Buffer.from([0]), u16(name.length + 1), name]))]), 'name length overruns'],
    [buildHello([alpnExt([''])]), 'empty ALPN name'],
    [buildHello([ext(16, u16(0))]), 'empty ALPN list'],
    [buildHello([ext(16, Buffer.concat([u16(3), Buffer.from([5, 0x68, 0x32])]))]), 'ALPN name overruns'],
    [buildHello([ext(16, Buffer.concat([u16(4), Buffer.from([2, 0x68, 0x32])]))]), 'ALPN list overruns'],
    [buildHello(undefined, Buffer.alloc(33)), 'session id 33'],
  ];
  for (const [hello, label] of cases) assertInvalid(hello, label);

  // Hand-edit lengths of a valid hello.
  const good = buildHello([sniExt('a.example')]);
  const at = { hsLen: 6, version: 9, suites: 5 + 4 + 2 + 32 + 1 + 32 };
  const edit = (f: (b: Buffer) => void): Buffer => { const b = Buffer.from(good); f(b); return b; };
  assertInvalid(edit((b) => { b[at.hsLen + 2] -= 1; }), 'handshake length one short of the extensions');
  assertInvalid(edit((b) => { b[at.version] = 2; }), 'client_version 3.2 -> 3.? bad');
  assertInvalid(edit((b) => { b.writeUInt16BE(3, at.suites); }), 'odd cipher_suites length');
  assertInvalid(edit((b) => { b.writeUInt16BE(0, at.suites); }), 'no cipher suites');
  assertInvalid(edit((b) => { b[at.suites + 6] = 0; }), 'no compression methods');
  assertInvalid(edit((b) => { b.writeUInt16BE(b.readUInt16BE(at.suites + 8) + 1, at.suites + 8); }), 'extensions length too long');
  // A handshake record that is followed by a non-handshake record before the hello completes.
  const split = refragment(good, 20);
  assertInvalid(Buffer.concat([split.subarray(0, 25), Buffer.from([23, 3, 3, 0, 1, 0])]), 'interleaved application data');
});

test('sni: 2,000 seeded mutations of the real hello never throw and stay prefix-consistent', async () => {
  const hello = await realHello;
  const next = xorshift(0xc0ffee);
  const kinds = new Set(['ok', 'invalid', 'incomplete']);
  const counts: Record<string, number> = { ok: 0, invalid: 0, incomplete: 0 };
  for (let i = 0; i < 2000; i++) {
    let buf = Buffer.from(i % 2 === 0 ? hello : refragment(hello, 50 + (i % 200)));
    const edits = 1 + (next() % 6);
    for (let e = 0; e < edits; e++) {
      const op = next() % 4;
      const at = next() % buf.length;
      if (op === 0) buf[at] = next() & 0xff;
      else if (op === 1) buf[at] ^= 1 << (next() % 8);
      else if (op === 2) buf = Buffer.concat([buf.subarray(0, at), Buffer.from([next() & 0xff]), buf.subarray(at)]);
      else if (buf.length > 1) buf = Buffer.concat([buf.subarray(0, at), buf.subarray(at + 1)]);
    }
    const full = parseClientHello(buf);
    assert.ok(kinds.has(full.kind));
    counts[full.kind]++;
    if (full.kind === 'ok' && full.serverName !== undefined) {
      assert.match(full.serverName, /^[a-z0-9_.-]{1,255}$/);
    }
    // A prefix says incomplete, or already what the whole says.
    const cut = next() % (buf.length + 1);
    const part = parseClientHello(buf.subarray(0, cut));
    if (part.kind === 'invalid') assert.equal(full.kind, 'invalid', `mutation ${i}: prefix ${cut} invalid, whole ${full.kind}`);
    if (part.kind === 'ok') assert.deepEqual(part, full, `mutation ${i}: prefix ${cut} ok, whole differs`);
  }
  // The mutations exercise more than one outcome.
  assert.ok(counts.invalid > 0 && counts.ok > 0, JSON.stringify(counts));
});
