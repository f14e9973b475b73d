import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { startBackends, startSwitchyard, freePort, baseConfig, rawRequest, type Backend, type Switchyard } from './harness.js';

/*
 * Requests a proxy must refuse rather than forward: each one is a known request-smuggling or
 * header-injection shape. Every case asserts a 4xx and that the backend never saw a request.
 */

let backends: Backend[];
let sy: Switchyard;

before(async () => {
  backends = await startBackends(1);
  const port = await freePort();
  sy = await startSwitchyard(baseConfig(port, { app: { backends: [{ address: backends[0].address }] } }, undefined, {
    listeners: [{ name: 'web', address: `127.0.0.1:${port}`, maxHeaderSize: 4096 }],
  }));
});

after(async () => {
  await sy?.stop();
  await Promise.all(backends.map((b) => b.close()));
});

const cases: [string, string][] = [
  ['Content-Length and Transfer-Encoding', 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'],
  ['two Content-Length, different', 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\nabcde'],
  ['two Content-Length, equal', 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nContent-Length: 4\r\n\r\nabcd'],
  ['two Host headers', 'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n'],
  ['no Host on HTTP/1.1', 'GET / HTTP/1.1\r\n\r\n'],
  ['invalid character in header value', 'GET / HTTP/1.1\r\nHost: a\r\nX-Bad: a\x01b\r\n\r\n'],
  ['invalid character in header name', 'GET / HTTP/1.1\r\nHost: a\r\nX Bad: x\r\n\r\n'],
  ['bare LF line endings mixed', 'GET / HTTP/1.1\r\nHost: a\nX-A: b\r\n\r\n'],
  ['obsolete line folding', 'GET / HTTP/1.1\r\nHost: a\r\nX-A: b\r\n  c\r\n\r\n'],
  ['Transfer-Encoding not chunked', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n'],
  ['Transfer-Encoding chunked twice', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'],
  ['Transfer-Encoding with junk', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n'],
  ['space before colon', 'GET / HTTP/1.1\r\nHost: a\r\nContent-Length : 0\r\n\r\n'],
  ['oversized headers', `GET / HTTP/1.1\r\nHost: a\r\nX-Big: ${'a'.repeat(8000)}\r\n\r\n`],
  ['invalid chunk size', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n'],
  ['bad percent-escape in path', 'GET /a%G1 HTTP/1.1\r\nHost: a\r\n\r\n'],
  ['escaped NUL in path', 'GET /a%00b HTTP/1.1\r\nHost: a\r\n\r\n'],
  ['invalid request line', 'GET / HTTP/1.1 extra\r\nHost: a\r\n\r\n'],
  ['unknown HTTP version', 'GET / HTTP/3.7\r\nHost: a\r\n\r\n'],
  ['non-HTTP garbage', '\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n'],
];

for (const [name, raw] of cases) {
  test(`refuses ${name} with a 4xx and never forwards it`, async () => {
    const before = backends[0].seen.length;
    const res = await rawRequest(sy.port, raw, 1500);
    const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(res)?.[1]);
    assert.ok(status >= 400 && status < 500, `expected 4xx, got: ${JSON.stringify(res.slice(0, 120))}`);
    assert.equal(backends[0].seen.length, before, 'the backend must not receive the request');
  });
}

test('a valid chunked POST still goes through (the checks are not over-eager)', async () => {
  const before = backends[0].seen.length;
  const res = await rawRequest(sy.port, 'POST /ok HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n3\r\nabc\r\n0\r\n\r\n');
  assert.match(res, /^HTTP\/1.1 200 /);
  assert.equal(backends[0].seen.length, before + 1);
});

test('a request smuggled after an ambiguous one is never forwarded', async () => {
  const before = backends[0].seen.length;
  const smuggle = 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 44\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n';
  const res = await rawRequest(sy.port, smuggle, 1500);
  assert.match(res, /^HTTP\/1.1 400 /);
  assert.equal(backends[0].seen.filter((s) => s.url === '/smuggled').length, 0);
  assert.equal(backends[0].seen.length, before);
});
