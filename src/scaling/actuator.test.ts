import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { createActuator, type ActuationResult } from './actuator.js';
import type { Decision } from './evaluator.js';

/*
 * These tests start real processes and a loopback HTTP server, so they take real (short) time:
 * timeouts here are 100-300 ms.
 */

const decision: Decision = Object.freeze({
  at: 123_456, action: 'scale-out', trigger: 'cpu', reason: 'mean CPU 82% > 70% for 5m (3 nodes)',
  value: 82, threshold: 70, nodes: 3,
});

const node = process.execPath;

async function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'swy-actuator-'));
  try { return await fn(dir); } finally { await rm(dir, { recursive: true, force: true }); }
}

function exec(r: ActuationResult): Extract<ActuationResult, { type: 'exec' }> {
  assert.equal(r.type, 'exec');
  return r as Extract<ActuationResult, { type: 'exec' }>;
}

function hook(r: ActuationResult): Extract<ActuationResult, { type: 'webhook' }> {
  assert.equal(r.type, 'webhook');
  return r as Extract<ActuationResult, { type: 'webhook' }>;
}

test('actuator exec: the decision arrives as JSON on stdin and as env vars; output is kept', async () => {
  await withTempDir(async (dir) => {
    const file = join(dir, 'got.json');
    const script = `
      const fs = require('node:fs');
      const stdin = fs.readFileSync(0, 'utf8');
      const env = { a: process.env.SWITCHYARD_SCALE_ACTION, t: process.env.SWITCHYARD_SCALE_TRIGGER, r: process.env.SWITCHYARD_SCALE_REASON };
      fs.writeFileSync(process.argv[1], JSON.stringify({ stdin, env }));
      console.log('scaled to 4');`;
    const act = createActuator({ type: 'exec', command: [node, '-e', script, file], timeoutMs: 5000 });
    const r = exec(await act.run(decision));
    assert.deepEqual(r, { type: 'exec', ok: true, code: 0, signal: null, output: 'scaled to 4\n' });
    const got = JSON.parse(await readFile(file, 'utf8'));
    assert.deepEqual(JSON.parse(got.stdin), decision);
    assert.deepEqual(got.env, { a: 'scale-out', t: 'cpu', r: decision.reason });
  });
});

test('actuator exec: a non-zero exit is a failure with its code and stderr', async () => {
  const act = createActuator({ type: 'exec', command: [node, '-e', 'console.error("quota exceeded"); process.exit(3)'], timeoutMs: 5000 });
  const r = exec(await act.run(decision));
  assert.equal(r.ok, false);
  assert.equal(r.code, 3);
  assert.equal(r.output, 'quota exceeded\n');
  assert.equal(r.failure?.code, 'SWY_SCALE_EXIT');
});

test('actuator exec: a command that does not read stdin still succeeds', async () => {
  const act = createActuator({ type: 'exec', command: [node, '-e', ''], timeoutMs: 5000 });
  assert.equal((await act.run(decision)).ok, true);
});

test('actuator exec: a missing command is a SPAWN failure, not an exception', async () => {
  const act = createActuator({ type: 'exec', command: ['/nonexistent/switchyard-scale'], timeoutMs: 5000 });
  const r = exec(await act.run(decision));
  assert.equal(r.ok, false);
  assert.equal(r.failure?.code, 'SWY_SCALE_SPAWN');
  assert.match(r.failure?.message ?? '', /ENOENT/);
});

test('actuator exec: killed with SIGTERM on timeout', async () => {
  const act = createActuator({ type: 'exec', command: [node, '-e', 'console.log("started"); setInterval(() => {}, 1000)'], timeoutMs: 300 });
  const t0 = performance.now();
  const r = exec(await act.run(decision));
  assert.equal(r.ok, false);
  assert.equal(r.failure?.code, 'SWY_SCALE_TIMEOUT');
  assert.equal(r.signal, 'SIGTERM');
  assert.equal(r.output, 'started\n');
  assert.ok(performance.now() - t0 < 3000);
});

test('actuator exec: a command that ignores SIGTERM gets SIGKILL after the grace time', async () => {
  const script = 'process.on("SIGTERM", () => {}); console.log("ready"); setInterval(() => {}, 1000)';
  const act = createActuator({ type: 'exec', command: [node, '-e', script], timeoutMs: 300, killGraceMs: 100 });
  const r = exec(await act.run(decision));
  assert.equal(r.failure?.code, 'SWY_SCALE_TIMEOUT');
  assert.equal(r.signal, 'SIGKILL');
});

test('actuator exec: the timeout also stops what the command started (process group)', async () => {
  // A wrapper that starts a child which holds stdout open, then waits for it.
  const grandchild = 'setInterval(() => {}, 1000)';
  const wrapper = `require('node:child_process').spawn(process.execPath, ['-e', ${JSON.stringify(grandchild)}], { stdio: 'inherit' }).on('exit', () => {});`;
  const act = createActuator({ type: 'exec', command: [node, '-e', wrapper], timeoutMs: 300, killGraceMs: 100 });
  const t0 = performance.now();
  const r = exec(await act.run(decision));
  assert.equal(r.failure?.code, 'SWY_SCALE_TIMEOUT');
  assert.ok(performance.now() - t0 < 2000, 'did not wait for the grandchild');
});

