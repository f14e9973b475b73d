/*
 * Switchyard's own corpus of request-smuggling and route-bypass vectors, as data: run against
 * both engines by test/integration/smuggling.test.ts and side by side with nginx and HAProxy by
 * bench/smuggling.mjs. Every vector aims at one thing: getting a request for the protected
 * path `/admin` (which the proxy's routes deny) to a backend, either hidden behind another
 * request (desync, upgrade tunnels) or spelled so that the proxy's route misses it (path
 * normalization). The safety assertion is the same for every vector (see verdict.ts): the backend
 * never parses a request whose path, read as leniently as any backend reads paths, is under
 * `/admin`, and never sees a header the vector must not get through. `expect` is what Switchyard
 * answers (checked by the test); other proxies may answer differently and still be safe.
 */

/** Public research each family comes from. */
export const REFERENCES = {
  rfc9112: 'RFC 9112 §6 (message body: §6.1 Transfer-Encoding, §6.3 message body length), §7.1 (chunked), §11.2 (request smuggling) — https://www.rfc-editor.org/rfc/rfc9112',
  rfc9112syntax: 'RFC 9112 §2.2 (bare CR, line endings), §3 (request line), §3.2 (request target, Host), §5.1-5.2 (no whitespace before colon, obs-fold) — https://www.rfc-editor.org/rfc/rfc9112',
  watchfire: 'C. Linhart, A. Klein, R. Heled, S. Orrin, "HTTP Request Smuggling", Watchfire, 2005 — https://www.cgisecurity.com/lib/HTTP-Request-Smuggling.pdf',
  kettle2019: 'J. Kettle, "HTTP Desync Attacks: Request Smuggling Reborn", PortSwigger Research, 2019 — https://portswigger.net/research/http-desync-attacks-request-smuggling-reborn',
  kettle2021: 'J. Kettle, "HTTP/2: The Sequel is Always Worse", PortSwigger Research, 2021 — https://portswigger.net/research/http2',
  kettle2025: 'J. Kettle, "HTTP/1.1 Must Die: The Desync Endgame", PortSwigger Research, 2025 (Expect-based and 0.CL desyncs) — https://portswigger.net/research/http1-must-die',
  regilero: 'R. Leroy (regilero), "Hiding Wookiees in HTTP: HTTP smuggling", DEF CON 24, 2016 — https://www.youtube.com/watch?v=dVU9i5PsMPY',
  garden: 'B. Kallus, P. Anantharaman et al., "HTTP Garden" (differential fuzzing of HTTP processors; its anomaly list) — https://github.com/narfindustries/http-garden',
  bishopfox: 'J. Miller, "h2c Smuggling: Request Smuggling Via HTTP/2 Cleartext (h2c)", Bishop Fox, 2020 — https://bishopfox.com/blog/h2c-smuggling-request',
  envoyH2c: 'Envoy strips `Upgrade: h2c` and forwards a plain request (source/common/http/http1/codec_impl.cc, envoyproxy/envoy#7161)',
  egorov: 'M. Egorov (0ang3el), "Smuggling HTTP requests over fake WebSocket connection", 2019 — https://github.com/0ang3el/websocket-smuggle',
  rfc9110upgrade: 'RFC 9110 §7.8 (Upgrade), §15.2.2 (101 Switching Protocols) — https://www.rfc-editor.org/rfc/rfc9110#section-7.8',
  orange: 'Orange Tsai, "Breaking Parser Logic! Take Your Path Normalization Off and Pop 0days Out", Black Hat USA 2018 — https://i.blackhat.com/us-18/Wed-August-8/us-18-Orange-Tsai-Breaking-Parser-Logic-Take-Your-Path-Normalization-Off-And-Pop-0days-Out-2.pdf',
  rfc3986: 'RFC 3986 §2.1 (percent-encoding), §5.2.4 (remove_dot_segments) — https://www.rfc-editor.org/rfc/rfc3986',
  rfc9113: 'RFC 9113 §8.1.1 (content-length must match DATA), §8.2.1 (no CR, LF, NUL in fields), §8.2.2 (no connection-specific fields), §8.3 (pseudo-headers) — https://www.rfc-editor.org/rfc/rfc9113',
} as const;

export type Reference = keyof typeof REFERENCES;

