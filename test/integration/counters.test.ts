import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { CLI, startBackends, startSwitchyard, freePort, baseConfig, sleep, type Switchyard } from './harness.js';

/*
 * Counters on the primary's /metrics never fall: not when a worker is killed under traffic, not
 * across a rolling restart, not while a worker is too slow to answer a collection. Scraped every
 * 0.5 s like Prometheus would; every counter series (histogram buckets, sums and counts included)
 * is compared with the previous scrape.
 */

/** Counter samples of an exposition (`name{labels}` → value); histograms' series count as counters. */
function counterSeries(text: string): Map<string, number> {
  const types = new Map<string, string>();
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const t = /^# TYPE (\S+) (\S+)/.exec(line);
    if (t) { types.set(t[1], t[2]); continue; }
    if (line === '' || line.startsWith('#')) continue;
    const cut = line.lastIndexOf(' ');
    const series = line.slice(0, cut);
    const name = /^[^{ ]+/.exec(series)![0];
    const family = types.has(name) ? name : name.replace(/_(bucket|sum|count)$/, '');
    const type = types.get(family);
    if (type === 'counter' || type === 'histogram') out.set(series, Number(line.slice(cut + 1)));
  }
  return out;
}

/** Scrapes /metrics every 0.5 s and records every counter series that fell or vanished between two scrapes. */
function scrapeEvery500ms(admin: string) {
  const agent = new Agent({ connections: 1 });
  const falls: string[] = [];
  let scrapes = 0;
  let last = new Map<string, number>();
  let running = true;
  const scrape = async () => {
    const r = await request(`${admin}/metrics`, { dispatcher: agent, headersTimeout: 5000, bodyTimeout: 5000 });
    const now = counterSeries(await r.body.text());
    for (const [series, before] of last) {
      const v = now.get(series);
      if (v === undefined) falls.push(`${series} vanished (was ${before}), scrape ${scrapes}`);
      else if (v < before) falls.push(`${series} fell ${before} → ${v}, scrape ${scrapes}`);
    }
    last = now;
    scrapes++;
  };
  const deadline = Date.now() + 90_000;
  const loop = (async () => {
    while (running && Date.now() < deadline) {
      await scrape();
      await sleep(500);
    }
  })();
  return {
    /** Stops after one last scrape; the final counters. */
    async stop() {
      running = false;
      await loop;
      await scrape();
      await agent.close();
      return { falls, scrapes, last };
    },
  };
}

/** Requests on 4 connections at a time, a new connection each (so the cluster spreads them over workers). */
function trafficLoop(url: string) {
  const agent = new Agent({ connections: 4 });
  const okAt: number[] = [];
  let attempts = 0;
  let running = true;
  const deadline = Date.now() + 60_000;
  const loops = Array.from({ length: 4 }, async () => {
    for (let i = 0; running && i < 20_000 && Date.now() < deadline; i++) {
      attempts++;
      try {
        const r = await request(`${url}/c`, { dispatcher: agent, reset: true, headersTimeout: 10_000, bodyTimeout: 10_000 });
        await r.body.dump();
        if (r.statusCode === 200) okAt.push(Date.now());
      } catch { /* a connection of the killed worker; not a success */ }
    }
  });
  return {
    okAt,
    async stop() { running = false; await Promise.all(loops); await agent.close(); return { ok: okAt.length, attempts }; },
  };
}

const requestsTotal = (series: Map<string, number>) =>
  [...series].filter(([k]) => k.startsWith('switchyard_requests_total{') && k.includes('service="app"')).reduce((s, [, v]) => s + v, 0);

/**
 * Two backends and a Switchyard with 2 workers and an admin listener; runs `scenario` under
 * traffic while /metrics is scraped every 0.5 s, then stops the traffic, waits two collections and
 * scrapes once more. Stops everything it started, also on failure.
 */
async function underTrafficAndScrapes(extraArgs: string[], scenario: (sy: Switchyard) => Promise<void>) {
  const backends = await startBackends(2);
  const adminPort = await freePort();
  const services = { app: { balancer: { algorithm: 'round-robin' }, backends: backends.map((b) => ({ address: b.address })) } };
  let sy: Switchyard | undefined;
  let load: ReturnType<typeof trafficLoop> | undefined;
  let scraper: ReturnType<typeof scrapeEvery500ms> | undefined;
  try {
    sy = await startSwitchyard(baseConfig(await freePort(), services, undefined, {
      workers: 2, admin: { address: `127.0.0.1:${adminPort}`, auditLog: { path: join(mkdtempSync(join(tmpdir(), 'swy-counters-')), 'audit.log') } },
    }), { extraArgs });
    assert.equal(sy.workerPids().length, 2);
    const traffic = trafficLoop(sy.url);
    load = traffic;
    scraper = scrapeEvery500ms(`http://127.0.0.1:${adminPort}`);
    await sleep(2500);
    await scenario(sy);
    await sleep(2000);
    const { ok, attempts } = await traffic.stop();
    load = undefined;
    // Two collections (1 s apart) after the last request.
    await sleep(2500);
    const scraped = await scraper.stop();
    scraper = undefined;
    assert.ok(scraped.scrapes >= 12, `only ${scraped.scrapes} scrapes`);
    assert.ok(ok > 100, `only ${ok} successful requests`);
    return { ...scraped, ok, attempts, okAt: traffic.okAt, total: requestsTotal(scraped.last) };
  } finally {
    await load?.stop();
    await scraper?.stop().catch(() => undefined);
    await sy?.stop();
    await Promise.all(backends.map((b) => b.close()));
  }
}

