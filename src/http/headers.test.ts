import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ambiguity, responseHeaders, scanRequestHeaders, type RequestHead } from './headers.js';

/** Names in a flat [name, value, ...] array. */
const names = (flat: readonly string[]) => flat.filter((_, i) => i % 2 === 0);
/** Scans and copies (the result object is shared between calls). */
const scan = (raw: string[], keepUpgrade = false): RequestHead => {
  const h = scanRequestHeaders(raw, keepUpgrade);
  return { ...h, forward: [...h.forward] };
};
const bufs = (flat: string[]) => flat.map((s) => Buffer.from(s, 'latin1'));

test('scanRequestHeaders: ordinary headers are forwarded in order with original case', () => {
  const h = scan(['Host', 'a.test', 'Accept', '*/*', 'X-Custom', 'v', 'cookie', 'c=1']);
  assert.deepEqual(h.forward, ['Host', 'a.test', 'Accept', '*/*', 'X-Custom', 'v', 'cookie', 'c=1']);
  assert.equal(h.host, 'a.test');
  assert.equal(h.hostCount, 1);
});

test('scanRequestHeaders: hop-by-hop headers are removed, any case', () => {
  const hop = ['Connection', 'keep-alive', 'Keep-Alive', 'timeout=5', 'Proxy-Connection', 'keep-alive', 'TE', 'trailers',
    'Trailer', 'X-Checksum', 'Transfer-Encoding', 'chunked', 'Upgrade', 'h2c', 'Expect', '100-continue', 'HTTP2-Settings', 'AAMAAABk'];
  const h = scan(['Host', 'a.test', ...hop, 'x-keep', '1']);
  assert.deepEqual(h.forward, ['Host', 'a.test', 'x-keep', '1']);
  const lower = scan(hop.map((s, i) => (i % 2 === 0 ? s.toUpperCase() : s)));
  assert.deepEqual(lower.forward, []);
});

test('scanRequestHeaders: headers nominated in Connection are dropped', () => {
  const h = scan(['Host', 'a.test', 'Connection', 'close, X-Secret', 'x-secret', 's', 'X-Other', 'o']);
  assert.deepEqual(h.forward, ['Host', 'a.test', 'X-Other', 'o']);
  assert.equal(h.connection, 'close, X-Secret');
});

test('scanRequestHeaders: nominations across several Connection headers, case-insensitive', () => {
  const h = scan(['Connection', 'keep-alive', 'X-A', '1', 'Connection', ' x-a ,X-B', 'x-b', '2', 'x-c', '3']);
  assert.deepEqual(h.forward, ['x-c', '3']);
  assert.equal(h.connection, 'keep-alive,  x-a ,X-B');
});

test('scanRequestHeaders: Connection with only close/keep-alive/upgrade drops nothing else', () => {
  const h = scan(['Connection', 'Keep-Alive, close, Upgrade', 'X-A', 'x', 'Upgrade', 'websocket', 'a', 'b']);
  assert.deepEqual(h.forward, ['X-A', 'x', 'a', 'b']);
});

test('scanRequestHeaders: keepUpgrade keeps Connection and Upgrade', () => {
  const raw = ['Host', 'a.test', 'Connection', 'Upgrade', 'Upgrade', 'websocket', 'Sec-WebSocket-Key', 'k'];
  const kept = scan(raw, true);
  assert.deepEqual(kept.forward, raw);
  assert.equal(kept.connection, 'Upgrade');
  assert.equal(kept.upgrade, 'websocket');
  const dropped = scan(raw, false);
  assert.deepEqual(dropped.forward, ['Host', 'a.test', 'Sec-WebSocket-Key', 'k']);
  assert.equal(dropped.upgrade, 'websocket');
});

test('scanRequestHeaders: keepUpgrade still drops other nominated and hop-by-hop headers', () => {
  const h = scan(['Connection', 'Upgrade, X-Secret', 'Upgrade', 'websocket', 'X-Secret', 's', 'Keep-Alive', '5', 'TE', 'x'], true);
  assert.deepEqual(h.forward, ['Connection', 'Upgrade, X-Secret', 'Upgrade', 'websocket']);
});

test('scanRequestHeaders: counts Host and Content-Length', () => {
  const h = scan(['Host', 'a', 'host', 'b', 'Content-Length', '5', 'content-length', '5']);
  assert.equal(h.hostCount, 2);
  assert.equal(h.host, 'b');
  assert.equal(h.contentLengthCount, 2);
  assert.deepEqual(h.forward, ['Host', 'a', 'host', 'b', 'Content-Length', '5', 'content-length', '5']);
  const none = scan(['Accept', '*/*']);
  assert.equal(none.hostCount, 0);
  assert.equal(none.host, undefined);
  assert.equal(none.contentLengthCount, 0);
});

test('scanRequestHeaders: Transfer-Encoding recorded and counted, not forwarded', () => {
  const h = scan(['Transfer-Encoding', 'gzip', 'transfer-encoding', 'chunked']);
  assert.equal(h.transferEncodingCount, 2);
  assert.equal(h.transferEncoding, 'chunked');
  assert.deepEqual(h.forward, []);
});

test('scanRequestHeaders: X-Forwarded-* collected/removed, X-Request-Id kept and reported', () => {
  const h = scan(['X-Forwarded-For', '1.1.1.1', 'X-Forwarded-Proto', 'https', 'x-forwarded-host', 'evil',
    'x-forwarded-for', '2.2.2.2, 3.3.3.3', 'X-Request-Id', 'req-1', 'X-Forwarded-Port', '443']);
  assert.equal(h.xForwardedFor, '1.1.1.1, 2.2.2.2, 3.3.3.3');
  assert.equal(h.requestId, 'req-1');
  assert.deepEqual(h.forward, ['X-Request-Id', 'req-1', 'X-Forwarded-Port', '443']);
  const none = scan(['a', 'b']);
  assert.equal(none.xForwardedFor, undefined);
  assert.equal(none.requestId, undefined);
});