export const FAMILIES = {
  'CL.TE': ['kettle2019', 'watchfire', 'rfc9112'],
  'TE.CL': ['kettle2019', 'rfc9112'],
  'TE.TE': ['kettle2019', 'regilero', 'rfc9112'],
  'CL': ['rfc9112', 'regilero', 'garden', 'kettle2025'],
  'chunked': ['rfc9112', 'garden', 'kettle2019'],
  'header-syntax': ['rfc9112syntax', 'garden', 'kettle2019'],
  'request-line': ['rfc9112syntax', 'garden', 'kettle2019'],
  'websocket': ['egorov', 'rfc9110upgrade'],
  'h2c': ['bishopfox', 'envoyH2c', 'rfc9110upgrade'],
  'path': ['orange', 'rfc3986'],
  'h2-downgrade': ['kettle2021', 'rfc9113'],
} as const satisfies Record<string, readonly Reference[]>;

export type Family = keyof typeof FAMILIES;

/**
 * What Switchyard answers: `reject` a 4xx (or a close without answer) and nothing forwarded;
 * `forward` a 2xx from the backend (normalized); `deny` the protected route's own answer;
 * `refused` the backend's 426 to a refused upgrade, relayed; `tunnel` a 101 and a WebSocket
 * tunnel; `bad-gateway` a 502 (the backend switched to a protocol nobody asked for).
 */
export type Expect = 'reject' | 'forward' | 'deny' | 'refused' | 'tunnel' | 'bad-gateway';

/** An HTTP/2 request for the h2 listener: header fields in order (pseudo-headers included) and DATA. */
export interface H2Vector { headers: [string, string][]; data?: string }

export interface Vector {
  id: string;
  family: Family;
  title: string;
  /** HTTP/1.x bytes (latin1); further parts are sent once the proxy answered the previous one. */
  send: string[];
  /** HTTP/2 vectors (https listener with h2) instead of `send`. */
  h2?: H2Vector;
  expect: Expect;
  /** Targets legitimately forwarded before the vector's bad part (a valid pipelined request). */
  legit?: string[];
  /** A header the backend must never receive, by lower-case name and value pattern. */
  forbid?: { name: string; value: RegExp };
}

const HOST = 'Host: h.test';
/** The request every desync vector tries to slip past the proxy. */
const smuggled = (id: string) => `GET /admin/${id} HTTP/1.1\r\n${HOST}\r\n\r\n`;
const hex = (s: string) => s.length.toString(16);

/** `METHOD target HTTP/1.1` + header lines + body, lines joined with CRLF. */
function req(lines: string[], body = '', start = 'POST / HTTP/1.1'): string {
  return `${start}\r\n${lines.join('\r\n')}\r\n\r\n${body}`;
}

const V: Vector[] = [];
function add(family: Family, id: string, title: string, expect: Expect, send: string | string[], extra: Partial<Vector> = {}): void {
  V.push({ id, family, title, expect, send: Array.isArray(send) ? send : [send], ...extra });
}

// ---- CL.TE: the proxy would frame by Content-Length, the backend by chunked ----
{
  const body = (id: string) => `0\r\n\r\n${smuggled(id)}`;
  add('CL.TE', 'clte-basic', 'Content-Length covers a chunked terminator and a request', 'reject',
    req([HOST, `Content-Length: ${body('clte-basic').length}`, 'Transfer-Encoding: chunked'], body('clte-basic')));
  add('CL.TE', 'clte-te-first', 'the same with Transfer-Encoding first', 'reject',
    req([HOST, 'Transfer-Encoding: chunked', `Content-Length: ${body('clte-te-first').length}`], body('clte-te-first')));
  add('CL.TE', 'clte-get', 'on a GET', 'reject',
    req([HOST, `Content-Length: ${body('clte-get').length}`, 'Transfer-Encoding: chunked'], body('clte-get'), 'GET / HTTP/1.1'));
  add('CL.TE', 'clte-http10', 'HTTP/1.0 with both (RFC 9112 §6.1: faulty framing)', 'reject',
    req([HOST, `Content-Length: ${body('clte-http10').length}`, 'Transfer-Encoding: chunked'], body('clte-http10'), 'POST / HTTP/1.0'));
  add('CL.TE', 'clte-keepalive-second', 'a valid request first, the ambiguous one pipelined behind it', 'reject',
    req([HOST], '', 'GET /first HTTP/1.1') + req([HOST, `Content-Length: ${body('clte-keepalive-second').length}`, 'Transfer-Encoding: chunked'], body('clte-keepalive-second')),
    { legit: ['/first'] });
}