const fallen = (falls: string[]) => `${falls.length} counter series fell:\n${falls.slice(0, 20).join('\n')}`;

test('no counter falls when a worker is killed under traffic or the workers are replaced (reload --workers); requests_total keeps every success', { timeout: 90_000 }, async (t) => {
  const pidFile = join(mkdtempSync(join(tmpdir(), 'swy-counters-')), 'pid');
  let killedAt = 0;
  const r = await underTrafficAndScrapes(['--pid-file', pidFile], async (sy) => {
    const pids = sy.workerPids();
    let mark = sy.output().length;
    killedAt = Date.now();
    process.kill(pids[0], 'SIGKILL');
    await sy.waitForLog(/"msg":"worker exited; respawning"/, 10_000, mark);
    for (let i = 0; i < 50 && sy.workerPids().filter((p) => !pids.includes(p)).length === 0; i++) await sleep(100);
    await sleep(2000);
    mark = sy.output().length;
    execFileSync(process.execPath, [CLI, 'reload', '--pid-file', pidFile, '--workers']);
    await sy.waitForLog(/"msg":"rolling restart done"/, 40_000, mark);
  });
  // What the killed worker counted after its last push (every 100 ms) is the only loss allowed:
  // at most the successes the client saw around the kill (generously: a loaded worker's timer runs late).
  const lossWindow = r.okAt.filter((at) => at >= killedAt - 500 && at <= killedAt + 200).length;
  t.diagnostic(`${r.scrapes} scrapes, ${r.attempts} requests sent, ${r.ok} succeeded, ${lossWindow} around the kill, requests_total ${r.total}`);
  assert.deepEqual(r.falls, [], fallen(r.falls));
  // The window only excuses a loss; it must stay a small part of the run or the check below says little
  // (a loaded machine bunches successes: 10.5% of them fell in it once in CI).
  assert.ok(lossWindow < r.ok / 4, `the loss window holds ${lossWindow} of ${r.ok} successes`);
  assert.ok(r.total >= r.ok - lossWindow, `requests_total ${r.total} < ${r.ok} successes the client saw (− ${lossWindow} around the kill)`);
  assert.ok(r.total <= r.attempts, `requests_total ${r.total} counts more than the ${r.attempts} requests sent`);
});

test('no counter falls while a worker is too slow to answer collections (SIGSTOP for 3 s under traffic); nothing is lost', { timeout: 60_000 }, async (t) => {
  let stopped: number | undefined;
  try {
    const r = await underTrafficAndScrapes([], async (sy) => {
      stopped = sy.workerPids()[0];
      process.kill(stopped, 'SIGSTOP');
      // Three collections (each gives up on a worker after 500 ms) and six scrapes while it is stopped.
      await sleep(3000);
      process.kill(stopped, 'SIGCONT');
      stopped = undefined;
    });
    t.diagnostic(`${r.scrapes} scrapes, ${r.attempts} requests sent, ${r.ok} succeeded, requests_total ${r.total}`);
    assert.deepEqual(r.falls, [], fallen(r.falls));
    assert.ok(r.total >= r.ok && r.total <= r.attempts, `requests_total ${r.total}, ${r.ok} successes, ${r.attempts} sent`);
  } finally {
    if (stopped !== undefined) process.kill(stopped, 'SIGCONT');
  }
});

test('a rolling restart alone loses no count: requests_total ≥ every success the client saw', { timeout: 90_000 }, async (t) => {
  const pidFile = join(mkdtempSync(join(tmpdir(), 'swy-counters-')), 'pid');
  const r = await underTrafficAndScrapes(['--pid-file', pidFile], async (sy) => {
    const mark = sy.output().length;
    execFileSync(process.execPath, [CLI, 'reload', '--pid-file', pidFile, '--workers']);
    await sy.waitForLog(/"msg":"rolling restart done"/, 40_000, mark);
  });
  t.diagnostic(`${r.scrapes} scrapes, ${r.attempts} requests sent, ${r.ok} succeeded, requests_total ${r.total}`);
  assert.deepEqual(r.falls, [], fallen(r.falls));
  assert.ok(r.total >= r.ok && r.total <= r.attempts, `requests_total ${r.total}, ${r.ok} successes, ${r.attempts} sent`);
});
