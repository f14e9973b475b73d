/**
 * HAProxy PROXY protocol, version 1 (text) and version 2 (binary): encode a header to send to a
 * backend, and parse one from untrusted bytes at the start of an accepted connection.
 * Spec: https://www.haproxy.org/download/2.8/doc/proxy-protocol.txt
 *
 * The parser never throws and never reads past the buffer: every outcome is a `ProxyParseResult`.
 */

/** One endpoint of the proxied connection. IPv6 addresses are in RFC 5952 form (`::ffff:1.2.3.4` when mapped). */
export interface ProxyAddress { address: string; port: number }

/** The outcome of `parseProxyHeader`. */
export type ProxyParseResult =
  | { kind: 'incomplete' }
  | { kind: 'invalid'; reason: string }
  | { kind: 'none' }
  | {
      kind: 'ok';
      version: 1 | 2;
      command: 'proxy' | 'local';
      /** Absent for v1 `UNKNOWN`, v2 `LOCAL` and v2 families without IP addresses: use the socket's own. */
      source?: ProxyAddress;
      destination?: ProxyAddress;
      /** Bytes at the start of the buffer that are the header and must be stripped before the payload. */
      headerLength: number;
    };

const V2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
const V1_PREFIX = Buffer.from('PROXY ', 'latin1');
/** Longest v1 line including CRLF (`PROXY UNKNOWN` with two full IPv6 addresses and ports). */
const V1_MAX_LENGTH = 107;
const V2_HEADER_LENGTH = 16;

const INCOMPLETE: ProxyParseResult = Object.freeze({ kind: 'incomplete' });
const NONE: ProxyParseResult = Object.freeze({ kind: 'none' });

function invalid(reason: string): ProxyParseResult {
  return { kind: 'invalid', reason };
}

// ---------------------------------------------------------------------------------------------
// IP literals (strict: no leading zeros in IPv4, no zone index, exactly 128 bits for IPv6)
// ---------------------------------------------------------------------------------------------

const DEC_OCTET = /^(?:0|[1-9][0-9]{0,2})$/;
const HEX_GROUP = /^[0-9A-Fa-f]{1,4}$/;
const PORT = /^(?:0|[1-9][0-9]{0,4})$/;

function parseIPv4(text: string): Uint8Array | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    if (!DEC_OCTET.test(parts[i])) return undefined;
    const n = Number(parts[i]);
    if (n > 255) return undefined;
    out[i] = n;
  }
  return out;
}

function parseGroups(text: string, out: number[]): boolean {
  if (text === '') return true;
  const parts = text.split(':');
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i];
    if (i === parts.length - 1 && part.includes('.')) {
      const v4 = parseIPv4(part);
      if (!v4) return false;
      out.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
    } else {
      if (!HEX_GROUP.test(part)) return false;
      out.push(parseInt(part, 16));
    }
  }
  return true;
}

function parseIPv6(text: string): Uint8Array | undefined {
  if (text.length < 2 || text.length > 45 || !text.includes(':')) return undefined;
  const gap = text.indexOf('::');
  if (gap !== -1 && text.indexOf('::', gap + 1) !== -1) return undefined;
  const head: number[] = [];
  const tail: number[] = [];
  if (gap === -1) {
    if (!parseGroups(text, head) || head.length !== 8) return undefined;
  } else {
    const left = text.slice(0, gap);
    const right = text.slice(gap + 2);
    // An embedded IPv4 part may only end the address.
    if (left.includes('.')) return undefined;
    if (!parseGroups(left, head) || !parseGroups(right, tail)) return undefined;
    if (head.length + tail.length > 7) return undefined;
  }
  const out = new Uint8Array(16);
  for (let i = 0; i < head.length; i++) { out[2 * i] = head[i] >> 8; out[2 * i + 1] = head[i] & 0xff; }
  const start = 8 - tail.length;
  for (let i = 0; i < tail.length; i++) { out[2 * (start + i)] = tail[i] >> 8; out[2 * (start + i) + 1] = tail[i] & 0xff; }
  return out;
}

function formatIPv4(b: Uint8Array, at: number): string {
  return `${b[at]}.${b[at + 1]}.${b[at + 2]}.${b[at + 3]}`;
}