// ---- TE.CL: the proxy would frame by chunked, the backend by Content-Length ----
{
  const chunk = (id: string) => `${hex(smuggled(id))}\r\n`;
  const body = (id: string) => `${chunk(id)}${smuggled(id)}\r\n0\r\n\r\n`;
  add('TE.CL', 'tecl-basic', 'Content-Length covers only the chunk-size line', 'reject',
    req([HOST, `Content-Length: ${chunk('tecl-basic').length}`, 'Transfer-Encoding: chunked'], body('tecl-basic')));
  add('TE.CL', 'tecl-cl-first', 'the same with Content-Length first', 'reject',
    req([HOST, `Content-Length: ${chunk('tecl-cl-first').length}`, 'Transfer-Encoding: chunked'].reverse(), body('tecl-cl-first')));
  add('TE.CL', 'tecl-cl-zero', 'Content-Length: 0 beside a chunked body', 'reject',
    req([HOST, 'Content-Length: 0', 'Transfer-Encoding: chunked'], body('tecl-cl-zero')));
}

// ---- TE.TE: Transfer-Encoding obfuscated so that one side ignores it ----
{
  const te = (id: string, teLines: string[], withCl = true, start = 'POST / HTTP/1.1') => {
    const body = `0\r\n\r\n${smuggled(id)}`;
    return req([HOST, ...(withCl ? [`Content-Length: ${body.length}`] : []), ...teLines], body, start);
  };
  const cases: [string, string, string[], boolean?][] = [
    ['tete-xchunked', 'Transfer-Encoding: xchunked', ['Transfer-Encoding: xchunked']],
    ['tete-xchunked-nocl', 'Transfer-Encoding: xchunked without Content-Length', ['Transfer-Encoding: xchunked'], false],
    ['tete-space-before-colon', 'Transfer-Encoding : chunked', ['Transfer-Encoding : chunked']],
    ['tete-leading-space-line', 'a header line starting with a space (obs-fold)', ['X: y', ' Transfer-Encoding: chunked']],
    ['tete-tab', 'tab as whitespace before the value, with Content-Length', ['Transfer-Encoding:\tchunked']],
    ['tete-duplicate', 'two Transfer-Encoding headers: chunked and x', ['Transfer-Encoding: chunked', 'Transfer-Encoding: x']],
    ['tete-chunked-identity', 'Transfer-Encoding: chunked, identity', ['Transfer-Encoding: chunked, identity']],
    ['tete-identity-chunked', 'Transfer-Encoding: identity, chunked (no Content-Length)', ['Transfer-Encoding: identity, chunked'], false],
    ['tete-chunked-twice', 'Transfer-Encoding: chunked, chunked (RFC 9112 §6.1: at most once)', ['Transfer-Encoding: chunked, chunked'], false],
    ['tete-line-folding', 'Transfer-Encoding folded onto a second line', ['Transfer-Encoding: x', ' chunked']],
    ['tete-vertical-tab', 'a vertical tab before the value', ['Transfer-Encoding:\x0bchunked']],
    ['tete-nul', 'a NUL after chunked', ['Transfer-Encoding: chunked\x00']],
    ['tete-quoted', 'Transfer-Encoding: "chunked"', ['Transfer-Encoding: "chunked"'], false],
    ['tete-empty-element', 'Transfer-Encoding: , chunked', ['Transfer-Encoding: , chunked'], false],
    ['tete-trailing-space', 'Transfer-Encoding: chunked followed by a space, with Content-Length', ['Transfer-Encoding: chunked ']],
    ['tete-name-suffix', 'Transfer-Encoding-X: chunked (a different header; Content-Length frames)', ['Transfer-Encoding-X: chunked']],
    ['tete-underscore', 'Transfer_Encoding: chunked (some servers fold _ into -)', ['Transfer_Encoding: chunked']],
  ];
  for (const [id, title, lines, withCl] of cases) {
    // A different header name leaves Content-Length as the only framing: the "smuggled" bytes
    // are then the body of a forwarded request, never a request of their own.
    const expect: Expect = id === 'tete-name-suffix' || id === 'tete-underscore' ? 'forward' : 'reject';
    add('TE.TE', id, title, expect, te(id, lines, withCl ?? true));
  }
  add('TE.TE', 'tete-case', 'Transfer-Encoding: CHUNKED (valid; the rest is parsed as the next request)', 'forward', te('tete-case', ['Transfer-Encoding: CHUNKED'], false));
  add('TE.TE', 'tete-http10-chunked', 'HTTP/1.0 with Transfer-Encoding: chunked only', 'reject', te('tete-http10-chunked', ['Transfer-Encoding: chunked'], false, 'POST / HTTP/1.0'));
}