test('actuator exec: an abort signal stops the command', async () => {
  const act = createActuator({ type: 'exec', command: [node, '-e', 'setInterval(() => {}, 1000)'], timeoutMs: 10_000 });
  const ac = new AbortController();
  const pending = act.run(decision, ac.signal);
  setTimeout(() => ac.abort(), 100);
  const r = exec(await pending);
  assert.equal(r.failure?.code, 'SWY_SCALE_ABORTED');
  assert.equal(exec(await act.run(decision, ac.signal)).failure?.code, 'SWY_SCALE_ABORTED');
});

test('actuator exec: output is bounded', async () => {
  const act = createActuator({ type: 'exec', command: [node, '-e', 'process.stdout.write("x".repeat(100000))'], timeoutMs: 5000, maxOutputBytes: 1000 });
  const r = exec(await act.run(decision));
  assert.equal(r.ok, true);
  assert.equal(r.output, `${'x'.repeat(1000)}\n[output truncated]`);
});

/** A loopback server that records requests and answers with `answer`. */
async function server(answer: (req: IncomingMessage, body: string, res: import('node:http').ServerResponse) => void):
  Promise<{ url: string; got: { method?: string; headers: IncomingMessage['headers']; body: string }[]; close: () => Promise<void> }> {
  const got: { method?: string; headers: IncomingMessage['headers']; body: string }[] = [];
  const srv: Server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => { body += c; });
    req.on('end', () => { got.push({ method: req.method, headers: req.headers, body }); answer(req, body, res); });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/scale`,
    got,
    close: () => new Promise<void>((r) => { srv.closeAllConnections(); srv.close(() => r()); }),
  };
}

test('actuator webhook: POSTs the decision as JSON with the configured headers', async () => {
  const s = await server((_req, _body, res) => { res.statusCode = 204; res.end(); });
  try {
    const act = createActuator({ type: 'webhook', url: s.url, timeoutMs: 2000, headers: { authorization: 'Bearer t0ken', 'Content-Type': 'text/plain' } });
    const r = hook(await act.run(decision));
    assert.deepEqual(r, { type: 'webhook', ok: true, status: 204 });
    assert.equal(s.got.length, 1);
    assert.equal(s.got[0].method, 'POST');
    assert.equal(s.got[0].headers['content-type'], 'application/json');
    assert.equal(s.got[0].headers.authorization, 'Bearer t0ken');
    assert.deepEqual(JSON.parse(s.got[0].body), decision);
  } finally { await s.close(); }
});

test('actuator webhook: a non-2xx answer is a failure with its status', async () => {
  const s = await server((_req, _body, res) => { res.statusCode = 503; res.end('busy'); });
  try {
    const r = hook(await createActuator({ type: 'webhook', url: s.url, timeoutMs: 2000 }).run(decision));
    assert.equal(r.ok, false);
    assert.equal(r.status, 503);
    assert.equal(r.failure?.code, 'SWY_SCALE_HTTP_STATUS');
  } finally { await s.close(); }
});

test('actuator webhook: a server that never answers times out', async () => {
  const s = await server(() => { /* never answers */ });
  try {
    const t0 = performance.now();
    const r = hook(await createActuator({ type: 'webhook', url: s.url, timeoutMs: 200 }).run(decision));
    assert.equal(r.ok, false);
    assert.equal(r.status, undefined);
    assert.equal(r.failure?.code, 'SWY_SCALE_TIMEOUT');
    assert.ok(performance.now() - t0 < 2000);
  } finally { await s.close(); }
});

test('actuator webhook: a refused connection is a failure, not an exception', async () => {
  const s = await server(() => {});
  const url = s.url;
  await s.close();
  const r = hook(await createActuator({ type: 'webhook', url, timeoutMs: 2000 }).run(decision));
  assert.equal(r.ok, false);
  assert.equal(r.failure?.code, 'SWY_SCALE_HTTP');
});

test('actuator none: reports success and does nothing', async () => {
  assert.deepEqual(await createActuator({ type: 'none' }).run(decision), { type: 'none', ok: true });
});

test('actuator: unusable configs are rejected at creation', () => {
  assert.throws(() => createActuator({ type: 'exec', command: [], timeoutMs: 1000 }), RangeError);
  assert.throws(() => createActuator({ type: 'exec', command: ['x'], timeoutMs: 0 }), RangeError);
  assert.throws(() => createActuator({ type: 'webhook', url: 'not a url', timeoutMs: 1000 }), RangeError);
  assert.throws(() => createActuator({ type: 'webhook', url: 'file:///etc/passwd', timeoutMs: 1000 }), RangeError);
});
