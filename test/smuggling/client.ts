import { connect as tcpConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { createRequire } from 'node:module';
import type { H2Vector, Vector } from './corpus.js';
import type { RawBackend, SeenRequest } from './raw-backend.js';
import { safetyViolations, type Outcome } from './verdict.js';

/*
 * The attacker's side: raw bytes on a fresh connection per vector (HTTP/1.x in clear, HTTP/2 as
 * hand-built frames over TLS, so that nothing in a client library cleans the request up), the
 * answers read back, then one ordinary request on another connection (the "next client").
 * Every wait is bounded.
 */

interface ParserLike {
  initialize(type: number, resource: object, maxHeaderSize: number, lenient: number): void;
  execute(d: Buffer): number | Error;
  [k: number]: unknown;
}
const { HTTPParser } = createRequire(import.meta.url)('_http_common') as {
  HTTPParser: { new (): ParserLike; RESPONSE: number; kOnHeadersComplete: number; kLenientAll: number };
};

/** Silence that ends a vector once something was received; before any answer, a loaded machine gets longer. */
const QUIET_MS = 250;
const FIRST_ANSWER_MS = 1000;
const MAX_MS = 3000;

/** Sends an HTTP/1.x vector's parts; statuses of the final responses, and whether the proxy closed. */
export function sendH1(port: number, parts: readonly string[]): Promise<{ statuses: number[]; closed: boolean }> {
  return new Promise((resolve) => {
    const statuses: number[] = [];
    const parser = new HTTPParser();
    parser.initialize(HTTPParser.RESPONSE, {}, 0, HTTPParser.kLenientAll);
    parser[HTTPParser.kOnHeadersComplete] = (_a: number, _b: number, _h: unknown, _m: number, _u: unknown, status: number) => {
      if (status >= 200 || status === 101) statuses.push(status);
      return 0;
    };
    let next = 1;
    let closed = false;
    let quiet: NodeJS.Timeout | undefined;
    let received = false;
    const s: Socket = tcpConnect(port, '127.0.0.1');
    const finish = () => { clearTimeout(quiet); clearTimeout(cap); s.destroy(); resolve({ statuses, closed }); };
    const cap = setTimeout(finish, MAX_MS);
    const settle = () => {
      clearTimeout(quiet);
      quiet = setTimeout(() => {
        if (next < parts.length && !closed) { s.write(Buffer.from(parts[next++], 'latin1')); settle(); } else finish();
      }, received ? QUIET_MS : FIRST_ANSWER_MS);
    };
    s.on('data', (d: Buffer) => { received = true; if (statuses[statuses.length - 1] !== 101) parser.execute(d); settle(); });
    s.on('error', () => undefined);
    s.on('close', () => { closed = true; finish(); });
    s.on('connect', () => { s.write(Buffer.from(parts[0], 'latin1')); settle(); });
  });
}

// ---- HTTP/2 by hand ----

function hpackInt(value: number, prefixBits: number, first: number): number[] {
  const max = (1 << prefixBits) - 1;
  if (value < max) return [first | value];
  const out = [first | max];
  let v = value - max;
  while (v >= 128) { out.push((v % 128) + 128); v = Math.floor(v / 128); }
  out.push(v);
  return out;
}

/** Header block of literal fields without indexing, no Huffman: exactly the bytes asked for. */
function hpackBlock(headers: readonly [string, string][]): Buffer {
  const out: number[] = [];
  for (const [name, value] of headers) {
    const n = Buffer.from(name, 'latin1');
    const v = Buffer.from(value, 'latin1');
    out.push(0, ...hpackInt(n.length, 7, 0), ...n, ...hpackInt(v.length, 7, 0), ...v);
  }
  return Buffer.from(out);
}

function frame(type: number, flags: number, stream: number, payload: Buffer): Buffer {
  const h = Buffer.alloc(9);
  h.writeUIntBE(payload.length, 0, 3);
  h[3] = type; h[4] = flags; h.writeUInt32BE(stream, 5);
  return Buffer.concat([h, payload]);
}

const STATIC_STATUS: Record<number, number> = { 8: 200, 9: 204, 10: 206, 11: 304, 12: 400, 13: 404, 14: 500 };

/** :status of a response header block (first field; static table or a literal, Huffman digits too); 0 if unknown. */
function statusOf(block: Buffer): number {
  let i = 0;
  while (i < block.length && (block[i] & 0xe0) === 0x20) i++; // dynamic table size updates
  const b = block[i];
  if (b === undefined) return 0;
  if (b & 0x80) return STATIC_STATUS[b & 0x7f] ?? 0;
  const index = b & 0x40 ? b & 0x3f : b & 0x0f;
  if (!(index >= 8 && index <= 14)) return 0;
  const lenByte = block[i + 1];
  const len = lenByte & 0x7f;
  const bytes = block.subarray(i + 2, i + 2 + len);
  if (!(lenByte & 0x80)) return Number(bytes.toString('latin1'));
  // Huffman (RFC 7541 appendix B): digits 0-2 are 5-bit codes 00000-00010, 3-9 are 6-bit 011001-011111.
  let bits = '';
  for (const x of bytes) bits += x.toString(2).padStart(8, '0');
  let digits = '';
  for (let p = 0; p + 5 <= bits.length && digits.length < 3;) {
    const five = parseInt(bits.slice(p, p + 5), 2);
    if (five <= 2) { digits += String(five); p += 5; continue; }
    const six = parseInt(bits.slice(p, p + 6), 2);
    if (six >= 0x19 && six <= 0x1f) { digits += String(six - 0x19 + 3); p += 6; continue; }
    return 0;
  }
  return Number(digits);
}

/** Sends one HTTP/2 request as raw frames over TLS (ALPN h2); the stream's status, or closed on RST/GOAWAY. */
export function sendH2(port: number, v: H2Vector): Promise<{ statuses: number[]; closed: boolean }> {
  return new Promise((resolve) => {
    const statuses: number[] = [];
    let closed = false;
    let buf = Buffer.alloc(0);
    const s = tlsConnect({ port, host: '127.0.0.1', servername: 'h.test', ALPNProtocols: ['h2'], rejectUnauthorized: false });
    const finish = () => { clearTimeout(cap); s.destroy(); resolve({ statuses, closed }); };
    const cap = setTimeout(finish, MAX_MS);
    s.on('secureConnect', () => {
      if (s.alpnProtocol !== 'h2') { closed = true; finish(); return; }
      const block = hpackBlock(v.headers);
      s.write(Buffer.concat([
        Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1'),
        frame(4, 0, 0, Buffer.alloc(0)),
        frame(1, 0x4 | (v.data === undefined ? 0x1 : 0), 1, block),
        ...(v.data === undefined ? [] : [frame(0, 0x1, 1, Buffer.from(v.data, 'latin1'))]),
      ]));
    });
    s.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 9) {
        const len = buf.readUIntBE(0, 3);
        if (buf.length < 9 + len) break;
        const type = buf[3]; const flags = buf[4]; const stream = buf.readUInt32BE(5) & 0x7fffffff;
        const payload = buf.subarray(9, 9 + len);
        buf = buf.subarray(9 + len);
        if (type === 4 && !(flags & 1)) s.write(frame(4, 1, 0, Buffer.alloc(0))); // SETTINGS ack
        if (type === 7 || (type === 3 && stream === 1)) { closed = true; finish(); return; } // GOAWAY, RST_STREAM
        if (type === 1 && stream === 1) {
          let block = payload;
          if (flags & 0x8) block = block.subarray(1, block.length - block[0]); // padded
          if (flags & 0x20) block = block.subarray(5); // priority
          const status = statusOf(block);
          if (status >= 200 || status === 0) statuses.push(status);
        }
        if ((type === 0 || type === 1) && stream === 1 && flags & 0x1) { finish(); return; }
      }
    });
    s.on('error', () => undefined);
    s.on('close', () => { closed = true; finish(); });
  });
}

