import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SocketAddress } from 'node:net';
import { encodeProxyV1, encodeProxyV2, parseProxyHeader, type ProxyParseResult } from './proxy-protocol.js';

const SIG = Buffer.from('0d0a0d0a000d0a515549540a', 'hex');

function v2(verCmd: number, fam: number, body: Buffer): Buffer {
  const head = Buffer.alloc(4);
  head[0] = verCmd;
  head[1] = fam;
  head.writeUInt16BE(body.length, 2);
  return Buffer.concat([SIG, head, body]);
}

function tlv(type: number, value: Buffer): Buffer {
  const h = Buffer.alloc(3);
  h[0] = type;
  h.writeUInt16BE(value.length, 1);
  return Buffer.concat([h, value]);
}

function ok(r: ProxyParseResult): Extract<ProxyParseResult, { kind: 'ok' }> {
  assert.equal(r.kind, 'ok', `expected ok, got ${JSON.stringify(r)}`);
  return r as Extract<ProxyParseResult, { kind: 'ok' }>;
}

function assertInvalid(buf: Buffer, label: string): void {
  const r = parseProxyHeader(buf);
  assert.equal(r.kind, 'invalid', `${label}: ${JSON.stringify(buf.toString('latin1'))} gave ${JSON.stringify(r)}`);
}

/** Every strict prefix of a complete header is incomplete; the whole is ok. */
function assertPrefixesIncomplete(header: Buffer, label: string): void {
  for (let n = 0; n < header.length; n++) {
    const r = parseProxyHeader(header.subarray(0, n));
    assert.equal(r.kind, 'incomplete', `${label}: prefix ${n}/${header.length} gave ${JSON.stringify(r)}`);
  }
  assert.equal(ok(parseProxyHeader(header)).headerLength, header.length, label);
}

test('proxy v1: byte-exact TCP4 line (spec example) and parse back', () => {
  const line = encodeProxyV1({ address: '192.168.0.1', port: 56324 }, { address: '192.168.0.11', port: 443 });
  assert.equal(line, 'PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n');
  const r = ok(parseProxyHeader(Buffer.from(line + 'GET / HTTP/1.1\r\n\r\n', 'latin1')));
  assert.deepEqual(r, {
    kind: 'ok', version: 1, command: 'proxy',
    source: { address: '192.168.0.1', port: 56324 },
    destination: { address: '192.168.0.11', port: 443 },
    headerLength: line.length,
  });
});

test('proxy v1: TCP6 round trip, canonical compressed form', () => {
  const src = { address: '2001:DB8:0:0:0:0:0:1', port: 1 };
  const dst = { address: '::1', port: 65535 };
  const line = encodeProxyV1(src, dst);
  assert.equal(line, 'PROXY TCP6 2001:db8::1 ::1 1 65535\r\n');
  const r = ok(parseProxyHeader(Buffer.from(line)));
  assert.deepEqual(r.source, { address: '2001:db8::1', port: 1 });
  assert.deepEqual(r.destination, { address: '::1', port: 65535 });
  assert.equal(r.version, 1);
});

test('proxy v1/v2: IPv4-mapped IPv6 is sent as IPv4; mixed families are sent as IPv6 with IPv4 mapped', () => {
  const src = { address: '::ffff:127.0.0.1', port: 40000 };
  const dst = { address: '::FFFF:10.0.0.1', port: 8080 };
  assert.equal(encodeProxyV1(src, dst), 'PROXY TCP4 127.0.0.1 10.0.0.1 40000 8080\r\n');
  const b = encodeProxyV2(src, dst);
  assert.equal(b[13], 0x11);
  assert.deepEqual(ok(parseProxyHeader(b)).source, { address: '127.0.0.1', port: 40000 });

  const mixed = encodeProxyV1({ address: '10.1.2.3', port: 1 }, { address: 'fe80::1%eth0', port: 2 });
  assert.equal(mixed, 'PROXY TCP6 ::ffff:10.1.2.3 fe80::1 1 2\r\n');
  const r = ok(parseProxyHeader(Buffer.from(mixed)));
  assert.equal(r.source?.address, '::ffff:10.1.2.3');
  const m2 = ok(parseProxyHeader(encodeProxyV2({ address: '10.1.2.3', port: 1 }, { address: '::1', port: 2 })));
  assert.deepEqual(m2.source, { address: '::ffff:10.1.2.3', port: 1 });
  assert.deepEqual(m2.destination, { address: '::1', port: 2 });
});

