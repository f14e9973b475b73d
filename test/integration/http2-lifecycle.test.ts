import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { connect as h2connect, constants, type ClientHttp2Session, type ClientHttp2Stream } from 'node:http2';
import { selfSignedCert } from '../support/self-signed.js';
import { startBackends, startSwitchyard, freePort, baseConfig, sleep, type Backend, type Switchyard } from './harness.js';

/*
 * The life of HTTP/2 streams and sessions on an https listener: a client's RST_STREAM cancels the
 * upstream request, maxConcurrentStreams holds, GOAWAY when idle and on drain, and the drain
 * timeout cuts the streams still open. Every wait is bounded; no assertion is on elapsed time.
 */


let backend: Backend;
let cert: string;
let key: string;
/** Requests to /hang that the backend saw end before it answered (the proxy gave them up). */
let abandoned = 0;
/** Requests of /slow at the backend now, and the most at once. */
const slow = { now: 0, max: 0 };

before(async () => {
  ({ cert, key } = selfSignedCert());
  [backend] = await startBackends(1, (req, res) => {
    req.resume();
    const url = new URL(req.url!, 'http://x');
    if (url.pathname === '/hang') { res.on('close', () => { if (!res.writableEnded) abandoned++; }); return; }
    if (url.pathname === '/slow') {
      slow.now++; slow.max = Math.max(slow.max, slow.now);
      setTimeout(() => { slow.now--; res.end('slow'); }, Number(url.searchParams.get('ms') ?? 300));
      return;
    }
    res.end('ok');
  });
});

after(async () => {
  await backend?.close();
});

async function start(extra: Record<string, unknown> = {}, listener: Record<string, unknown> = {}): Promise<Switchyard> {
  const port = await freePort();
  return startSwitchyard(baseConfig(port, { app: { backends: [{ address: backend.address }], retries: { enabled: false } } }, undefined, {
    listeners: [{ name: 'tls', address: `127.0.0.1:${port}`, protocol: 'https', tls: { certificates: [{ cert, key }] }, ...listener }],
    ...extra,
  }));
}

function session(port: number): Promise<ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const s = h2connect(`https://127.0.0.1:${port}`, { servername: 'site.test', rejectUnauthorized: false });
    s.once('remoteSettings', () => resolve(s));
    s.once('error', reject);
  });
}

/** Opens a stream; `done` resolves with its status and body, or with status 0 and the error code when it is reset. */
function open(s: ClientHttp2Session, path: string): { stream: ClientHttp2Stream; done: Promise<{ status: number; body: string; error?: string }> } {
  const stream = s.request({ ':path': path, ':authority': 'site.test' });
  const done = new Promise<{ status: number; body: string; error?: string }>((resolve) => {
    let status = 0;
    let body = '';
    stream.on('response', (h) => { status = Number(h[':status']); });
    stream.on('data', (d: Buffer) => { body += d.toString(); });
    stream.on('end', () => resolve({ status, body }));
    stream.on('error', (e: NodeJS.ErrnoException) => resolve({ status: 0, body, error: e.code }));
    stream.on('close', () => resolve({ status, body, error: stream.rstCode ? `rst ${stream.rstCode}` : undefined }));
  });
  return { stream, done };
}

/** Polls `cond` every 50 ms for at most `ms`. */
async function until(cond: () => boolean, ms = 5000): Promise<boolean> {
  for (const end = Date.now() + ms; !cond() && Date.now() < end;) await sleep(50);
  return cond();
}

test('a reload\'s maxConcurrentStreams and maxHeaderSize reach new sessions; an open session keeps what it was told', { timeout: 30_000 }, async () => {
  const port = await freePort();
  const config = (streams: number, maxHeaderSize: number) => baseConfig(port, { app: { backends: [{ address: backend.address }], retries: { enabled: false } } }, undefined, {
    listeners: [{ name: 'tls', address: `127.0.0.1:${port}`, protocol: 'https', tls: { certificates: [{ cert, key }] }, maxHeaderSize, http2: { maxConcurrentStreams: streams } }],
  });
  const sy = await startSwitchyard(config(2, 16_384));
  const sessions: ClientHttp2Session[] = [];
  try {
    const old = await session(sy.port);
    sessions.push(old);
    assert.deepEqual([old.remoteSettings.maxConcurrentStreams, old.remoteSettings.maxHeaderListSize], [2, 16_384]);
    const mark = sy.output().length;
    sy.writeConfig(config(3, 2048));
    await sy.waitForLog(/"msg":"config applied"/, 15_000, mark);
    const fresh = await session(sy.port);
    sessions.push(fresh);
    assert.deepEqual([fresh.remoteSettings.maxConcurrentStreams, fresh.remoteSettings.maxHeaderListSize], [3, 2048]);
    assert.equal(old.remoteSettings.maxConcurrentStreams, 2, 'an open session is not sent new SETTINGS');
    const served = await open(old, '/ok').done;
    assert.deepEqual([served.status, served.body], [200, 'ok'], 'and keeps serving');
  } finally {
    for (const s of sessions) s.destroy();
    await sy.stop();
  }
});

