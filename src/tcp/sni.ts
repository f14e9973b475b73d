/**
 * Peeks the server name (SNI) and ALPN protocols from the TLS ClientHello at the start of a
 * connection, for TLS passthrough routing. Nothing is decrypted or consumed: the caller forwards
 * the same bytes to the chosen backend.
 *
 * The parser never throws and never reads past the buffer: every outcome is an `SniResult`.
 * It is prefix-consistent: a prefix of a valid hello is `incomplete`; `invalid` is only returned
 * once the bytes seen so far can no longer begin a valid hello.
 */

/** The outcome of `parseClientHello`. */
export type SniResult =
  | { kind: 'incomplete' }
  | { kind: 'invalid'; reason: string }
  | { kind: 'ok'; serverName: string | undefined; alpn: string[] };

const RECORD_HEADER = 5;
const HANDSHAKE_HEADER = 4;
const CONTENT_HANDSHAKE = 22;
const HANDSHAKE_CLIENT_HELLO = 1;
/** Largest TLS plaintext fragment (RFC 8446 §5.1). */
const MAX_RECORD = 16384;
/** Largest ClientHello body accepted (reassembled across records). */
const MAX_HELLO = 16384;
/** Most records a ClientHello may be split across before it is refused. */
const MAX_RECORDS = 64;
const EXT_SERVER_NAME = 0;
const EXT_ALPN = 16;
const NAME_TYPE_HOST = 0;

const INCOMPLETE: SniResult = Object.freeze({ kind: 'incomplete' });

function invalid(reason: string): SniResult {
  return { kind: 'invalid', reason };
}

/**
 * Whether bytes [pos, pos + n) may be read: past `limit` (a length already declared by the
 * enclosing structure) is invalid, past `avail` (bytes received) is incomplete, else undefined.
 */
function need(pos: number, n: number, limit: number, avail: number, what: string): SniResult | undefined {
  if (pos + n > limit) return invalid(`${what} overruns its enclosing length`);
  if (pos + n > avail) return INCOMPLETE;
  return undefined;
}

