import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ENTRY_OVERHEAD_BYTES, ResponseCache, STALE_CACHEABLE_STATUSES, cacheControlForbids, degradedHeaders,
} from './response-cache.js';

const H = ['Content-Type', 'text/plain'];
/** Accounted size of an entry with headers H. */
const size = (key: string, bodyLen: number, headers: readonly string[] = H) =>
  ENTRY_OVERHEAD_BYTES + key.length + bodyLen + headers.reduce((n, s) => n + s.length, 0);
const body = (n: number, fill = 0x61) => Buffer.alloc(n, fill);

test('defaults: 64 MiB, 1 MiB per entry, 24 h', () => {
  const c = new ResponseCache();
  assert.equal(c.maxBytes, 64 * 1024 * 1024);
  assert.equal(c.maxEntryBytes, 1024 * 1024);
  assert.equal(c.maxStaleMs, 86_400_000);
});

test('store then getStale returns the response with its age', () => {
  const c = new ResponseCache();
  assert.equal(c.store('k', 200, H, Buffer.from('hello'), 1000), 'stored');
  const e = c.getStale('k', 1000 + 12_999)!;
  assert.equal(e.status, 200);
  assert.deepEqual(e.headers, H);
  assert.equal(e.body.toString(), 'hello');
  assert.equal(e.ageSeconds, 12);
  assert.equal(c.getStale('missing', 0), undefined);
  assert.equal(c.size, 1);
  assert.equal(c.bytes, size('k', 5));
});

test('age includes the upstream Age header; a clock going backwards gives that age', () => {
  const c = new ResponseCache();
  c.store('k', 200, ['Age', '30', ...H], body(1), 5000);
  assert.equal(c.getStale('k', 5000)!.ageSeconds, 30);
  assert.equal(c.getStale('k', 7500)!.ageSeconds, 32);
  assert.equal(c.getStale('k', 4000)!.ageSeconds, 30);
  c.store('bad', 200, ['age', 'soon', ...H], body(1), 0);
  assert.equal(c.getStale('bad', 1000)!.ageSeconds, 1);
});

test('the body and headers are copies owned by the cache', () => {
  const c = new ResponseCache();
  const b = Buffer.from('abc');
  const h = [...H];
  c.store('k', 200, h, b, 0);
  b.write('xyz');
  h[1] = 'changed';
  const e = c.getStale('k', 0)!;
  assert.equal(e.body.toString(), 'abc');
  assert.equal(e.headers[1], 'text/plain');
  assert.equal(e.body.buffer.byteLength, 3); // not a view pinning a pooled slab
});

test('only the documented statuses are stored; others keep an earlier entry', () => {
  assert.deepEqual([...STALE_CACHEABLE_STATUSES].sort((a, b) => a - b), [200, 203, 301, 308, 404, 410]);
  const c = new ResponseCache();
  for (const s of [200, 203, 301, 308, 404, 410]) assert.equal(c.store(`s${s}`, s, H, body(1), 0), 'stored');
  for (const s of [201, 204, 206, 302, 304, 500, 502, 503]) assert.equal(c.store(`s${s}`, s, H, body(1), 0), 'status');
  c.store('k', 200, H, Buffer.from('good'), 0);
  assert.equal(c.store('k', 503, H, Buffer.from('down'), 1), 'status');
  assert.equal(c.getStale('k', 2)!.body.toString(), 'good');
});

test('Cache-Control no-store / private / no-cache / must-revalidate are not stored and drop an earlier entry', () => {
  const c = new ResponseCache();
  const refused = [
    'no-store', 'private', 'Private', 'max-age=60, no-store', 'private="Set-Cookie"', 'no-cache="x, y"',
    'no-cache', 'must-revalidate', 'public, proxy-revalidate', ' max-age = 5 ,NO-STORE',
  ];
  for (const cc of refused) {
    c.store('k', 200, H, body(1), 0);
    assert.equal(c.store('k', 200, ['Cache-Control', cc, ...H], body(1), 0), 'cache-control', cc);
    assert.equal(c.getStale('k', 0), undefined, cc);
  }
  // A second Cache-Control line counts too.
  assert.equal(c.store('k', 200, ['cache-control', 'public', 'cache-control', 'no-store'], body(1), 0), 'cache-control');
  assert.equal(c.size, 0);
  assert.equal(c.bytes, 0);
  for (const cc of ['public, max-age=60', 's-maxage=10', 'max-age=0', 'no-transform', 'x="no-store, private"']) {
    assert.equal(c.store('k', 200, ['Cache-Control', cc], body(1), 0), 'stored', cc);
  }
});

test('cacheControlForbids parses directives, arguments and quoted strings', () => {
  assert.equal(cacheControlForbids(''), false);
  assert.equal(cacheControlForbids('no-storex'), false);
  assert.equal(cacheControlForbids('xno-store'), false);
  assert.equal(cacheControlForbids('community="private"'), false);
  assert.equal(cacheControlForbids('ext="a\\"b, no-store", max-age=1'), false);
  assert.equal(cacheControlForbids('ext="a\\"b", no-store'), true);
  assert.equal(cacheControlForbids('max-age=1,private'), true);
  assert.equal(cacheControlForbids('\tmust-revalidate\t'), true);
});

test('Vary: * and Set-Cookie are not stored', () => {
  const c = new ResponseCache();
  assert.equal(c.store('k', 200, ['Vary', 'Accept-Encoding, *'], body(1), 0), 'vary');
  assert.equal(c.store('k', 200, ['Set-Cookie', 'sid=1'], body(1), 0), 'set-cookie');
  assert.equal(c.store('k', 200, ['Vary', 'Accept-Encoding'], body(1), 0), 'stored');
});

