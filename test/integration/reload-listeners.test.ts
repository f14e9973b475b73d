import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { renameSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { connect } from 'node:net';
import { Agent, request } from 'undici';
import { selfSignedCert } from '../support/self-signed.js';
import { startBackends, startSwitchyard, freePort, baseConfig, sleep, type Backend } from './harness.js';

/*
 * Reloads that change the listeners themselves (added, moved, removed) on a node with two
 * workers under load, and certificates replaced under TLS traffic, once with a broken file that
 * must leave the previous certificates serving.
 */

let backends: Backend[];

before(async () => {
  backends = await startBackends(1, (req, res) => {
    req.resume();
    const ms = Number(new URL(req.url!, 'http://x').searchParams.get('ms') ?? 0);
    setTimeout(() => res.end('ok'), ms);
  });
});

after(async () => {
  await Promise.all(backends.map((b) => b.close()));
});

/** Two workers, one service, the given HTTP listeners (name, port and settings). */
function listenersConfig(port: number, listeners: { name: string; port: number; maxHeaderSize?: number }[]): Record<string, unknown> {
  return baseConfig(port, { app: { backends: [{ address: backends[0].address }] } }, undefined, {
    workers: 2, listeners: listeners.map(({ name, port: p, ...rest }) => ({ name, address: `127.0.0.1:${p}`, ...rest })),
  });
}

/** Whether a TCP connect to `port` is refused. */
function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => { s.destroy(); resolve(false); });
    s.once('error', () => resolve(true));
  });
}

/** GETs `url` until `stop()`; counts outcomes. */
function load(url: () => string) {
  const agent = new Agent({ connections: 4 });
  const stats = { ok: 0, failed: [] as string[] };
  let running = true;
  const loops = Array.from({ length: 4 }, async () => {
    for (let i = 0; running && i < 20_000; i++) {
      try {
        const r = await request(url(), { dispatcher: agent, headersTimeout: 5000, bodyTimeout: 5000 });
        await r.body.dump();
        if (r.statusCode === 200) stats.ok++; else stats.failed.push(String(r.statusCode));
      } catch (e) { stats.failed.push((e as Error).message); }
    }
  });
  let stopped: Promise<typeof stats> | undefined;
  const stop = async () => { running = false; await Promise.all(loops); await agent.close(); return stats; };
  return { stats, stop: () => (stopped ??= stop()) };
}

test('reloads add a listener, move one to another port and remove one, under load: the kept listener never fails', { timeout: 90_000 }, async () => {
  const [kept, added, moved] = [await freePort(), await freePort(), await freePort()];
  const cfg = (listeners: { name: string; port: number }[]) => listenersConfig(kept, listeners);
  const sy = await startSwitchyard(cfg([{ name: 'kept', port: kept }]));
  const steady = load(() => `http://127.0.0.1:${kept}/steady`);
  const apply = async (c: Record<string, unknown>) => {
    const mark = sy.output().length;
    sy.writeConfig(c);
    await sy.waitForLog(/"msg":"config applied"/, 15_000, mark);
  };
  try {
    assert.equal(await refused(added), true);
    await apply(cfg([{ name: 'kept', port: kept }, { name: 'extra', port: added }]));
    const a = await request(`http://127.0.0.1:${added}/a`);
    assert.deepEqual([a.statusCode, await a.body.text()], [200, 'ok'], 'the added listener serves');

    // A request in flight on the listener that moves away finishes; then its old port is closed.
    const inFlight = request(`http://127.0.0.1:${added}/slow?ms=1500`, { reset: true });
    await sleep(200);
    await apply(cfg([{ name: 'kept', port: kept }, { name: 'extra', port: moved }]));
    const slow = await inFlight;
    assert.deepEqual([slow.statusCode, await slow.body.text()], [200, 'ok'], 'the request in flight on the moved listener finishes');
    const m = await request(`http://127.0.0.1:${moved}/m`);
    assert.deepEqual([m.statusCode, await m.body.text()], [200, 'ok'], 'the moved listener serves on its new port');
    let oldClosed = false;
    for (let i = 0; i < 100 && !oldClosed; i++) { oldClosed = await refused(added); if (!oldClosed) await sleep(50); }
    assert.ok(oldClosed, 'its old port is closed');

    await apply(cfg([{ name: 'kept', port: kept }]));
    let removed = false;
    for (let i = 0; i < 100 && !removed; i++) { removed = await refused(moved); if (!removed) await sleep(50); }
    assert.ok(removed, 'the removed listener closes');

    const stats = await steady.stop();
    assert.deepEqual(stats.failed, [], 'the kept listener failed no request through three reloads');
    assert.ok(stats.ok > 0);
  } finally {
    await steady.stop();
    await sy.stop();
  }
});