test('proxy v2: known bytes for TCP4 and round trips for IPv4 and IPv6', () => {
  const b = encodeProxyV2({ address: '127.0.0.1', port: 1111 }, { address: '10.0.0.1', port: 2222 });
  assert.equal(b.toString('hex'), '0d0a0d0a000d0a515549540a' + '2111000c' + '7f000001' + '0a000001' + '0457' + '08ae');
  assert.deepEqual(ok(parseProxyHeader(b)), {
    kind: 'ok', version: 2, command: 'proxy',
    source: { address: '127.0.0.1', port: 1111 },
    destination: { address: '10.0.0.1', port: 2222 },
    headerLength: 28,
  });
  const b6 = encodeProxyV2({ address: '2001:db8::ff00:42:8329', port: 0 }, { address: '::', port: 443 });
  assert.equal(b6.length, 52);
  assert.equal(b6.subarray(12, 16).toString('hex'), '21210024');
  assert.equal(b6.subarray(16, 32).toString('hex'), '20010db8000000000000ff0000428329');
  assert.deepEqual(ok(parseProxyHeader(b6)), {
    kind: 'ok', version: 2, command: 'proxy',
    source: { address: '2001:db8::ff00:42:8329', port: 0 },
    destination: { address: '::', port: 443 },
    headerLength: 52,
  });
});

test('proxy v2: parsed IPv6 text matches what Node prints for 2,000 seeded addresses', () => {
  let s = 0x9e3779b9;
  const next = (): number => { s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0; return s; };
  for (let i = 0; i < 2000; i++) {
    const words: number[] = [];
    // Mostly zero words, so runs of zeros, mapped and compatible forms all occur.
    for (let w = 0; w < 8; w++) words.push(next() % 3 === 0 ? next() & 0xffff : 0);
    if (i % 7 === 0) { words.fill(0, 0, 5); words[5] = 0xffff; }
    const body = Buffer.alloc(36);
    words.forEach((w, k) => body.writeUInt16BE(w, 2 * k));
    const full = words.map((w) => w.toString(16)).join(':');
    const r = ok(parseProxyHeader(v2(0x21, 0x21, body)));
    assert.equal(r.source?.address, new SocketAddress({ address: full, family: 'ipv6' }).address, full);
    // and the v1 text parser agrees with itself on the printed form
    const line = `PROXY TCP6 ${full} ${r.source?.address} 1 2\r\n`;
    const r1 = ok(parseProxyHeader(Buffer.from(line)));
    assert.equal(r1.source?.address, r.source?.address);
    assert.equal(r1.destination?.address, r.source?.address);
  }
});

