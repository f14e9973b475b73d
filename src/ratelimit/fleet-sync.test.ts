import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { startRedis, type TestRedis } from '../../test/support/redis.js';
import { FleetSync } from './fleet-sync.js';
import { newVerdict } from './gcra.js';
import { RateLimiter } from './limiter.js';
import { RateLimitCounters } from '../observe/stats.js';

/* Two sync loops (two worker processes, as far as Redis can tell) sharing one fleet limit on a real Redis. */

let redis: TestRedis;
before(async () => { redis = await startRedis(); });
after(async () => { await redis.close(); });

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function participant(id: string, prefix: string, rate: number, burst: number) {
  const sync = new FleetSync(id);
  const limiter = new RateLimiter({ id: 'route:r:fleet', name: 'fleet', shape: { rate, periodMs: 1000, burst }, scope: 'fleet', key: () => 'k' },
    '', 'enforce', new RateLimitCounters(), 1000, 1, sync.link);
  sync.configure({ url: redis.url, prefix, intervalMs: 50 }, [limiter]);
  const v = newVerdict();
  let admitted = 0;
  const request = () => {
    const e = limiter.check('k', performance.now(), v);
    if (v.allowed) { limiter.commit(e); admitted++; }
  };
  return { sync, limiter, request, get admitted() { return admitted; } };
}

async function until(ok: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok() && Date.now() < end) await sleep(10);
  assert.ok(ok());
}

test('two processes flooding one key admit the fleet rate together, within 10%', { timeout: 20_000 }, async () => {
  const [a, b] = [participant('a', 't1:', 100, 20), participant('b', 't1:', 100, 20)];
  try {
    await until(() => a.sync.link.healthy && b.sync.link.healthy && a.sync.link.participants === 2);
    const start = performance.now();
    while (performance.now() - start < 2000) { // each side: a request every millisecond (10x the rate)
      a.request();
      b.request();
      await sleep(1);
    }
    const seconds = (performance.now() - start) / 1000;
    const perSecond = (a.admitted + b.admitted - 20) / seconds;
    assert.ok(Math.abs(perSecond - 100) <= 10, `admitted ${perSecond.toFixed(1)}/s beyond the burst (a ${a.admitted}, b ${b.admitted}), limit 100/s`);
  } finally {
    a.sync.stop();
    b.sync.stop();
  }
});

test('an idle process gives its lease back; Redis gone: the link goes down and the share decides', { timeout: 20_000 }, async () => {
  const [a, b] = [participant('a', 't2:', 100, 50), participant('b', 't2:', 100, 50)];
  try {
    await until(() => a.sync.link.healthy && b.sync.link.healthy && a.sync.link.participants === 2);
    for (let i = 0; i < 20; i++) { a.request(); await sleep(5); }
    await sleep(300); // a is idle: its lease goes back at the next syncs
    assert.equal(a.limiter.table.get('k')!.tokens, 0);
    await redis.stop();
    await until(() => !a.sync.link.healthy);
    const before = a.limiter.counters.fallback;
    for (let i = 0; i < 100; i++) a.request();
    assert.equal(a.limiter.counters.fallback - before, 100, 'every decision counted as fallback');
  } finally {
    a.sync.stop();
    b.sync.stop();
    await redis.start();
  }
});