/** RFC 5952 text of 16 bytes at `at` (as libuv/Node print it: dotted tail for mapped and IPv4-compatible). */
function formatIPv6(b: Uint8Array, at: number): string {
  const words: number[] = [];
  for (let i = 0; i < 8; i++) words.push((b[at + 2 * i] << 8) | b[at + 2 * i + 1]);
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8;) {
    if (words[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen) { bestStart = i; bestLen = j - i; }
    i = j;
  }
  if (bestLen < 2) bestStart = -1;
  const dotted = bestStart === 0 && (bestLen === 6 || (bestLen === 5 && words[5] === 0xffff));
  let text = '';
  const last = dotted ? 6 : 8;
  for (let i = 0; i < last; i++) {
    if (i === bestStart) {
      text += '::';
      i += bestLen - 1;
      continue;
    }
    if (text !== '' && !text.endsWith(':')) text += ':';
    text += words[i].toString(16);
  }
  if (dotted) text += (text.endsWith(':') ? '' : ':') + formatIPv4(b, at + 12);
  return text;
}

function isMappedIPv4(b: Uint8Array): boolean {
  for (let i = 0; i < 10; i++) if (b[i] !== 0) return false;
  return b[10] === 0xff && b[11] === 0xff;
}

interface Endpoint { bytes: Uint8Array; port: number }

/** Programmer-error validation for the encoders: an IP literal (zone index dropped) and a port 0..65535. */
function toEndpoint(ep: ProxyAddress, which: string): Endpoint {
  if (!Number.isInteger(ep.port) || ep.port < 0 || ep.port > 65535) {
    throw new RangeError(`PROXY ${which} port must be an integer 0..65535, got ${String(ep.port)}`);
  }
  const text = typeof ep.address === 'string' ? ep.address.replace(/%[^%]*$/, '') : '';
  const v4 = parseIPv4(text);
  if (v4) return { bytes: v4, port: ep.port };
  const v6 = parseIPv6(text);
  if (!v6) throw new TypeError(`PROXY ${which} address is not an IP literal: ${JSON.stringify(ep.address)}`);
  return { bytes: isMappedIPv4(v6) ? v6.subarray(12, 16) : v6, port: ep.port };
}

function toIPv6(bytes: Uint8Array): Uint8Array {
  if (bytes.length === 16) return bytes;
  const out = new Uint8Array(16);
  out[10] = 0xff;
  out[11] = 0xff;
  out.set(bytes, 12);
  return out;
}

/** Both endpoints in one family: IPv4 when both are (mapped counts as IPv4), else IPv6 with IPv4 mapped. */
function sameFamily(src: ProxyAddress, dst: ProxyAddress): { v4: boolean; src: Endpoint; dst: Endpoint } {
  const s = toEndpoint(src, 'source');
  const d = toEndpoint(dst, 'destination');
  if (s.bytes.length === 4 && d.bytes.length === 4) return { v4: true, src: s, dst: d };
  return { v4: false, src: { bytes: toIPv6(s.bytes), port: s.port }, dst: { bytes: toIPv6(d.bytes), port: d.port } };
}

// ---------------------------------------------------------------------------------------------
// Encoding
// ---------------------------------------------------------------------------------------------

/**
 * The v1 line (`PROXY TCP4 <src> <dst> <sport> <dport>\r\n`) for a TCP connection from `src` to `dst`.
 * TCP4 when both addresses are IPv4 (an IPv4-mapped IPv6 address such as `::ffff:127.0.0.1` counts as
 * IPv4 and is sent as its IPv4 part); otherwise TCP6, with any IPv4 side sent IPv4-mapped.
 * A zone index (`fe80::1%eth0`) is dropped. Throws TypeError when an address is not an IP literal and
 * RangeError when a port is not an integer 0..65535 (programmer error: socket addresses never are).
 * Per connection to a backend, not per byte.
 */
export function encodeProxyV1(src: ProxyAddress, dst: ProxyAddress): string {
  const f = sameFamily(src, dst);
  const fmt = f.v4 ? formatIPv4 : formatIPv6;
  return `PROXY ${f.v4 ? 'TCP4' : 'TCP6'} ${fmt(f.src.bytes, 0)} ${fmt(f.dst.bytes, 0)} ${f.src.port} ${f.dst.port}\r\n`;
}

/**
 * The v2 binary header (command PROXY, TCP over IPv4 `0x11` or IPv6 `0x21`, no TLVs) for a TCP
 * connection from `src` to `dst`: 28 bytes for IPv4, 52 for IPv6. Family selection, zone handling and
 * throws are as for `encodeProxyV1`. Returns a new Buffer. Per connection to a backend, not per byte.
 */