test('proxy: every strict prefix of a valid header is incomplete', () => {
  const v4 = { address: '255.255.255.255', port: 65535 };
  const v6 = { address: 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', port: 65535 };
  assertPrefixesIncomplete(Buffer.from(encodeProxyV1(v4, v4)), 'v1 TCP4');
  assertPrefixesIncomplete(Buffer.from(encodeProxyV1(v6, v6)), 'v1 TCP6');
  assertPrefixesIncomplete(Buffer.from('PROXY UNKNOWN\r\n'), 'v1 UNKNOWN');
  assertPrefixesIncomplete(encodeProxyV2(v4, v4), 'v2 TCP4');
  assertPrefixesIncomplete(encodeProxyV2(v6, v6), 'v2 TCP6');
  assertPrefixesIncomplete(v2(0x20, 0x00, Buffer.alloc(0)), 'v2 LOCAL');
  const withTlvs = Buffer.concat([encodeProxyV2(v4, v4).subarray(16), tlv(0x01, Buffer.from('h2')), tlv(0x04, Buffer.alloc(0))]);
  assertPrefixesIncomplete(v2(0x21, 0x11, withTlvs), 'v2 TLVs');
});

test('proxy: bytes that do not start with either signature are none', () => {
  for (const text of ['GET / HTTP/1.1\r\n', 'Q', 'PROXX', 'PROXYZ', 'proxy TCP4', 'SSH-2.0-OpenSSH_9.6\r\n', '\r\n\r\nX', '\r\n\r\n\0\r\nQUIT\r']) {
    assert.deepEqual(parseProxyHeader(Buffer.from(text, 'latin1')), { kind: 'none' }, JSON.stringify(text));
  }
  assert.deepEqual(parseProxyHeader(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00])), { kind: 'none' });
  assert.deepEqual(parseProxyHeader(Buffer.alloc(0)), { kind: 'incomplete' });
  assert.deepEqual(parseProxyHeader(Buffer.from('P')), { kind: 'incomplete' });
  assert.deepEqual(parseProxyHeader(Buffer.from('PROXY')), { kind: 'incomplete' });
  assert.deepEqual(parseProxyHeader(Buffer.from('\r')), { kind: 'incomplete' });
  assert.deepEqual(parseProxyHeader(Buffer.from('\r\n\r\n')), { kind: 'incomplete' });
});

test('proxy v1: malformed lines are invalid', () => {
  const bad: Array<[string, string]> = [
    ['PROXY TCP4 1.2.3.4 5.6.7.8 65536 80\r\n', 'source port 65536'],
    ['PROXY TCP4 1.2.3.4 5.6.7.8 80 65536\r\n', 'destination port 65536'],
    ['PROXY TCP4 1.2.3.4 5.6.7.8 080 80\r\n', 'leading zero port'],
    ['PROXY TCP4 1.2.3.4 5.6.7.8 -1 80\r\n', 'negative port'],
    ['PROXY TCP4 1.2.3.4 5.6.7.8 80\r\n', 'missing port'],
    ['PROXY TCP4 1.2.3.4 80 80\r\n', 'missing address'],
    ['PROXY TCP4\r\n', 'no fields'],
    ['PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n', 'extra field'],
    ['PROXY TCP4 1.2.3.4 5.6.7.8 1 2 \r\n', 'trailing space'],
    ['PROXY TCP4  1.2.3.4 5.6.7.8 1 2\r\n', 'double space'],
    ['PROXY TCP4 1.2.3.256 5.6.7.8 1 2\r\n', 'octet 256'],
    ['PROXY TCP4 01.2.3.4 5.6.7.8 1 2\r\n', 'leading zero octet'],
    ['PROXY TCP4 1.2.3 5.6.7.8 1 2\r\n', 'three octets'],
    ['PROXY TCP4 ::1 5.6.7.8 1 2\r\n', 'IPv6 in TCP4'],
    ['PROXY TCP6 1.2.3.4 ::1 1 2\r\n', 'IPv4 in TCP6'],
    ['PROXY TCP6 1::2::3 ::1 1 2\r\n', 'two ::'],
    ['PROXY TCP6 1:2:3:4:5:6:7:8:9 ::1 1 2\r\n', 'nine groups'],
    ['PROXY TCP6 1:2:3:4:5:6:7 ::1 1 2\r\n', 'seven groups'],
    ['PROXY TCP6 12345::1 ::1 1 2\r\n', 'five hex digits'],
    ['PROXY TCP6 fe80::1%eth0 ::1 1 2\r\n', 'zone index'],
    ['PROXY TCP6 example.com ::1 1 2\r\n', 'hostname'],
    ['PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n', 'unknown protocol'],
    ['PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n', 'LF only'],
    ['PROXY TCP4 1.2.3.4 5.6.7.8 1 2\rX', 'CR without LF'],
    ['PROXY TCP4 1.2.3.4\t5.6.7.8 1 2\r\n', 'tab'],
    ['PROXY UNKNOWNX\r\n', 'UNKNOWN with suffix'],
    ['PROXY \r\n', 'empty protocol'],
  ];
  for (const [line, label] of bad) assertInvalid(Buffer.from(line, 'latin1'), label);
  // Too long: no CRLF within 107 bytes, or a CRLF that ends past byte 107.
  assertInvalid(Buffer.from('PROXY UNKNOWN ' + 'a'.repeat(200), 'latin1'), '200 bytes, no CRLF');
  assertInvalid(Buffer.from('PROXY UNKNOWN ' + 'a'.repeat(93), 'latin1'), 'exactly 107 bytes, no CRLF');
  assertInvalid(Buffer.from('PROXY UNKNOWN ' + 'a'.repeat(92) + '\r\n', 'latin1'), '108-byte line');
  // Rejected early, before a CRLF arrives.
  assertInvalid(Buffer.from('PROXY TCP5', 'latin1'), 'early: bad protocol');
  assertInvalid(Buffer.from('PROXY TCP4 1.2\x00', 'latin1'), 'early: NUL byte');
});