// ---- Content-Length anomalies ----
{
  const cl = (id: string, value: string | string[], expect: Expect, title: string) => {
    const body = smuggled(id);
    const lines = (Array.isArray(value) ? value : [value]).map((v) => `Content-Length: ${v}`);
    add('CL', id, title, expect, req([HOST, ...lines], body));
  };
  const n = (id: string) => smuggled(id).length;
  cl('cl-duplicate-different', ['0', String(n('cl-duplicate-different'))], 'reject', 'two Content-Length, different');
  cl('cl-duplicate-same', [String(n('cl-duplicate-same')), String(n('cl-duplicate-same'))], 'reject', 'two Content-Length, equal');
  cl('cl-list', `0, ${n('cl-list')}`, 'reject', 'Content-Length: 0, N (a list)');
  cl('cl-plus', `+${n('cl-plus')}`, 'reject', 'a plus sign');
  cl('cl-minus', '-1', 'reject', 'negative');
  cl('cl-hex', `0x${n('cl-hex').toString(16)}`, 'reject', 'hexadecimal');
  cl('cl-overflow', '18446744073709551616', 'reject', 'larger than 2^64');
  cl('cl-empty', '', 'reject', 'empty value');
  cl('cl-trailing-junk', '0a', 'reject', 'a digit followed by junk');
  cl('cl-space-inside', '0 0', 'reject', 'two numbers separated by a space');
  cl('cl-nul', `${n('cl-nul')}\x00`, 'reject', 'a NUL after the number');
  add('CL', 'cl-expect-continue', 'Expect: 100-continue with a request as the body (forwarded as a body)', 'forward',
    req([HOST, 'Expect: 100-continue', `Content-Length: ${n('cl-expect-continue')}`], smuggled('cl-expect-continue')));
  add('CL', 'cl-expect-obfuscated', 'Expect: y 100-continue with a request as the body (Kettle 2025: Expect-based desync)', 'forward',
    req([HOST, 'Expect: y 100-continue', `Content-Length: ${n('cl-expect-obfuscated')}`], smuggled('cl-expect-obfuscated')));
  cl('cl-leading-zeros', `000${n('cl-leading-zeros')}`, 'forward', 'leading zeros (valid: the body is the request text, never parsed as one)');
  add('CL', 'cl-zero-then-request', 'Content-Length: 0 and a request behind it (pipelined, must be routed on its own)', 'forward',
    req([HOST, 'Content-Length: 0'], smuggled('cl-zero-then-request')));
  add('CL', 'cl-get-with-body', 'a GET whose body is a request (forwarded as a body)', 'forward',
    req([HOST, `Content-Length: ${n('cl-get-with-body')}`], smuggled('cl-get-with-body'), 'GET / HTTP/1.1'));
}