test('a reload that changes a kept listener\'s maxHeaderSize applies it to new connections', { timeout: 60_000 }, async () => {
  const port = await freePort();
  const sy = await startSwitchyard(listenersConfig(port, [{ name: 'kept', port }]));
  try {
    const big = { 'x-big': 'y'.repeat(4096) };
    const before = await request(`http://127.0.0.1:${port}/big`, { headers: big, reset: true });
    await before.body.dump();
    assert.equal(before.statusCode, 200);
    const mark = sy.output().length;
    sy.writeConfig(listenersConfig(port, [{ name: 'kept', port, maxHeaderSize: 2048 }]));
    await sy.waitForLog(/"msg":"config applied"/, 15_000, mark);
    const after = await request(`http://127.0.0.1:${port}/big`, { headers: big, reset: true });
    await after.body.dump();
    assert.equal(after.statusCode, 431);
  } finally {
    await sy.stop();
  }
});

/** One HTTPS GET on a fresh connection (a full handshake): status and the served certificate's fingerprint. */
function httpsGet(port: number): Promise<{ status: number; fingerprint: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest({ host: '127.0.0.1', port, path: '/tls', servername: 'site.test', rejectUnauthorized: false, agent: false, timeout: 5000 }, (res) => {
      const fingerprint = (res.socket as TLSSocket).getPeerCertificate().fingerprint256;
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode!, fingerprint }));
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end();
  });
}

test('certificates replaced under TLS traffic: no handshake fails; a broken replacement is refused and the previous ones keep serving', { timeout: 60_000 }, async () => {
  const live = selfSignedCert();
  const port = await freePort();
  const sy = await startSwitchyard(baseConfig(port, { app: { backends: [{ address: backends[0].address }] } }, undefined, {
    workers: 2,
    listeners: [{ name: 'tls', address: `127.0.0.1:${port}`, protocol: 'https', tls: { certificates: [{ cert: live.cert, key: live.key }] } }],
  }));
  const seen = new Set<string>();
  const failed: string[] = [];
  let running = true;
  const loops = Array.from({ length: 3 }, async () => {
    for (let i = 0; running && i < 5000; i++) {
      try {
        const r = await httpsGet(port);
        if (r.status === 200) seen.add(r.fingerprint); else failed.push(String(r.status));
      } catch (e) { failed.push((e as Error).message); }
    }
  });
  const fingerprintNow = async () => (await httpsGet(port)).fingerprint;
  try {
    const first = await fingerprintNow();
    // Replaced the way deploy tools do it: new files renamed over the old ones.
    const next = selfSignedCert();
    const mark = sy.output().length;
    renameSync(next.key, live.key);
    renameSync(next.cert, live.cert);
    await sy.waitForLog(/"msg":"certificates reloaded"/, 10_000, mark);
    let second = first;
    for (let i = 0; i < 100 && second === first; i++) { await sleep(50); second = await fingerprintNow(); }
    assert.notEqual(second, first, 'the new certificate is served');

    const mark2 = sy.output().length;
    writeFileSync(live.cert, '-----BEGIN CERTIFICATE-----\nnot a certificate\n-----END CERTIFICATE-----\n');
    await sy.waitForLog(/"msg":"certificate reload failed; keeping the previous certificates"/, 10_000, mark2);
    await sleep(300);
    for (let i = 0; i < 5; i++) assert.equal(await fingerprintNow(), second, 'the previous certificate keeps serving');
    running = false;
    await Promise.all(loops);
    assert.deepEqual(failed, [], 'no request failed across both replacements');
    assert.ok(seen.has(first) && seen.has(second), 'the load saw both certificates');
  } finally {
    running = false;
    await Promise.all(loops);
    await sy.stop();
  }
});