test('proxy v1: UNKNOWN is ok without addresses; the worst-case 107-byte line is accepted', () => {
  assert.deepEqual(parseProxyHeader(Buffer.from('PROXY UNKNOWN\r\nhello')), { kind: 'ok', version: 1, command: 'proxy', headerLength: 15 });
  const f = 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff';
  const worst = `PROXY UNKNOWN ${f} ${f} 65535 65535\r\n`;
  assert.equal(worst.length, 107);
  assert.deepEqual(parseProxyHeader(Buffer.from(worst)), { kind: 'ok', version: 1, command: 'proxy', headerLength: 107 });
  const widest = `PROXY TCP6 ${f} ${f} 65535 65535\r\n`;
  assert.equal(ok(parseProxyHeader(Buffer.from(widest))).source?.address, f);
});

test('proxy v2: TLVs are skipped and counted in headerLength; bad TLV framing is invalid', () => {
  const addrs = encodeProxyV2({ address: '1.2.3.4', port: 5 }, { address: '6.7.8.9', port: 10 }).subarray(16);
  const tlvs = Buffer.concat([tlv(0x01, Buffer.from('h2')), tlv(0x02, Buffer.from('api.example.com')), tlv(0x04, Buffer.alloc(5))]);
  const header = v2(0x21, 0x11, Buffer.concat([addrs, tlvs]));
  const r = ok(parseProxyHeader(Buffer.concat([header, Buffer.from('payload')])));
  assert.equal(r.headerLength, 16 + 12 + tlvs.length);
  assert.deepEqual(r.source, { address: '1.2.3.4', port: 5 });
  assert.deepEqual(r.destination, { address: '6.7.8.9', port: 10 });

  assertInvalid(v2(0x21, 0x11, Buffer.concat([addrs, Buffer.from([0x04, 0x00])])), 'truncated TLV header');
  assertInvalid(v2(0x21, 0x11, Buffer.concat([addrs, Buffer.from([0x04, 0x00, 0x09, 0x00])])), 'TLV overruns');
});

test('proxy v2: bad version, command, family or length is invalid, early when possible', () => {
  const addrs = Buffer.alloc(12);
  for (const verCmd of [0x11, 0x31, 0x01, 0xf1]) assertInvalid(v2(verCmd, 0x11, addrs), `version nibble 0x${verCmd.toString(16)}`);
  assertInvalid(Buffer.concat([SIG, Buffer.from([0x11])]), 'version nibble, 13 bytes only');
  assertInvalid(v2(0x22, 0x11, addrs), 'command 2');
  assertInvalid(v2(0x2f, 0x11, addrs), 'command 15');
  for (const fam of [0x01, 0x10, 0x13, 0x41, 0xff]) assertInvalid(v2(0x21, fam, addrs), `family 0x${fam.toString(16)}`);
  assertInvalid(Buffer.concat([SIG, Buffer.from([0x21, 0x41])]), 'family, 14 bytes only');
  assertInvalid(v2(0x21, 0x11, Buffer.alloc(11)), 'IPv4 block too short');
  assertInvalid(v2(0x21, 0x21, Buffer.alloc(35)), 'IPv6 block too short');
  // Short length is detected from the fixed 16 bytes, before the body arrives.
  const head = Buffer.concat([SIG, Buffer.from([0x21, 0x21, 0x00, 0x0c])]);
  assertInvalid(head, 'IPv6 with length 12, header only');
});

