import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Agent, request } from 'undici';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBackendProcess, type BackendProcess } from '../support/backend-process.js';
import { startSwitchyard, freePort, baseConfig, sleep, type Switchyard } from './harness.js';

/*
 * Issue 15 §3: one of three backends hangs (SIGSTOP) or dies (SIGKILL) under an open-loop load;
 * with per-try timeouts every idempotent request must still succeed (retried elsewhere), and when
 * every backend fails the retry budget must keep the upstream load at ≤ 1.2× the client's.
 * Backends are separate processes so they can be frozen and killed for real.
 */

interface LoadResult { sent: number; ok: number; failed: number; failures: Map<string, number>; slow: number; slowest: number }

/**
 * GETs at `rate` per second for `ms` (open loop: sent on schedule whatever the answers), then
 * waits for every answer. `at` runs `fn` that long after the start. Counts answers other than
 * 200 and client-side errors as failures, and answers slower than `slowMs` as `slow`.
 */
async function openLoop(url: string, rate: number, ms: number, at?: { ms: number; fn: () => void | Promise<void> }, slowMs = 900): Promise<LoadResult> {
  const agent = new Agent({ connections: 1024, headersTimeout: 20_000, bodyTimeout: 20_000 });
  const r: LoadResult = { sent: 0, ok: 0, failed: 0, failures: new Map(), slow: 0, slowest: 0 };
  const fail = (why: string) => { r.failed++; r.failures.set(why, (r.failures.get(why) ?? 0) + 1); };
  const pending: Promise<void>[] = [];
  const total = Math.round((rate * ms) / 1000);
  const t0 = performance.now();
  let fired = at === undefined;
  try {
    while (r.sent < total) {
      const elapsed = performance.now() - t0;
      if (!fired && elapsed >= at!.ms) { fired = true; await at!.fn(); }
      const due = Math.min(total, Math.floor((elapsed * rate) / 1000));
      for (; r.sent < due; r.sent++) {
        const start = performance.now();
        pending.push(request(`${url}/item/${r.sent}`, { dispatcher: agent }).then(async (res) => {
          await res.body.dump();
          const took = performance.now() - start;
          if (took > slowMs) r.slow++;
          if (took > r.slowest) r.slowest = took;
          if (res.statusCode === 200) r.ok++; else fail(String(res.statusCode));
        }, (e: Error & { code?: string }) => fail(e.code ?? e.message)));
      }
      await sleep(5);
    }
    await Promise.all(pending);
  } finally {
    await agent.close();
  }
  return r;
}

/** Three backend processes answering `status` behind a Switchyard (round-robin, admin API on `admin`). */
async function withThree(service: Record<string, unknown>, status: number, body: (sy: Switchyard, bs: BackendProcess[], admin: string) => Promise<void>): Promise<void> {
  const bs: BackendProcess[] = [];
  let sy: Switchyard | undefined;
  try {
    for (const n of ['a', 'b', 'c']) bs.push(await startBackendProcess(n, status));
    const admin = `127.0.0.1:${await freePort()}`;
    sy = await startSwitchyard(baseConfig(await freePort(), {
      app: { balancer: { algorithm: 'round-robin' }, backends: bs.map((b) => ({ address: b.address })), ...service },
    }, undefined, { admin: { address: admin, auditLog: { path: join(mkdtempSync(join(tmpdir(), 'swy-hang-')), 'audit.log') } } }));
    await body(sy, bs, admin);
  } finally {
    await sy?.stop();
    await Promise.all(bs.map((b) => b.close()));
  }
}

const RATE = 600;

test('a backend frozen under load (SIGSTOP) costs no failed GET with retries.perTryTimeout 1s', { timeout: 60_000 }, async () => {
  await withThree({ retries: { perTryTimeout: '1s' } }, 200, async (sy, bs) => {
    await openLoop(sy.url, RATE, 500); // warm: connections open, the budget has seen traffic
    const r = await openLoop(sy.url, RATE, 3000, { ms: 800, fn: () => bs[1].freeze() });
    assert.equal(r.sent, RATE * 3);
    assert.deepEqual([...r.failures], [], `${r.failed} of ${r.sent} failed`);
    assert.ok(r.slow > 10, `requests did meet the frozen backend and waited for their per-try timeout (${r.slow} slow)`);
  });
});

test('a backend killed under load (SIGKILL) costs no failed GET', { timeout: 60_000 }, async () => {
  await withThree({ retries: { perTryTimeout: '1s' } }, 200, async (sy, bs) => {
    await openLoop(sy.url, RATE, 500);
    const r = await openLoop(sy.url, RATE, 3000, { ms: 800, fn: () => bs[1].kill() });
    assert.deepEqual([...r.failures], [], `${r.failed} of ${r.sent} failed`);
  });
});

