import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ParserFreeList } from './parser-free-list.js';
import type { ParserCallbacks } from './native-parser.js';

/** Records the URLs of complete requests. */
function recorder(): ParserCallbacks & { urls: string[] } {
  let url = '';
  const urls: string[] = [];
  return {
    urls,
    headersPartial: (_h, u) => { url += u; },
    headersComplete: (_a, _b, _h, _m, u) => { urls.push(url + (u ?? '')); url = ''; return 0; },
    body: () => undefined,
    messageComplete: () => undefined,
  };
}

test('a parser given back is reused for the next owner, reset, and forgets the previous one', () => {
  const list = new ParserFreeList(4);
  const a = recorder();
  const p = list.take(0, a);
  // Released in the middle of a request (a connection that closed): the next owner starts clean.
  const first = Buffer.from('GET /first HTTP/1.1\r\nHost: x\r\n\r\nGET /half');
  assert.equal(p.execute(first), first.length);
  list.release(p);
  assert.equal(list.size, 1);
  assert.equal(p.owner, null, 'the list keeps no connection alive');
  const b = recorder();
  const q = list.take(0, b);
  assert.equal(q, p, 'reused');
  assert.equal(list.size, 0);
  const second = Buffer.from('GET /second HTTP/1.1\r\nHost: x\r\n\r\n');
  assert.equal(q.execute(second), second.length);
  assert.deepEqual(a.urls, ['/first']);
  assert.deepEqual(b.urls, ['/second']);
  list.release(q);
});

test('the list is bounded: parsers beyond its size are closed, not kept', () => {
  const list = new ParserFreeList(2);
  const taken = [list.take(0, recorder()), list.take(0, recorder()), list.take(0, recorder())];
  for (const p of taken) list.release(p);
  assert.equal(list.size, 2);
  const again = [list.take(0, recorder()), list.take(0, recorder()), list.take(0, recorder())];
  assert.equal(new Set(again).size, 3);
  assert.equal(again.filter((p) => taken.includes(p)).length, 2, 'only the two kept ones come back');
  for (const p of again) list.release(p);
});

test('a reused parser is as strict as a new one, with the maximum header size of its new owner', () => {
  const list = new ParserFreeList(1);
  list.release(list.take(0, recorder()));
  const p = list.take(1024, recorder());
  const r = p.execute(Buffer.from(`GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(2000)}\r\n\r\n`));
  assert.ok(r instanceof Error && r.code === 'HPE_HEADER_OVERFLOW', String(r));
  list.release(p);
  const q = list.take(0, recorder());
  const bad = q.execute(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n'));
  assert.ok(bad instanceof Error, 'CL + TE refused');
  list.release(q);
});