test('scanRequestHeaders: state is reset between calls', () => {
  scanRequestHeaders(['Host', 'a', 'Host', 'b', 'Content-Length', '1', 'Transfer-Encoding', 'chunked', 'Connection', 'x',
    'Upgrade', 'ws', 'X-Forwarded-For', '1.2.3.4', 'X-Request-Id', 'r']);
  const h = scanRequestHeaders(['Accept', '*/*']);
  assert.deepEqual({ ...h, forward: [...h.forward] }, {
    host: undefined, hostCount: 0, contentLengthCount: 0, transferEncoding: undefined, transferEncodingCount: 0,
    connection: undefined, upgrade: undefined, xForwardedFor: undefined, requestId: undefined, forward: ['Accept', '*/*'],
  });
});

test('ambiguity: Host rules', () => {
  assert.equal(ambiguity(scan(['Host', 'a']), 1), undefined);
  assert.equal(ambiguity(scan(['Host', 'a', 'Host', 'a']), 1), 'more than one Host header');
  assert.equal(ambiguity(scan(['Host', 'a', 'Host', 'b']), 0), 'more than one Host header');
  assert.equal(ambiguity(scan([]), 1), 'missing Host header');
  assert.equal(ambiguity(scan([]), 0), undefined);
});

test('ambiguity: Content-Length and Transfer-Encoding', () => {
  const H = ['Host', 'a'];
  assert.equal(ambiguity(scan([...H, 'Content-Length', '3']), 1), undefined);
  assert.equal(ambiguity(scan([...H, 'Content-Length', '3', 'Content-Length', '3']), 1), 'more than one Content-Length header');
  assert.equal(ambiguity(scan([...H, 'Content-Length', '3', 'Transfer-Encoding', 'chunked']), 1),
    'both Content-Length and Transfer-Encoding');
  assert.equal(ambiguity(scan([...H, 'Transfer-Encoding', 'chunked']), 1), undefined);
  assert.equal(ambiguity(scan([...H, 'Transfer-Encoding', ' Chunked ']), 1), undefined);
  const notChunked = 'Transfer-Encoding other than a single "chunked"';
  for (const te of ['gzip, chunked', 'chunked, chunked', 'gzip', 'chunked;q=1', 'xchunked', '']) {
    assert.equal(ambiguity(scan([...H, 'Transfer-Encoding', te]), 1), notChunked, te);
  }
  assert.equal(ambiguity(scan([...H, 'Transfer-Encoding', 'chunked', 'Transfer-Encoding', 'chunked']), 1), notChunked);
  assert.equal(ambiguity(scan([...H, 'Transfer-Encoding', 'chunked']), 0), 'Transfer-Encoding in an HTTP/1.0 request');
});

test('ambiguity: checks are ordered (Host first)', () => {
  const h = scan(['Content-Length', '1', 'Content-Length', '2', 'Transfer-Encoding', 'gzip']);
  assert.equal(ambiguity(h, 1), 'missing Host header');
  assert.equal(ambiguity(h, 0), 'more than one Content-Length header');
});

test('responseHeaders: drops hop-by-hop from Buffer arrays and appends Via', () => {
  const raw = bufs(['Content-Type', 'text/plain', 'Connection', 'keep-alive', 'Keep-Alive', 'timeout=5',
    'Transfer-Encoding', 'chunked', 'Upgrade', 'h2c', 'Trailer', 'X', 'Proxy-Connection', 'close', 'TE', 't',
    'Set-Cookie', 'a=1', 'Set-Cookie', 'b=2', 'Content-Length', '5']);
  assert.deepEqual(responseHeaders(raw, '1.1 switchyard'), [
    'Content-Type', 'text/plain', 'Set-Cookie', 'a=1', 'Set-Cookie', 'b=2', 'Content-Length', '5', 'via', '1.1 switchyard',
  ]);
});

test('responseHeaders: extends an existing Via, keeping its name', () => {
  assert.deepEqual(responseHeaders(bufs(['Via', '1.1 cdn', 'X', 'y']), '1.1 sy'), ['Via', '1.1 cdn, 1.1 sy', 'X', 'y']);
  assert.deepEqual(responseHeaders(bufs(['A', 'b', 'VIA', '1.0 old']), '1.1 sy'), ['A', 'b', 'VIA', '1.0 old, 1.1 sy']);
  assert.deepEqual(responseHeaders([], '1.1 sy'), ['via', '1.1 sy']);
});

test('responseHeaders: values are decoded as latin1; string arrays work too', () => {
  const out = responseHeaders([Buffer.from('X-Name'), Buffer.from([0x63, 0x61, 0x66, 0xe9])], 'v');
  assert.deepEqual(out, ['X-Name', 'caf\u00e9', 'via', 'v']);
  assert.deepEqual(responseHeaders(['Connection', 'close', 'A', 'b'], 'v'), ['A', 'b', 'via', 'v']);
});

// RFC 9110 §7.6.1: an intermediary removes the fields a Connection header nominates in responses
// too (scanRequestHeaders does this for requests).
test('responseHeaders: headers nominated by the upstream Connection header are dropped', () => {
  const out = responseHeaders(bufs(['Connection', 'close, X-Internal', 'X-Internal', 'secret', 'A', 'b']), 'v');
  assert.deepEqual(names(out), ['A', 'via']);
});
