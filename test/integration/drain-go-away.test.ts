/*
 * The anycast drain's go-away window on loopback (no BIRD needed): while the node is still
 * announced, an idle kept-alive connection is NOT closed under the client (closing it races with
 * the client writing its next request: ECONNRESET, seen in the lab under load); its next request
 * is answered with `Connection: close`. Connections still idle at the end of the window are closed
 * then, before the withdrawal.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { baseConfig, freePort, sleep, startBackends, startSwitchyard, withTestEngine } from './harness.js';

const GO_AWAY_MS = 1500;

/** A raw kept-alive client: one GET at a time, the answer's head; `closedAt` once the server closed. */
async function client(port: number) {
  const s: Socket = connect(port, '127.0.0.1');
  await new Promise((r) => s.once('connect', r));
  let buf = '';
  let closedAt: number | undefined;
  s.on('data', (d: Buffer) => { buf += d.toString('latin1'); });
  s.on('end', () => { closedAt ??= performance.now(); });
  s.on('close', () => { closedAt ??= performance.now(); });
  s.on('error', () => undefined);
  return {
    get closedAt() { return closedAt; },
    async get(): Promise<string> {
      buf = '';
      s.write('GET / HTTP/1.1\r\nhost: x\r\n\r\n');
      const end = Date.now() + 3000;
      while (!/\r\n\r\n/.test(buf) || !/content-length: (\d+)/i.test(buf) || buf.length < buf.indexOf('\r\n\r\n') + 4 + Number(/content-length: (\d+)/i.exec(buf)![1])) {
        if (Date.now() > end || closedAt !== undefined) throw new Error(`no full answer (closed: ${closedAt !== undefined}): ${buf}`);
        await sleep(10);
      }
      return buf.slice(0, buf.indexOf('\r\n\r\n'));
    },
    destroy: () => s.destroy(),
  };
}

test('drain go-away window: idle kept-alive connections stay open and are told to go by their next response; the still-idle ones closed at its end', { timeout: 30_000 }, async () => {
  const backends = await startBackends(1);
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'swy-goaway-'));
  const sy = await startSwitchyard(withTestEngine(baseConfig(port, { app: { backends: backends.map((b) => ({ address: b.address })) } }, undefined, {
    shutdown: { drainTimeout: '5s' },
    anycast: {
      vips: ['198.51.100.10/32'], bird: { socket: join(dir, 'no-bird.ctl'), timeout: '200ms' },
      holdDown: '0ms', goAwayBeforeWithdraw: `${GO_AWAY_MS}ms`, withdrawWait: '500ms', pollInterval: '200ms',
    },
  })));
  const [a, b] = [await client(port), await client(port)];
  try {
    assert.doesNotMatch(await a.get(), /connection: close/i);
    assert.doesNotMatch(await b.get(), /connection: close/i);
    const t0 = performance.now();
    sy.proc.kill('SIGTERM');
    await sy.waitForLog(/clients told to go/, 5000);
    await sleep(300);
    assert.equal(a.closedAt, undefined, 'an idle kept-alive connection is not closed as the window opens');
    const head = await a.get();
    assert.match(head, /^HTTP\/1\.1 200/);
    assert.match(head, /connection: close/i, 'its next response tells it to go');
    const end = Date.now() + GO_AWAY_MS + 3000;
    while (b.closedAt === undefined && Date.now() < end) await sleep(20);
    assert.ok(b.closedAt !== undefined, 'the connection still idle is closed');
    const ms = b.closedAt - t0;
    assert.ok(ms >= GO_AWAY_MS - 100, `closed at the end of the window, not at its start (${ms.toFixed(0)} ms after SIGTERM)`);
  } finally {
    a.destroy(); b.destroy();
    await sy.stop();
    for (const x of backends) await x.close();
  }
});