// ---- chunked body anomalies ----
{
  const ch = (id: string, body: string, expect: Expect, title: string) =>
    add('chunked', id, title, expect, req([HOST, 'Transfer-Encoding: chunked'], body + smuggled(id)));
  ch('chunk-size-overflow', 'FFFFFFFFFFFFFFFFF1\r\nabc\r\n0\r\n\r\n', 'reject', 'chunk size beyond 64 bits (wraps to 0xf1 in some parsers)');
  ch('chunk-size-negative', '-1\r\nabc\r\n0\r\n\r\n', 'reject', 'negative chunk size');
  ch('chunk-size-0x', '0x3\r\nabc\r\n0\r\n\r\n', 'reject', '0x prefix');
  ch('chunk-size-trailing-space', '3 \r\nabc\r\n0\r\n\r\n', 'reject', 'space after the chunk size');
  ch('chunk-size-leading-space', ' 3\r\nabc\r\n0\r\n\r\n', 'reject', 'space before the chunk size');
  ch('chunk-ext-bare-lf', '3;x\nabc\r\n0\r\n\r\n', 'reject', 'bare LF ending a chunk extension');
  ch('chunk-missing-crlf', '3\r\nabcX0\r\n\r\n', 'reject', 'chunk data not followed by CRLF');
  ch('chunk-bare-lf-size', '3\nabc\r\n0\r\n\r\n', 'reject', 'bare LF after the chunk size');
  ch('chunk-last-bare-lf', '0\n\n', 'reject', 'last chunk terminated with bare LFs');
  ch('chunk-size-too-long-data', '2\r\nabc\r\n0\r\n\r\n', 'reject', 'more data than the chunk size');
  ch('chunk-trailer-invalid', '0\r\nX Bad: y\r\n\r\n', 'reject', 'an invalid trailer field');
  add('chunked', 'chunk-ext-valid', 'a valid chunk extension; the request behind the body is routed on its own', 'forward',
    req([HOST, 'Transfer-Encoding: chunked'], `3;name=value\r\nabc\r\n0\r\n\r\n${smuggled('chunk-ext-valid')}`));
  add('chunked', 'chunk-trailer-leak', 'a trailer field must not become a header of the next request on the connection', 'forward',
    req([HOST, 'Transfer-Encoding: chunked'], `3\r\nabc\r\n0\r\nX-Injected: 1\r\n\r\nGET /next HTTP/1.1\r\n${HOST}\r\n\r\n`),
    { forbid: { name: 'x-injected', value: /./ } });
  add('chunked', 'chunk-trailer-cl', 'a Content-Length trailer after the last chunk', 'reject',
    req([HOST, 'Transfer-Encoding: chunked'], `3\r\nabc\r\n0\r\nContent-Length: 50\r\n\r\n${smuggled('chunk-trailer-cl')}`));
}

// ---- header syntax ----
{
  const hs = (id: string, lines: string[], expect: Expect, title: string) =>
    add('header-syntax', id, title, expect, req(lines, smuggled(id), 'GET / HTTP/1.1'));
  hs('hdr-cl-space-before-colon', [HOST, `Content-Length : ${smuggled('hdr-cl-space-before-colon').length}`], 'reject', 'Content-Length : N');
  hs('hdr-obs-fold-host', [HOST, ' evil.test'], 'reject', 'Host folded onto a second line');
  hs('hdr-bare-cr', [HOST, 'X-A: a\rb'], 'reject', 'bare CR inside a value');
  hs('hdr-nul-value', [HOST, 'X-A: a\x00b'], 'reject', 'NUL in a value');
  hs('hdr-nul-name', [HOST, 'X-\x00A: b'], 'reject', 'NUL in a name');
  hs('hdr-invalid-name', [HOST, 'X[A]: b'], 'reject', 'brackets in a name');
  hs('hdr-non-ascii-name', [HOST, 'X-\xc3\xa9: b'], 'reject', 'non-ASCII name');
  hs('hdr-empty-name', [HOST, ': b'], 'reject', 'empty name');
  hs('hdr-no-colon', [HOST, 'NoColon'], 'reject', 'a line without a colon');
  add('header-syntax', 'hdr-bare-lf', 'bare LF line endings in the head', 'reject', `GET / HTTP/1.1\n${HOST}\nContent-Length: ${smuggled('hdr-bare-lf').length}\n\n${smuggled('hdr-bare-lf')}`);
  add('header-syntax', 'hdr-cr-only', 'CR-only line endings', 'reject', `GET / HTTP/1.1\r${HOST}\r\r${smuggled('hdr-cr-only')}`);
}

