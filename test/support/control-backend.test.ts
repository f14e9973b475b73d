import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request, type IncomingHttpHeaders } from 'node:http';
import { connect } from 'node:net';
import { startControlBackend } from './control-backend.js';

type Outcome =
  | { kind: 'response'; status: number; headers: IncomingHttpHeaders; body: string; complete: boolean }
  | { kind: 'error'; code: string }
  | { kind: 'timeout' };

/** One raw request on a fresh connection; never waits longer than `timeoutMs`. */
function get(port: number, path: string, timeoutMs = 2000): Promise<Outcome> {
  return new Promise((resolve) => {
    let done = false;
    const finish = (o: Outcome): void => { if (!done) { done = true; clearTimeout(timer); req.destroy(); resolve(o); } };
    const timer = setTimeout(() => finish({ kind: 'timeout' }), timeoutMs);
    const req = request({ host: '127.0.0.1', port, path, agent: false });
    req.on('error', (e: NodeJS.ErrnoException) => finish({ kind: 'error', code: e.code ?? e.message }));
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      const end = (complete: boolean) => () =>
        finish({ kind: 'response', status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString(), complete });
      res.on('end', end(true));
      res.on('aborted', end(false));
      res.on('error', end(false));
    });
    req.end();
  });
}

function response(o: Outcome): Extract<Outcome, { kind: 'response' }> {
  assert.equal(o.kind, 'response', JSON.stringify(o));
  return o as Extract<Outcome, { kind: 'response' }>;
}

test('control backend: every mode is observable with a raw request', async () => {
  const b = await startControlBackend('alpha');
  try {
    assert.equal(b.address, `127.0.0.1:${b.port}`);
    assert.equal(b.name, 'alpha');

    const ok = response(await get(b.port, '/x?y=1'));
    assert.equal(ok.status, 200);
    assert.equal(ok.headers['x-backend'], 'alpha');
    assert.deepEqual(JSON.parse(ok.body), { backend: 'alpha', status: 200, method: 'GET', url: '/x?y=1', health: false });

    b.set({ kind: 'status', status: 503 });
    assert.equal(response(await get(b.port, '/')).status, 503);
    assert.equal(response(await get(b.port, '/health')).status, 503, '/health follows the mode by default');

    b.set({ kind: 'delay', ms: 150 });
    const t0 = performance.now();
    assert.equal(response(await get(b.port, '/')).status, 200);
    assert.ok(performance.now() - t0 >= 140);

    b.set({ kind: 'hang' });
    assert.deepEqual(await get(b.port, '/', 200), { kind: 'timeout' });

    b.set({ kind: 'reset' });
    assert.deepEqual(await get(b.port, '/'), { kind: 'error', code: 'ECONNRESET' });

    b.set({ kind: 'close-after-headers' });
    const cut = response(await get(b.port, '/'));
    assert.equal(cut.status, 200);
    assert.equal(cut.headers['content-length'], '1024');
    assert.equal(cut.complete, false);

    assert.equal(b.requests, 6);
    assert.equal(b.healthRequests, 1);
  } finally {
    await b.close();
  }
});

test('control backend: health and traffic modes can differ', async () => {
  const b = await startControlBackend();
  try {
    assert.equal(b.name, `backend-${b.port}`);
    b.set({ kind: 'status', status: 500 }, 'health');
    assert.equal(response(await get(b.port, '/health')).status, 500);
    assert.equal(response(await get(b.port, '/')).status, 200);
    b.set({ kind: 'reset' }, 'traffic');
    assert.equal(response(await get(b.port, '/health?full=1')).status, 500);
    assert.equal((await get(b.port, '/')).kind, 'error');
    assert.deepEqual([b.mode.kind, b.healthMode.kind], ['reset', 'status']);
    b.set({ kind: 'ok' });
    assert.equal(response(await get(b.port, '/health')).status, 200);
    assert.equal(b.healthRequests, 3);
    assert.equal(b.requests, 2);
  } finally {
    await b.close();
  }
});

test('control backend: stop() refuses and drops connections on the same port, start() comes back, close() is final', async () => {
  const b = await startControlBackend('beta');
  const port = b.port;
  b.set({ kind: 'hang' });
  const hung = get(port, '/', 5000);
  const deadline = Date.now() + 2000;
  while (b.requests < 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  assert.equal(b.connections, 1);
  await b.stop();
  assert.equal(b.listening, false);
  assert.equal((await hung).kind, 'error', 'the hung connection was dropped');
  assert.deepEqual(await get(port, '/'), { kind: 'error', code: 'ECONNREFUSED' });

  await b.start();
  assert.equal(b.port, port);
  b.set({ kind: 'ok' });
  assert.equal(response(await get(port, '/')).status, 200);

  // A keep-alive connection is closed by stop() too.
  const sock = connect({ host: '127.0.0.1', port });
  await new Promise<void>((resolve) => sock.once('connect', () => resolve()));
  const sockClosed = new Promise<void>((resolve) => sock.once('close', () => resolve()));
  sock.on('error', () => {});
  await b.close();
  await sockClosed;
  await b.close();
  await assert.rejects(b.start(), /closed/);
});
