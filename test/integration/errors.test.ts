import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { Agent, request } from 'undici';
import { startBackends, startSwitchyard, freePort, baseConfig, sleep, type Backend, type Switchyard } from './harness.js';

let slow: Backend[];
let hang: Backend[];
let sy: Switchyard;
let deadPort: number;
const aborted: string[] = [];
const agent = new Agent();

before(async () => {
  // Answers after 1.5 s: longer than the 300 ms request timeout of service "slow".
  slow = await startBackends(1, (req, res) => { setTimeout(() => { if (!res.destroyed) res.end('late'); }, 1500); req.resume(); });
  // Never answers; records when the proxy gives up on the request (client abort propagation).
  hang = await startBackends(1, (req) => { req.socket.once('close', () => aborted.push(req.url!)); });
  deadPort = await freePort(); // nothing listens here
  const port = await freePort();
  sy = await startSwitchyard(baseConfig(port, {
    dead: { backends: [{ address: `127.0.0.1:${deadPort}` }], timeouts: { connect: '1s' } },
    slow: { backends: [{ address: slow[0].address }], timeouts: { request: '300ms' } },
    hang: { backends: [{ address: hang[0].address }] },
  }, [
    { match: { path: { prefix: '/dead' } }, service: 'dead' },
    { match: { path: { prefix: '/slow' } }, service: 'slow' },
    { match: { path: { prefix: '/hang' } }, service: 'hang' },
  ]));
});

after(async () => {
  await sy?.stop();
  await agent.close();
  await Promise.all([...slow, ...hang].map((b) => b.close()));
});

async function get(path: string) {
  const r = await request(`${sy.url}${path}`, { dispatcher: agent });
  return { status: r.statusCode, text: await r.body.text(), headers: r.headers };
}

test('backend refusing connections → 502 naming the cause', async () => {
  const r = await get('/dead');
  assert.equal(r.status, 502);
  assert.match(r.text, /SWY_UPSTREAM_CONNECT/);
  assert.match(r.text, /service dead/);
});

test('backend slower than the request timeout → 504', async () => {
  const t0 = Date.now();
  const r = await get('/slow');
  assert.equal(r.status, 504);
  assert.match(r.text, /SWY_UPSTREAM_TIMEOUT/);
  assert.ok(Date.now() - t0 < 1400, 'answered at the timeout, not when the backend finished');
});

test('a client that aborts cancels its upstream request', async () => {
  await new Promise<void>((resolve) => {
    const req = httpRequest(`${sy.url}/hang/abort-me`);
    req.on('error', () => resolve());
    req.end();
    setTimeout(() => { req.destroy(); resolve(); }, 300);
  });
  for (let i = 0; i < 50 && !aborted.includes('/hang/abort-me'); i++) await sleep(50);
  assert.ok(aborted.includes('/hang/abort-me'), 'the backend saw its request connection closed');
});