// ---- request line and Host ----
{
  const rl = (id: string, start: string, lines: string[], expect: Expect, title: string) =>
    add('request-line', id, title, expect, `${start}\r\n${lines.join('\r\n')}\r\n\r\n`);
  rl('rl-host-duplicate', 'GET /admin-free HTTP/1.1', [HOST, 'Host: admin.test'], 'reject', 'two Host headers');
  rl('rl-host-missing', 'GET / HTTP/1.1', ['X: y'], 'reject', 'no Host on HTTP/1.1');
  rl('rl-absolute-form-admin', 'GET http://h.test/admin HTTP/1.1', ['Host: other.test'], 'reject', 'absolute-form /admin with another Host');
  rl('rl-absolute-form-authority', 'GET http://admin.test/ HTTP/1.1', [HOST], 'reject', 'absolute-form naming another authority');
  rl('rl-absolute-form-userinfo', 'GET http://x@h.test/admin HTTP/1.1', [HOST], 'reject', 'absolute-form with userinfo');
  rl('rl-double-space', 'GET  /admin HTTP/1.1', [HOST], 'deny', 'two spaces after the method (read on word boundaries, RFC 9112 §3)');
  rl('rl-http09', 'GET /admin', [HOST], 'deny', 'HTTP/0.9 request line (read as GET /admin, then closed)');
  rl('rl-version-12', 'GET /admin HTTP/1.2', [HOST], 'reject', 'HTTP/1.2');
  rl('rl-bad-method', 'G(ET /admin HTTP/1.1', [HOST], 'reject', 'invalid character in the method');
  rl('rl-h2-preface', 'PRI * HTTP/2.0', ['', 'SM'], 'reject', 'the HTTP/2 preface on an HTTP/1.1 listener (h2c prior knowledge)');
  rl('rl-target-tab', 'GET /admin\t/x HTTP/1.1', [HOST], 'reject', 'tab in the target');
  add('request-line', 'rl-admin-in-query', 'the protected path only in the query (forwarded)', 'forward', `GET /?next=/admin HTTP/1.1\r\n${HOST}\r\n\r\n`);
}

// ---- WebSocket upgrades (0ang3el) ----
{
  const ws = (target: string, version = '13', extra: string[] = []) =>
    `GET ${target} HTTP/1.1\r\n${HOST}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: ${version}\r\n${extra.map((l) => `${l}\r\n`).join('')}\r\n`;
  add('websocket', 'ws-refused-then-request', 'a refused upgrade (bad version) with a request right behind it', 'refused',
    ws('/ws-ok', '1337') + smuggled('ws-refused-then-request'));
  add('websocket', 'ws-refused-then-request-later', 'a refused upgrade, then a request on the same connection after the 426', 'refused',
    [ws('/ws-ok', '1337'), smuggled('ws-refused-then-request-later')]);
  add('websocket', 'ws-refused-other-path', 'an upgrade on a path that does not speak WebSocket (426), then a request', 'refused',
    [ws('/chat'), smuggled('ws-refused-other-path')]);
  add('websocket', 'ws-101-wrong-protocol', 'the backend answers 101 for another protocol and keeps reading HTTP', 'bad-gateway',
    [ws('/ws-wrong'), smuggled('ws-101-wrong-protocol')]);
  add('websocket', 'ws-101-no-upgrade-header', 'the backend answers 101 without Upgrade and keeps reading HTTP', 'bad-gateway',
    [ws('/ws-noheader'), smuggled('ws-101-no-upgrade-header')]);
  add('websocket', 'ws-disallowed-protocol', 'Upgrade: x-tunnel (not allowed by the route) with a request behind it', 'forward',
    `GET / HTTP/1.1\r\n${HOST}\r\nConnection: Upgrade\r\nUpgrade: x-tunnel\r\n\r\n${smuggled('ws-disallowed-protocol')}`,
    { forbid: { name: 'upgrade', value: /x-tunnel/i } });
  add('websocket', 'ws-no-connection-upgrade', 'Upgrade without Connection: upgrade, a request behind it', 'forward',
    `GET / HTTP/1.1\r\n${HOST}\r\nUpgrade: websocket\r\n\r\n${smuggled('ws-no-connection-upgrade')}`);
  add('websocket', 'ws-post-body', 'a POST upgrade whose body is a request', 'forward',
    `POST /ws-ok HTTP/1.1\r\n${HOST}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nContent-Length: ${smuggled('ws-post-body').length}\r\n\r\n${smuggled('ws-post-body')}`);
  add('websocket', 'ws-chunked-body', 'a chunked upgrade request with a request after its body', 'forward',
    `GET /ws-ok HTTP/1.1\r\n${HOST}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${smuggled('ws-chunked-body')}`);
  add('websocket', 'ws-two-upgrade-headers', 'two Upgrade headers (served as a plain request)', 'forward',
    ws('/ws-ok', '13', ['Upgrade: x-tunnel']) + smuggled('ws-two-upgrade-headers'));
  add('websocket', 'ws-behind-pipelined', 'an upgrade pipelined behind a request, then a request', 'forward',
    `GET /first HTTP/1.1\r\n${HOST}\r\n\r\n${ws('/ws-ok', '1337')}${smuggled('ws-behind-pipelined')}`);
  add('websocket', 'ws-accepted', 'a real WebSocket upgrade still becomes a tunnel (control)', 'tunnel', ws('/ws-ok'));
}