/** One ordinary GET on a fresh connection: its status (0: no answer). */
export async function probe(port: number, id: string): Promise<number> {
  const r = await sendH1(port, [`GET /probe/${id} HTTP/1.1\r\nHost: h.test\r\nConnection: close\r\n\r\n`]);
  return r.statuses[0] ?? 0;
}

/** Where a proxy listens: HTTP/1.1 in clear, and HTTP/2 over TLS when it has such a listener. */
export interface Target { h1Port: number; h2Port?: number }

export interface VectorResult {
  vector: Vector;
  /** Undefined: the target has no listener for this vector (an HTTP/2 one). */
  outcome?: Outcome;
  /** Backend requests while the vector ran (before the probe). */
  fromVector: SeenRequest[];
  /** Why it is unsafe (empty: safe). */
  violations: string[];
}

/** Runs one vector against a proxy in front of `backend`, then the next client's request. */
export async function runVector(target: Target, backend: RawBackend, v: Vector): Promise<VectorResult> {
  if (v.h2 !== undefined && target.h2Port === undefined) return { vector: v, fromVector: [], violations: [] };
  const start = backend.seen.length;
  const r = v.h2 !== undefined ? await sendH2(target.h2Port!, v.h2) : await sendH1(target.h1Port, v.send);
  const fromVector = backend.seen.slice(start);
  const outcome: Outcome = { ...r, probe: await probe(target.h1Port, v.id) };
  // Late arrivals (a request held back, then released by the probe) count too.
  return { vector: v, outcome, fromVector, violations: safetyViolations(v, backend.seen.slice(start), outcome) };
}