test('hop-by-hop headers and those nominated by Connection are not stored', () => {
  const c = new ResponseCache();
  c.store('k', 200, [
    'Connection', 'keep-alive, X-Secret', 'Keep-Alive', 'timeout=5', 'Transfer-Encoding', 'chunked',
    'X-Secret', 's', 'Content-Type', 'text/plain', 'ETag', '"1"',
  ], body(2), 0);
  assert.deepEqual(c.getStale('k', 0)!.headers, ['Content-Type', 'text/plain', 'ETag', '"1"']);
});

test('entries larger than maxEntryBytes are not stored and keep an earlier entry', () => {
  const limit = size('k', 100);
  const c = new ResponseCache({ maxBytes: 10_000, maxEntryBytes: limit });
  assert.equal(c.store('k', 200, H, body(100), 0), 'stored');
  assert.equal(c.store('k', 200, H, body(101, 0x62), 0), 'too-large');
  assert.equal(c.getStale('k', 0)!.body.length, 100);
  assert.equal(c.bytes, limit);
});

test('LRU eviction by bytes: least recently stored or read goes first', () => {
  const one = size('a', 100);
  const c = new ResponseCache({ maxBytes: one * 3, maxEntryBytes: one * 2 });
  c.store('a', 200, H, body(100), 0);
  c.store('b', 200, H, body(100), 0);
  c.store('c', 200, H, body(100), 0);
  assert.equal(c.bytes, one * 3);
  c.getStale('a', 0); // a is now most recent: order b, c, a
  c.store('d', 200, H, body(100), 0); // evicts b
  assert.equal(c.getStale('b', 0), undefined);
  assert.equal(c.evictions, 1);
  // order c, a, d; a double-size entry evicts c and a
  c.store('e', 200, H, body(one + 100), 0);
  assert.equal(c.getStale('c', 0), undefined);
  assert.equal(c.getStale('a', 0), undefined);
  assert.ok(c.getStale('d', 0));
  assert.ok(c.getStale('e', 0));
  assert.equal(c.evictions, 3);
  assert.equal(c.size, 2);
  assert.ok(c.bytes <= c.maxBytes);
});

test('replacing a key updates bytes and recency without evicting', () => {
  const one = size('a', 10);
  const c = new ResponseCache({ maxBytes: one * 2, maxEntryBytes: one * 2 });
  c.store('a', 200, H, body(10), 0);
  c.store('b', 200, H, body(10), 0);
  c.store('a', 404, H, body(10), 5); // a becomes most recent
  assert.equal(c.bytes, one * 2);
  assert.equal(c.evictions, 0);
  c.store('c', 200, H, body(10), 0); // evicts b, not a
  assert.equal(c.getStale('b', 0), undefined);
  assert.equal(c.getStale('a', 5)!.status, 404);
});

test('maxStale: older entries are not returned and are dropped', () => {
  const c = new ResponseCache({ maxStaleMs: 60_000 });
  c.store('k', 200, H, body(1), 0);
  assert.ok(c.getStale('k', 60_000));
  assert.equal(c.getStale('k', 60_001), undefined);
  assert.equal(c.size, 0);
  assert.equal(c.bytes, 0);
  // Upstream Age counts towards maxStale.
  c.store('old', 200, ['Age', '50', ...H], body(1), 0);
  assert.ok(c.getStale('old', 10_000));
  assert.equal(c.getStale('old', 10_001), undefined);
});

test('default maxStale is 24 h', () => {
  const c = new ResponseCache();
  c.store('k', 200, H, body(1), 0);
  assert.equal(c.getStale('k', 86_400_000)!.ageSeconds, 86_400);
  assert.equal(c.getStale('k', 86_400_001), undefined);
});

test('degradedHeaders adds Content-Length, Age and Warning 110, replacing stale ones', () => {
  const c = new ResponseCache();
  c.store('k', 200, ['Content-Type', 'text/html', 'Age', '3', 'content-length', '999', 'ETag', '"v1"'], Buffer.from('<p>hi</p>'), 0);
  const e = c.getStale('k', 7000)!;
  assert.deepEqual(degradedHeaders(e), [
    'Content-Type', 'text/html', 'ETag', '"v1"',
    'Content-Length', '9', 'Age', '10', 'Warning', '110 - "Response is Stale"',
  ]);
  assert.deepEqual(e.headers.length, 8); // the entry itself is unchanged
});

test('delete and clear', () => {
  const c = new ResponseCache();
  c.store('a', 200, H, body(1), 0);
  c.store('b', 200, H, body(1), 0);
  assert.equal(c.delete('a'), true);
  assert.equal(c.delete('a'), false);
  assert.equal(c.bytes, size('b', 1));
  c.clear();
  assert.deepEqual([c.size, c.bytes], [0, 0]);
});

test('invalid options throw RangeError', () => {
  assert.throws(() => new ResponseCache({ maxBytes: 0 }), RangeError);
  assert.throws(() => new ResponseCache({ maxBytes: 10, maxEntryBytes: 11 }), RangeError);
  assert.throws(() => new ResponseCache({ maxEntryBytes: 0 }), RangeError);
  assert.throws(() => new ResponseCache({ maxStaleMs: -1 }), RangeError);
  assert.throws(() => new ResponseCache({ maxStaleMs: Number.NaN }), RangeError);
});