test('a client RST_STREAM (CANCEL) cancels the upstream request; the session keeps serving', { timeout: 30_000 }, async () => {
  const sy = await start();
  const s = await session(sy.port);
  try {
    const seen = backend.seen.length;
    const before = abandoned;
    const { stream } = open(s, '/hang');
    assert.ok(await until(() => backend.seen.length > seen), 'the request reached the backend');
    stream.close(constants.NGHTTP2_CANCEL);
    assert.ok(await until(() => abandoned > before), 'the backend saw its request given up after the client cancelled');
    const next = await open(s, '/ok').done;
    assert.deepEqual([next.status, next.body], [200, 'ok']);
  } finally {
    s.destroy();
    await sy.stop();
  }
});

test('maxConcurrentStreams is announced and holds: a third stream waits for one of two to end, all complete', { timeout: 30_000 }, async () => {
  const sy = await start({}, { http2: { maxConcurrentStreams: 2 } });
  const s = await session(sy.port);
  try {
    assert.equal(s.remoteSettings.maxConcurrentStreams, 2);
    slow.max = 0;
    const results = await Promise.all([1, 2, 3, 4].map(() => open(s, '/slow?ms=400').done));
    assert.deepEqual(results.map((r) => [r.status, r.body]), Array(4).fill([200, 'slow']));
    assert.equal(slow.max, 2, 'never more than two at the backend from one session');
  } finally {
    s.destroy();
    await sy.stop();
  }
});

test('GETs that wait for a bulkhead slot (their streams paused, never read) are answered in turn, and the session keeps serving', { timeout: 30_000 }, async () => {
  const port = await freePort();
  const sy = await startSwitchyard(baseConfig(port, {
    app: { backends: [{ address: backend.address }], retries: { enabled: false }, bulkhead: { maxConcurrent: 1, maxQueued: 4, queueTimeout: '10s' } },
  }, undefined, { listeners: [{ name: 'tls', address: `127.0.0.1:${port}`, protocol: 'https', tls: { certificates: [{ cert, key }] } }] }));
  const s = await session(port);
  try {
    slow.max = 0;
    const results = await Promise.all(Array.from({ length: 3 }, () => open(s, '/slow?ms=200').done));
    assert.deepEqual(results.map((r) => `${r.status} ${r.body}`), ['200 slow', '200 slow', '200 slow']);
    assert.equal(slow.max, 1, 'one at a time: the others waited for the slot');
    const next = await open(s, '/x').done;
    assert.equal(`${next.status} ${next.body}`, '200 ok');
  } finally {
    s.destroy();
    await sy.stop();
  }
});

test('an idle session gets a GOAWAY after timeouts.keepAlive; one with an open stream does not', { timeout: 30_000 }, async () => {
  const sy = await start({}, { timeouts: { keepAlive: '500ms' } });
  const idle = await session(sy.port);
  const busy = await session(sy.port);
  try {
    let idleGoaway = false;
    let busyGoaway = false;
    idle.on('goaway', () => { idleGoaway = true; });
    busy.on('goaway', () => { busyGoaway = true; });
    const long = open(busy, '/slow?ms=2500');
    assert.deepEqual([(await open(idle, '/ok').done).status], [200]);
    assert.ok(await until(() => idleGoaway), 'GOAWAY to the idle session');
    assert.equal(busyGoaway, false, 'not while a stream is open');
    assert.equal((await long.done).status, 200);
  } finally {
    idle.destroy();
    busy.destroy();
    await sy.stop();
  }
});

test('SIGTERM: open sessions get a GOAWAY, their streams in flight finish, and the drainTimeout cuts the stream still open', { timeout: 30_000 }, async () => {
  const sy = await start({ shutdown: { drainTimeout: '1500ms' } });
  const s = await session(sy.port);
  try {
    const goaways: number[] = [];
    s.on('goaway', (code: number) => { goaways.push(code); });
    const seen = backend.seen.length;
    const finishing = open(s, '/slow?ms=600');
    const stuck = open(s, '/hang');
    assert.ok(await until(() => backend.seen.length >= seen + 2), 'both requests reached the backend');
    const exited = new Promise<number | null>((resolve) => sy.proc.once('exit', resolve));
    sy.proc.kill('SIGTERM');
    const done = await finishing.done;
    assert.deepEqual([done.status, done.body], [200, 'slow'], 'a stream in flight finishes');
    // Told at the start of the drain, gracefully (a GOAWAY sent only when the session is cut says CANCEL).
    assert.deepEqual(goaways, [constants.NGHTTP2_NO_ERROR], 'GOAWAY (NO_ERROR) before the stream in flight finished');
    let exitedYet = false;
    void exited.then(() => { exitedYet = true; });
    assert.equal(exitedYet, false, 'the node waits for the stream still open');
    const cut = await stuck.done;
    assert.equal(cut.status, 0, `the open stream is cut at the drain timeout: ${JSON.stringify(cut)}`);
    assert.equal(await exited, 0);
    // Cut by the worker at drainTimeout, not by the primary's hard stop 5 s later.
    assert.doesNotMatch(sy.output(), /drain timeout passed; killing workers/);
  } finally {
    s.destroy();
    await sy.stop();
  }
});
