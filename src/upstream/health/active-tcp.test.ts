import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type AddressInfo } from 'node:net';
import { probeTcp } from './active-tcp.js';
import { HealthProbeError } from './active-http.js';

const never = new AbortController().signal;

async function codeOf(p: Promise<void>): Promise<string> {
  const err = await p.then(() => assert.fail('expected the probe to fail'), (e: unknown) => e);
  assert.ok(err instanceof HealthProbeError, `not a HealthProbeError: ${String(err)}`);
  return err.code;
}

test('probeTcp: connects then closes; refused on a closed port; abort; bad port rejects', async () => {
  let accepted = 0;
  let closed = 0;
  const server = createServer((s) => { accepted++; s.on('close', () => { closed++; }); s.resume(); });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  try {
    await probeTcp({ host: '127.0.0.1', port }, { timeoutMs: 2000 }, never);
    const deadline = Date.now() + 2000;
    while (closed < 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.equal(accepted, 1);
    assert.equal(closed, 1, 'the probe closes its connection');

    const ac = new AbortController();
    ac.abort();
    assert.equal(await codeOf(probeTcp({ host: '127.0.0.1', port }, { timeoutMs: 2000 }, ac.signal)), 'SWY_HC_ABORTED');
    await assert.rejects(probeTcp({ host: '127.0.0.1', port: 70_000 }, { timeoutMs: 2000 }, never), RangeError);
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
  assert.equal(await codeOf(probeTcp({ host: '127.0.0.1', port }, { timeoutMs: 2000 }, never)), 'SWY_HC_CONNECT');
});