// ---- h2c upgrades (Bishop Fox) ----
{
  const h2c = (id: string, start: string, lines: string[], body = '') =>
    `${start}\r\n${HOST}\r\n${lines.join('\r\n')}\r\n\r\n${body}${smuggled(id)}`;
  const forbid = { name: 'upgrade', value: /h2c/i };
  add('h2c', 'h2c-upgrade', 'GET with Upgrade: h2c and HTTP2-Settings, a request behind it', 'forward',
    h2c('h2c-upgrade', 'GET / HTTP/1.1', ['Upgrade: h2c', 'HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA', 'Connection: Upgrade, HTTP2-Settings']), { forbid });
  add('h2c', 'h2c-upgrade-only-connection-upgrade', 'Upgrade: h2c with Connection: Upgrade only', 'forward',
    h2c('h2c-upgrade-only-connection-upgrade', 'GET / HTTP/1.1', ['Upgrade: h2c', 'HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA', 'Connection: Upgrade']), { forbid });
  add('h2c', 'h2c-upgrade-post', 'a POST with a body and Upgrade: h2c (as curl --http2 sends)', 'forward',
    h2c('h2c-upgrade-post', 'POST / HTTP/1.1', ['Upgrade: h2c', 'HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA', 'Connection: Upgrade, HTTP2-Settings', 'Content-Length: 3'], 'abc'), { forbid });
  add('h2c', 'h2c-upgrade-upper', 'Upgrade: H2C', 'forward',
    h2c('h2c-upgrade-upper', 'GET / HTTP/1.1', ['Upgrade: H2C', 'Connection: Upgrade']), { forbid });
  add('h2c', 'h2c-with-websocket', 'Upgrade: h2c, websocket (only websocket may pass)', 'refused',
    h2c('h2c-with-websocket', 'GET / HTTP/1.1', ['Upgrade: h2c, websocket', 'Connection: Upgrade', 'Sec-WebSocket-Version: 13']), { forbid });
  add('h2c', 'h2c-public-path', 'an h2c upgrade on another path with a request behind it', 'forward',
    h2c('h2c-public-path', 'GET /public HTTP/1.1', ['Upgrade: h2c', 'Connection: Upgrade']) , { forbid });
}

// ---- path normalization: spellings of /admin ----
{
  const p = (id: string, target: string, expect: Expect, title: string) =>
    add('path', id, title, expect, `GET ${target} HTTP/1.1\r\n${HOST}\r\n\r\n`);
  p('path-plain', '/admin', 'deny', 'the protected path itself (control)');
  p('path-pct-unreserved', '/%61dmin', 'deny', '%61 for a');
  p('path-pct-all', '/%61%64%6d%69%6e', 'deny', 'every letter escaped');
  p('path-dot', '/./admin', 'deny', 'a . segment');
  p('path-dotdot', '/public/../admin', 'deny', 'a .. segment');
  p('path-dotdot-encoded', '/public/%2e%2e/admin', 'deny', 'an escaped .. segment');
  p('path-double-slash', '//admin', 'deny', 'a leading double slash');
  p('path-slash-encoded', '/public%2F..%2Fadmin', 'deny', 'escaped slashes around ..');
  p('path-semicolon-after', '/admin;jsessionid=1', 'deny', ';params after the segment (Tomcat, Spring)');
  p('path-semicolon-dotdot', '/public/..;/admin', 'deny', '..; (Orange Tsai)');
  p('path-semicolon-segment', '/;x/admin', 'deny', 'a ;param segment before it');
  p('path-backslash', '/\\admin', 'deny', 'a backslash as separator');
  p('path-backslash-dotdot', '/public\\..\\admin', 'deny', 'backslash .. backslash');
  p('path-pct-backslash', '/public%5C..%5Cadmin', 'deny', 'escaped backslashes');
  p('path-fragment', '/admin#frag', 'reject', 'a fragment in the target');
  p('path-fragment-dotdot', '/public#/../admin', 'reject', 'a fragment hiding a .. segment');
  p('path-overlong-slash', '/public%C0%AF..%C0%AFadmin', 'reject', 'overlong UTF-8 slashes');
  p('path-overlong-dot', '/public/%C0%AE%C0%AE/admin', 'reject', 'overlong UTF-8 dots');
  p('path-trailing-slash', '/admin/', 'deny', 'a trailing slash');
  p('path-neighbour', '/administrator', 'forward', 'a neighbouring name is not the protected path');
}