export function encodeProxyV2(src: ProxyAddress, dst: ProxyAddress): Buffer {
  const f = sameFamily(src, dst);
  const addrLen = f.v4 ? 12 : 36;
  const out = Buffer.alloc(V2_HEADER_LENGTH + addrLen);
  V2_SIGNATURE.copy(out, 0);
  out[12] = 0x21;
  out[13] = f.v4 ? 0x11 : 0x21;
  out.writeUInt16BE(addrLen, 14);
  const n = f.src.bytes.length;
  out.set(f.src.bytes, 16);
  out.set(f.dst.bytes, 16 + n);
  out.writeUInt16BE(f.src.port, 16 + 2 * n);
  out.writeUInt16BE(f.dst.port, 18 + 2 * n);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Parsing
// ---------------------------------------------------------------------------------------------

/** Whether the first min(buf.length, sig.length) bytes of `buf` equal `sig`'s. */
function startsLike(buf: Buffer, sig: Buffer): boolean {
  const n = Math.min(buf.length, sig.length);
  for (let i = 0; i < n; i++) if (buf[i] !== sig[i]) return false;
  return true;
}

const V1_PROTOCOLS = ['TCP4', 'TCP6', 'UNKNOWN'];

function parseV1(buf: Buffer): ProxyParseResult {
  const scan = Math.min(buf.length, V1_MAX_LENGTH);
  let cr = -1;
  let tokenEnd = -1;
  for (let i = V1_PREFIX.length; i < scan; i++) {
    const b = buf[i];
    if (b === 0x0d) { cr = i; break; }
    if (b < 0x20 || b > 0x7e) return invalid('v1: header contains a byte that is not printable US-ASCII');
    if (b === 0x20 && tokenEnd === -1) tokenEnd = i;
  }
  // Reject a wrong protocol token as soon as it can no longer become TCP4, TCP6 or UNKNOWN.
  const end = tokenEnd !== -1 ? tokenEnd : cr !== -1 ? cr : scan;
  const token = buf.toString('latin1', V1_PREFIX.length, end);
  const terminated = end !== scan;
  if (terminated ? !V1_PROTOCOLS.includes(token) : !V1_PROTOCOLS.some((p) => p.startsWith(token))) {
    return invalid(`v1: unknown protocol ${JSON.stringify(token.slice(0, 16))}`);
  }
  if (cr === -1) {
    return buf.length >= V1_MAX_LENGTH ? invalid(`v1: no CRLF within ${V1_MAX_LENGTH} bytes`) : INCOMPLETE;
  }
  const headerLength = cr + 2;
  if (headerLength > V1_MAX_LENGTH) return invalid(`v1: header longer than ${V1_MAX_LENGTH} bytes`);
  if (buf.length <= cr + 1) return INCOMPLETE;
  if (buf[cr + 1] !== 0x0a) return invalid('v1: CR not followed by LF');

  // The receiver must ignore whatever follows UNKNOWN before the CRLF.
  if (token === 'UNKNOWN') return { kind: 'ok', version: 1, command: 'proxy', headerLength };

  const fields = buf.toString('latin1', 0, cr).split(' ');
  if (fields.length !== 6) return invalid(`v1: expected 6 space-separated fields, got ${fields.length}`);
  const parse = token === 'TCP4' ? parseIPv4 : parseIPv6;
  const srcBytes = parse(fields[2]);
  if (!srcBytes) return invalid(`v1: bad ${token} source address`);
  const dstBytes = parse(fields[3]);
  if (!dstBytes) return invalid(`v1: bad ${token} destination address`);
  const srcPort = PORT.test(fields[4]) ? Number(fields[4]) : -1;
  if (srcPort < 0 || srcPort > 65535) return invalid('v1: bad source port');
  const dstPort = PORT.test(fields[5]) ? Number(fields[5]) : -1;
  if (dstPort < 0 || dstPort > 65535) return invalid('v1: bad destination port');
  const fmt = token === 'TCP4' ? formatIPv4 : formatIPv6;
  return {
    kind: 'ok',
    version: 1,
    command: 'proxy',
    source: { address: fmt(srcBytes, 0), port: srcPort },
    destination: { address: fmt(dstBytes, 0), port: dstPort },
    headerLength,
  };
}

/** Address block length per valid v2 family/transport byte. */
const V2_FAMILIES = new Map<number, number>([
  [0x00, 0], // UNSPEC
  [0x11, 12], // TCP over IPv4
  [0x12, 12], // UDP over IPv4
  [0x21, 36], // TCP over IPv6
  [0x22, 36], // UDP over IPv6
  [0x31, 216], // UNIX stream
  [0x32, 216], // UNIX datagram
]);

function parseV2(buf: Buffer): ProxyParseResult {
  if (buf.length < 13) return INCOMPLETE;
  const verCmd = buf[12];
  if (verCmd >> 4 !== 2) return invalid(`v2: version ${verCmd >> 4} is not 2`);
  const cmd = verCmd & 0x0f;
  if (cmd > 1) return invalid(`v2: unknown command ${cmd}`);
  if (buf.length < 14) return INCOMPLETE;
  const fam = buf[13];
  const addrLen = V2_FAMILIES.get(fam);
  if (addrLen === undefined) return invalid(`v2: unknown family/transport 0x${fam.toString(16).padStart(2, '0')}`);
  if (buf.length < V2_HEADER_LENGTH) return INCOMPLETE;
  const len = buf.readUInt16BE(14);
  const headerLength = V2_HEADER_LENGTH + len;
  // LOCAL: the whole block, family included, is ignored; PROXY: the addresses must fit.
  if (cmd === 1 && len < addrLen) return invalid(`v2: length ${len} is shorter than the ${addrLen}-byte address block`);
  if (buf.length < headerLength) return INCOMPLETE;
  if (cmd === 0) return { kind: 'ok', version: 2, command: 'local', headerLength };
  if (fam === 0x00) return { kind: 'ok', version: 2, command: 'proxy', headerLength };

  // TLVs after the addresses are skipped, but their framing must fill the block exactly.
  for (let p = V2_HEADER_LENGTH + addrLen; p < headerLength;) {
    if (headerLength - p < 3) return invalid('v2: truncated TLV header');
    const tlvEnd = p + 3 + buf.readUInt16BE(p + 1);
    if (tlvEnd > headerLength) return invalid(`v2: TLV type 0x${buf[p].toString(16)} overruns the header`);
    p = tlvEnd;
  }
  // Families without usable addresses for TCP fall back to UNSPEC mode, as the spec allows.
  if (fam !== 0x11 && fam !== 0x21) return { kind: 'ok', version: 2, command: 'proxy', headerLength };

  const n = fam === 0x11 ? 4 : 16;
  const fmt = fam === 0x11 ? formatIPv4 : formatIPv6;
  const at = V2_HEADER_LENGTH;
  return {
    kind: 'ok',
    version: 2,
    command: 'proxy',
    source: { address: fmt(buf, at), port: buf.readUInt16BE(at + 2 * n) },
    destination: { address: fmt(buf, at + n), port: buf.readUInt16BE(at + 2 * n + 2) },
    headerLength,
  };
}

/**
 * Parses a PROXY v1 or v2 header at the start of `buf` (the bytes received so far; untrusted).
 * Returns `incomplete` when more bytes are needed (bounded: a v1 line without CRLF in 107 bytes and a
 * v2 header are never incomplete beyond 107 and 16 + length bytes), `none` when the first bytes already
 * differ from both signatures (`PROXY ` and the v2 12-byte block; an empty buffer is `incomplete`),
 * `invalid` with a reason for anything malformed, or `ok` with `headerLength` bytes to strip.
 * v1 `UNKNOWN`, v2 `LOCAL` and v2 UNSPEC/UNIX/UDP families give `ok` without addresses. Malformed v2
 * TLV framing is invalid; TLV contents (CRC32C included) are not checked. Never throws.
 * Once per read until the header completes, on each new connection: not per byte of payload.
 * Whether `none` is acceptable (optional PROXY) is the caller's decision; the spec says it is not.
 */
export function parseProxyHeader(buf: Buffer): ProxyParseResult {
  if (buf.length === 0) return INCOMPLETE;
  if (startsLike(buf, V2_SIGNATURE)) return parseV2(buf);
  if (startsLike(buf, V1_PREFIX)) return buf.length <= V1_PREFIX.length ? INCOMPLETE : parseV1(buf);
  return NONE;
}