test('proxy v2: LOCAL and UNSPEC are ok without addresses; LOCAL ignores its block', () => {
  assert.deepEqual(parseProxyHeader(v2(0x20, 0x00, Buffer.alloc(0))), { kind: 'ok', version: 2, command: 'local', headerLength: 16 });
  assert.deepEqual(parseProxyHeader(v2(0x20, 0x11, Buffer.alloc(12, 7))), { kind: 'ok', version: 2, command: 'local', headerLength: 28 });
  assert.deepEqual(parseProxyHeader(v2(0x20, 0x21, Buffer.alloc(3))), { kind: 'ok', version: 2, command: 'local', headerLength: 19 });
  assert.deepEqual(parseProxyHeader(v2(0x21, 0x00, Buffer.alloc(0))), { kind: 'ok', version: 2, command: 'proxy', headerLength: 16 });
  assert.deepEqual(parseProxyHeader(v2(0x21, 0x00, Buffer.alloc(9, 1))), { kind: 'ok', version: 2, command: 'proxy', headerLength: 25 });
  // UDP and UNIX fall back to UNSPEC mode (no addresses), as the spec allows.
  assert.deepEqual(parseProxyHeader(v2(0x21, 0x12, Buffer.alloc(12))), { kind: 'ok', version: 2, command: 'proxy', headerLength: 28 });
  assert.deepEqual(parseProxyHeader(v2(0x21, 0x31, Buffer.alloc(216))), { kind: 'ok', version: 2, command: 'proxy', headerLength: 232 });
  assertInvalid(v2(0x21, 0x31, Buffer.alloc(215)), 'UNIX block too short');
});

test('proxy v2: bounded: incomplete never extends past 16 + length bytes', () => {
  const header = v2(0x21, 0x00, Buffer.alloc(65535));
  assert.equal(parseProxyHeader(header.subarray(0, header.length - 1)).kind, 'incomplete');
  assert.equal(ok(parseProxyHeader(header)).headerLength, 16 + 65535);
});

test('proxy: encoders reject non-IP addresses and out-of-range ports', () => {
  const good = { address: '1.2.3.4', port: 1 };
  assert.throws(() => encodeProxyV1({ address: 'localhost', port: 1 }, good), TypeError);
  assert.throws(() => encodeProxyV2(good, { address: '1.2.3.04', port: 1 }), TypeError);
  assert.throws(() => encodeProxyV1(good, { address: '1.2.3.4', port: 65536 }), RangeError);
  assert.throws(() => encodeProxyV2({ address: '::1', port: 1.5 }, good), RangeError);
  assert.throws(() => encodeProxyV2({ address: '::1', port: -1 }, good), RangeError);
});

test('proxy: 5,000 seeded random mutations of valid headers never throw and give a known kind', () => {
  let s = 12345;
  const next = (): number => { s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0; return s; };
  const seeds = [
    Buffer.from(encodeProxyV1({ address: '10.0.0.1', port: 1 }, { address: '10.0.0.2', port: 2 })),
    Buffer.from(encodeProxyV1({ address: '2001:db8::1', port: 1 }, { address: '::1', port: 2 })),
    encodeProxyV2({ address: '10.0.0.1', port: 1 }, { address: '10.0.0.2', port: 2 }),
    v2(0x21, 0x21, Buffer.concat([Buffer.alloc(36, 0xab), tlv(0x01, Buffer.from('h2'))])),
  ];
  const kinds = new Set(['ok', 'invalid', 'incomplete', 'none']);
  for (let i = 0; i < 5000; i++) {
    const buf = Buffer.from(seeds[i % seeds.length]);
    const edits = 1 + (next() % 4);
    for (let e = 0; e < edits; e++) buf[next() % buf.length] = next() & 0xff;
    const cut = next() % 3 === 0 ? next() % (buf.length + 1) : buf.length;
    const r = parseProxyHeader(buf.subarray(0, cut));
    assert.ok(kinds.has(r.kind));
    if (r.kind === 'ok') assert.ok(r.headerLength > 0 && r.headerLength <= cut);
  }
});