// ---- HTTP/2 → HTTP/1.1 downgrade (https listener with h2) ----
{
  const base: [string, string][] = [[':method', 'POST'], [':scheme', 'https'], [':authority', 'h.test'], [':path', '/']];
  const h2 = (id: string, title: string, expect: Expect, headers: [string, string][], data?: string) =>
    V.push({ id, family: 'h2-downgrade', title, expect, send: [], h2: { headers, data } });
  h2('h2-cl-short', 'content-length: 0 with DATA holding a request (H2.CL)', 'reject', [...base, ['content-length', '0']], smuggled('h2-cl-short'));
  h2('h2-cl-long', 'content-length larger than DATA', 'reject', [...base, ['content-length', '999']], 'abc');
  h2('h2-te-chunked', 'transfer-encoding: chunked in HTTP/2 (H2.TE)', 'reject', [...base, ['transfer-encoding', 'chunked']], `0\r\n\r\n${smuggled('h2-te-chunked')}`);
  // nghttp2 drops a field with CR/LF (RFC 9113 §8.2.1) before the proxy sees it: the rest goes on.
  h2('h2-crlf-value', 'CRLF in a header value injecting a request (the field is dropped)', 'forward', [...base, ['x-a', `b\r\n\r\n${smuggled('h2-crlf-value')}`]]);
  h2('h2-crlf-name', 'CRLF in a header name (the field is dropped; the body stays a body)', 'forward', [...base, ['x-a\r\ntransfer-encoding', 'chunked']], `0\r\n\r\n${smuggled('h2-crlf-name')}`);
  h2('h2-path-injection', ':path with a space and a request line after it', 'reject',
    [[':method', 'GET'], [':scheme', 'https'], [':authority', 'h.test'], [':path', `/ HTTP/1.1\r\n${HOST}\r\n\r\nGET /admin/h2-path-injection`]]);
  h2('h2-path-space', ':path with a space splitting the request line', 'reject',
    [[':method', 'GET'], [':scheme', 'https'], [':authority', 'h.test'], [':path', '/x HTTP/1.1 /admin/h2-path-space']]);
  h2('h2-method-injection', ':method carrying a whole request line', 'reject',
    [[':method', 'GET /admin/h2-method-injection HTTP/1.1'], [':scheme', 'https'], [':authority', 'h.test'], [':path', '/']]);
  h2('h2-path-encoded', ':path /%61dmin', 'deny', [[':method', 'GET'], [':scheme', 'https'], [':authority', 'h.test'], [':path', '/%61dmin']]);
  h2('h2-connection-header', 'a connection header in HTTP/2', 'reject', [...base, ['connection', 'keep-alive']]);
  h2('h2-pseudo-after-regular', ':path after a regular field (RFC 9113 §8.3)', 'reject',
    [[':method', 'GET'], [':scheme', 'https'], [':authority', 'h.test'], ['x-a', 'b'], [':path', '/admin/h2-pseudo-after-regular']]);
  h2('h2-uppercase-name', 'an upper-case field name (malformed in HTTP/2)', 'reject', [...base, ['Transfer-Encoding', 'chunked']], `0\r\n\r\n${smuggled('h2-uppercase-name')}`);
}

/** Every vector of the corpus. */
export const CORPUS: readonly Vector[] = V;