test('when every backend fails, retries add at most 20% to the upstream load', { timeout: 60_000 }, async () => {
  // Outlier detection and breakers off: the budget alone must stop the retry storm.
  await withThree({ outlierDetection: { enabled: false }, circuitBreaker: { enabled: false }, retries: { baseDelay: '5ms' } }, 503, async (sy, bs) => {
    const r = await openLoop(sy.url, RATE, 3000);
    const upstream = (await Promise.all(bs.map((b) => b.count()))).reduce((a, b) => a + b, 0);
    assert.equal(r.failed, r.sent, 'every request failed');
    const amplification = upstream / r.sent;
    assert.ok(amplification <= 1.2, `upstream ${upstream} / client ${r.sent} = ${amplification.toFixed(3)}`);
    assert.ok(amplification >= 1.1, `retries were tried up to the budget: ${amplification.toFixed(3)}`);
  });
});

test('with hedging, a frozen backend costs no failure and no request waits for a timeout', { timeout: 60_000 }, async () => {
  const service = { timeouts: { request: '5s' }, hedging: { enabled: true, maxDelay: '300ms' } };
  await withThree(service, 200, async (sy, bs, admin) => {
    await openLoop(sy.url, RATE, 1000); // warm: the service learns its latency
    const r = await openLoop(sy.url, RATE, 3000, { ms: 800, fn: () => bs[1].freeze() }, 4500);
    const metrics = await (await fetch(`http://${admin}/metrics`)).text();
    assert.deepEqual([...r.failures], [], `${r.failed} of ${r.sent} failed\n${metrics.split('\n').filter((l) => /hedge|retr|eject|breaker_state/.test(l)).join('\n')}`);
    // Not a timing assertion: a request that was not hedged waits the whole 5 s timeout.
    assert.equal(r.slow, 0, `no request waited for the 5 s timeout: each was hedged to another backend (slowest ${Math.round(r.slowest)} ms)`);
    const sent = Number(/switchyard_hedges_total\{service="app",result="sent"\} (\d+)/.exec(metrics)?.[1]);
    const won = Number(/switchyard_hedges_total\{service="app",result="won"\} (\d+)/.exec(metrics)?.[1]);
    assert.ok(won > 0 && sent >= won, `hedges sent ${sent}, won ${won}`);
  });
});

// Fast engine only: undici (node engine) offers no way to take back requests queued in its pool,
// so there they wait their turn behind the hung connections (see docs/config.md, hedging).
const fastOnly = process.env.SWITCHYARD_TEST_ENGINE === 'node' ? 'the node engine cannot withdraw requests queued in undici' : false;

test('with hedging and a small pool, requests queued behind the frozen backend\'s connections are hedged too', { timeout: 60_000, skip: fastOnly }, async () => {
  // One connection per backend and a hedge delay far above the arrival interval: the frozen backend's
  // requests queue behind its one hung connection, and are hedged (and withdrawn) while queued.
  const service = { timeouts: { request: '5s' }, maxConnectionsPerBackend: 1, hedging: { enabled: true, minDelay: '200ms', maxDelay: '300ms' } };
  await withThree(service, 200, async (sy, bs) => {
    await openLoop(sy.url, 900, 500);
    // Several hedges fall due in one timer run: the first frees the hung connection, the next ones
    // find their request still queued and withdraw it.
    const r = await openLoop(sy.url, 900, 1500, { ms: 300, fn: () => bs[1].freeze() }, 4500);
    assert.deepEqual([...r.failures], [], `${r.failed} of ${r.sent} failed`);
    assert.equal(r.slow, 0, `no request waited for the 5 s timeout (slowest ${Math.round(r.slowest)} ms)`);
  });
});

test('requests queued behind a frozen backend\'s connections go elsewhere once it is ejected', { timeout: 60_000, skip: fastOnly }, async () => {
  // Four connections hang; the next requests queue for them. Outlier detection ejects the backend
  // after five timeouts (two rounds of per-try timeouts); its queue must then be served elsewhere at
  // once, not four requests per second.
  await withThree({ maxConnectionsPerBackend: 4, retries: { perTryTimeout: '1s' } }, 200, async (sy, bs) => {
    await openLoop(sy.url, 300, 500);
    const r = await openLoop(sy.url, 300, 2000, { ms: 300, fn: () => bs[1].freeze() }, 4500);
    assert.deepEqual([...r.failures], [], `${r.failed} of ${r.sent} failed`);
    assert.equal(r.slow, 0, `no request waited for the queue of the frozen backend (slowest ${Math.round(r.slowest)} ms)`);
  });
});