/** A DNS host name per RFC 6066 §3: LDH labels (underscore tolerated) of 1..63 bytes, no trailing dot, <= 255 bytes. */
function hostName(b: Buffer, start: number, end: number): string | undefined {
  const len = end - start;
  if (len < 1 || len > 255) return undefined;
  let label = 0;
  for (let i = start; i < end; i++) {
    const c = b[i];
    if (c === 0x2e) {
      if (label === 0 || b[i - 1] === 0x2d) return undefined;
      label = 0;
      continue;
    }
    const alnum = (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
    if (!alnum && c !== 0x5f && !(c === 0x2d && label > 0)) return undefined;
    if (++label > 63) return undefined;
  }
  if (label === 0 || b[end - 1] === 0x2d) return undefined;
  return b.toString('latin1', start, end).toLowerCase();
}

/** server_name extension data in b[start, end), with `avail` bytes received. */
function parseServerName(b: Buffer, start: number, end: number, avail: number): SniResult | string {
  const r = need(start, 2, end, avail, 'server_name list length');
  if (r) return r;
  const listEnd = start + 2 + b.readUInt16BE(start);
  if (listEnd !== end) return invalid('server_name list length does not match the extension length');
  let p = start + 2;
  let name: string | undefined;
  if (p === listEnd) return invalid('server_name list is empty');
  while (p < listEnd) {
    const h = need(p, 3, listEnd, avail, 'server_name entry');
    if (h) return h;
    const type = b[p];
    const nameEnd = p + 3 + b.readUInt16BE(p + 1);
    if (type !== NAME_TYPE_HOST) return invalid(`server_name type ${type} is not host_name`);
    if (name !== undefined) return invalid('server_name lists more than one host_name');
    const body = need(p + 3, nameEnd - p - 3, listEnd, avail, 'host_name');
    if (body) return body;
    name = hostName(b, p + 3, nameEnd);
    if (name === undefined) return invalid('host_name is not a valid DNS name of at most 255 bytes');
    p = nameEnd;
  }
  return name ?? invalid('server_name has no host_name');
}

/** ALPN extension data in b[start, end), with `avail` bytes received. */
function parseAlpn(b: Buffer, start: number, end: number, avail: number): SniResult | string[] {
  const r = need(start, 2, end, avail, 'ALPN list length');
  if (r) return r;
  const listEnd = start + 2 + b.readUInt16BE(start);
  if (listEnd !== end) return invalid('ALPN list length does not match the extension length');
  if (listEnd === start + 2) return invalid('ALPN list is empty');
  const out: string[] = [];
  for (let p = start + 2; p < listEnd;) {
    const h = need(p, 1, listEnd, avail, 'ALPN protocol length');
    if (h) return h;
    const len = b[p];
    if (len === 0) return invalid('ALPN protocol name is empty');
    const body = need(p + 1, len, listEnd, avail, 'ALPN protocol name');
    if (body) return body;
    out.push(b.toString('latin1', p + 1, p + 1 + len));
    p += 1 + len;
  }
  return out;
}

/** The ClientHello body: `b` holds what has arrived of it (maybe more), `end` its declared length. */
function parseHelloBody(b: Buffer, end: number): SniResult {
  const avail = Math.min(b.length, end);
  let p = 0;
  let r = need(p, 2, end, avail, 'client_version');
  if (r) return r;
  if (b[0] !== 3 || b[1] < 1 || b[1] > 4) return invalid(`client_version ${b[0]}.${b[1]} is not TLS`);
  p += 2 + 32; // version, random
  r = need(p, 1, end, avail, 'session_id length');
  if (r) return r;
  const sid = b[p];
  if (sid > 32) return invalid(`session_id length ${sid} exceeds 32`);
  p += 1 + sid;
  r = need(p, 2, end, avail, 'cipher_suites length');
  if (r) return r;
  const suites = b.readUInt16BE(p);
  if (suites < 2 || suites % 2 !== 0) return invalid(`cipher_suites length ${suites} is not a positive even number`);
  p += 2 + suites;
  r = need(p, 1, end, avail, 'compression_methods length');
  if (r) return r;
  const comp = b[p];
  if (comp < 1) return invalid('compression_methods is empty');
  p += 1 + comp;
  // Extensions are optional, but when present their block fills the rest of the hello exactly.
  r = need(p, 0, end, avail, 'compression_methods');
  if (r) return r;
  if (p === end) return { kind: 'ok', serverName: undefined, alpn: [] };
  r = need(p, 2, end, avail, 'extensions length');
  if (r) return r;
  const extEnd = p + 2 + b.readUInt16BE(p);
  if (extEnd !== end) return invalid('extensions length does not match the ClientHello length');
  p += 2;

  let serverName: string | undefined;
  let alpn: string[] = [];
  const seen = new Set<number>();
  while (p < extEnd) {
    r = need(p, 4, extEnd, avail, 'extension header');
    if (r) return r;
    const type = b.readUInt16BE(p);
    const dataEnd = p + 4 + b.readUInt16BE(p + 2);
    if (dataEnd > extEnd) return invalid(`extension ${type} overruns the extensions block`);
    if (seen.has(type)) return invalid(`extension ${type} appears twice`);
    seen.add(type);
    if (type === EXT_SERVER_NAME) {
      const sn = parseServerName(b, p + 4, dataEnd, avail);
      if (typeof sn !== 'string') return sn;
      serverName = sn;
    } else if (type === EXT_ALPN) {
      const a = parseAlpn(b, p + 4, dataEnd, avail);
      if (!Array.isArray(a)) return a;
      alpn = a;
    }
    p = dataEnd;
  }
  // Skipped extension bodies must have arrived too: the hello is complete only at `end`.
  if (avail < end) return INCOMPLETE;
  return { kind: 'ok', serverName, alpn };
}

/** Checks the bytes received of a record header at b[pos..]: what is there must be a handshake record header. */
function checkRecordHeader(b: Buffer, pos: number): SniResult | undefined {
  const n = b.length - pos;
  if (n >= 1 && b[pos] !== CONTENT_HANDSHAKE) return invalid(`record type ${b[pos]} is not handshake (22)`);
  if (n >= 2 && b[pos + 1] !== 3) return invalid('record version is not TLS (major 3)');
  if (n >= 3 && (b[pos + 2] < 1 || b[pos + 2] > 4)) return invalid(`record version 3.${b[pos + 2]} is not 3.1-3.4`);
  if (n >= 5) {
    const len = b.readUInt16BE(pos + 3);
    if (len === 0) return invalid('empty handshake record');
    if (len > MAX_RECORD) return invalid(`record length ${len} exceeds ${MAX_RECORD}`);
  }
  return undefined;
}

/**
 * Parses the TLS ClientHello at the start of `buf` (the bytes received so far; untrusted) and returns
 * its server name (lower-cased host_name, `undefined` when absent) and ALPN protocol names (latin1,
 * `[]` when absent). The hello may span up to 64 handshake records; its body may be up to 16 KiB.
 * Returns `incomplete` when more bytes are needed and `invalid` with a reason for anything that is not
 * a well-formed ClientHello (non-TLS bytes are rejected from the first byte; every length field is
 * checked against its enclosing length; a server_name must hold exactly one host_name that is a DNS
 * name of at most 255 bytes). Bytes after the hello are ignored. Never throws.
 * Once per read until the hello completes, on each new passthrough connection: not per byte of payload.
 */
export function parseClientHello(buf: Buffer): SniResult {
  // Reassemble the handshake message from as many records as it takes.
  const chunks: Buffer[] = [];
  let collected = 0;
  let target = Infinity; // handshake header + body, once the header has arrived
  let pos = 0;
  let records = 0;
  while (collected < target) {
    const bad = checkRecordHeader(buf, pos);
    if (bad) return bad;
    if (buf.length - pos < RECORD_HEADER) break;
    if (++records > MAX_RECORDS) return invalid(`ClientHello spans more than ${MAX_RECORDS} records`);
    const len = buf.readUInt16BE(pos + 3);
    const data = buf.subarray(pos + RECORD_HEADER, Math.min(pos + RECORD_HEADER + len, buf.length));
    chunks.push(data);
    collected += data.length;
    if (target === Infinity && collected >= HANDSHAKE_HEADER) {
      const head = chunks.length === 1 ? data : Buffer.concat(chunks);
      if (head[0] !== HANDSHAKE_CLIENT_HELLO) return invalid(`handshake type ${head[0]} is not ClientHello (1)`);
      const bodyLen = (head[1] << 16) | (head[2] << 8) | head[3];
      if (bodyLen > MAX_HELLO) return invalid(`ClientHello length ${bodyLen} exceeds ${MAX_HELLO}`);
      target = HANDSHAKE_HEADER + bodyLen;
    }
    if (data.length < len) break;
    pos += RECORD_HEADER + len;
  }
  const hs = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
  if (hs.length >= 1 && hs[0] !== HANDSHAKE_CLIENT_HELLO) return invalid(`handshake type ${hs[0]} is not ClientHello (1)`);
  if (hs.length < HANDSHAKE_HEADER) return INCOMPLETE;
  return parseHelloBody(hs.subarray(HANDSHAKE_HEADER), target - HANDSHAKE_HEADER);
}
