import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AddressInfo } from 'node:net';
import { startBackends, startSwitchyard, freePort, baseConfig, CLI, type Backend, type Switchyard } from './harness.js';
import { startControlBackend, type ControlBackend } from '../support/control-backend.js';
import { launchBrowser } from '../support/browser.js';
import { runLoadtest, type LoadtestOptions } from '../../src/loadtest/run-loadtest.js';
import { ProgressReporter } from '../../src/loadtest/progress.js';
import type { LoadtestResult } from '../../src/loadtest/result.js';

/*
 * `switchyard loadtest` against a real Switchyard and real backends on loopback: the generator's
 * counts against what the backends saw, a spike at the backends, the soak's admin sampling, a
 * failover with a kill and restart command (through the CLI), coordinated omission against a
 * stalled backend, and the HTML report in Chromium.
 */

const out = mkdtempSync(join(tmpdir(), 'swy-loadtest-'));
const quiet = new ProgressReporter({ write: () => true });

let backends: Backend[];
/** Arrival times (Date.now()) of every request at any backend. */
const arrivals: number[] = [];
/** While set, backends hold their answers until this time (Date.now()). */
let stallUntil = 0;
let sy: Switchyard;
let admin: string;
let control: Server;
let controlUrl: string;

before(async () => {
  backends = await startBackends(2, (req, res, b) => {
    arrivals.push(Date.now());
    req.resume();
    req.on('end', () => {
      const answer = () => { res.writeHead(200, { 'content-type': 'text/plain' }); res.end(b.name); };
      const wait = stallUntil - Date.now();
      if (wait > 0) setTimeout(answer, wait); else answer();
    });
  });
  const adminPort = await freePort();
  admin = `http://127.0.0.1:${adminPort}`;
  const services = { app: { balancer: { algorithm: 'round-robin' }, backends: backends.map((b) => ({ address: b.address })) } };
  sy = await startSwitchyard(baseConfig(await freePort(), services, undefined, { admin: { address: `127.0.0.1:${adminPort}`, auditLog: { path: join(out, 'audit.log') } } }));
  // The "kill" of the coordinated-omission test: stalls the backends for a second.
  control = createServer((req, res) => {
    if (req.url === '/stall') stallUntil = Date.now() + 1000;
    res.end('ok');
  });
  await new Promise<void>((resolve) => control.listen(0, '127.0.0.1', resolve));
  controlUrl = `http://127.0.0.1:${(control.address() as AddressInfo).port}`;
});

after(async () => {
  await sy?.stop();
  await Promise.all((backends ?? []).map((b) => b.close()));
  if (control !== undefined) await new Promise((resolve) => control.close(resolve));
  rmSync(out, { recursive: true, force: true });
});

function options(o: Partial<LoadtestOptions>): LoadtestOptions {
  return {
    target: { url: new URL(`${sy.url}/lt`), method: 'GET', headers: {}, connections: 16, timeoutMs: 5000, maxInFlight: 10_000 },
    scenarios: ['baseline'], rate: 100, durationMs: 3000, spikeFactor: 3, spikeDurationMs: 2000, soakDurationMs: 3000, recoveryTimeoutMs: 10_000,
    criteria: { tolerance: 0.1, latencyFloorMs: 5, holdS: 2 }, leakThresholdBytesPerHour: 10 * 2 ** 20, connectionLeakThresholdPerHour: 100,
    slo: { p99Ms: 100, errorRate: 0.01 }, sampleIntervalMs: 500, commandTimeoutMs: 10_000, command: 'test',
    ...o,
  };
}

const seen = () => backends.reduce((s, b) => s + b.seen.length, 0);

/** Runs `switchyard ARGS` to its exit (killed after `timeoutMs`). */
const cli = (args: string[], timeoutMs = 15_000) => new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
  const p = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let so = '';
  let se = '';
  p.stdout.on('data', (d: Buffer) => { so += d; });
  p.stderr.on('data', (d: Buffer) => { se += d; });
  const kill = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
  p.on('exit', (code) => { clearTimeout(kill); resolve({ code, stdout: so, stderr: se }); });
});

/** A shell command that GETs `url` and fails unless it answers 2xx (node, since curl may be missing). */
const getCmd = (url: string) => `'${process.execPath}' -e "fetch('${url}').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"`;

test('baseline: the generator\'s counts match the requests the backends counted', { timeout: 30_000 }, async () => {
  const before = seen();
  // A generous SLO: this checks the plumbing into `capacity`, not how fast a busy CI machine is.
  const r = await runLoadtest(options({ scenarios: ['baseline'], rate: 100, durationMs: 3000, slo: { p99Ms: 5000, errorRate: 0.01 } }), { progress: quiet });
  const p = r.runs[0].phases[0];
  writeFileSync(join(out, 'unsaturated.json'), JSON.stringify(r));
  // One extra request: the pre-flight check that the target answers.
  assert.equal(seen() - before, p.scheduled + 1);
  assert.equal(p.scheduled, 300);
  assert.deepEqual([p.ok, p.failed, p.errorRate], [300, 0, 0]);
  assert.equal(r.runs[0].series.reduce((s, x) => s + x.ok, 0), 300);
  assert.ok(p.throughput > 0, `throughput ${p.throughput}`); // its value is the machine's; the counts above are the generator's
  const l = p.latencyMs;
  assert.ok(l.p50! > 0 && l.p50! <= l.p90! && l.p90! <= l.p99! && l.p99! <= l.p999! && l.p999! <= l.max!, JSON.stringify(l));
  assert.ok(backends.every((b) => b.seen.length > 100), 'round-robin spread the load');
  assert.equal(r.capacity.qps, p.throughput);
  assert.equal(r.capacity.phase, 'baseline/baseline');
  // 100/s is far below what the node can do: the run says it did not saturate it.
  assert.equal(r.capacity.saturated, false);
});

test('a spike the node cannot keep up with saturates the run; capacity takes it, and refuses the unsaturated baseline', { timeout: 60_000 }, async () => {
  // The spike (2 s at 3 × 50/s) starts after 2 s: stalling the backends for 1.5 s of it makes
  // that phase fall short of its rate and break the SLO, as a node past its limit would.
  const stall = setTimeout(() => { stallUntil = Date.now() + 1500; }, 2300);
  const r = await runLoadtest(options({ scenarios: ['spike'], rate: 50, durationMs: 2000, spikeDurationMs: 2000, slo: { p99Ms: 800, errorRate: 0.01 } }), { progress: quiet });
  clearTimeout(stall);
  assert.equal(r.capacity.saturated, true, r.capacity.saturation);
  assert.match(r.capacity.saturation, /^spike\/spike offered 150\/s .*past the node's limit$/);
  writeFileSync(join(out, 'saturated.json'), JSON.stringify(r));
  const plan = ['capacity', '--qps', '100k', '--connections', '2M', '--bandwidth', '10Gbps', '--per-node-connections', '1.1M', '--per-node-bandwidth', '10Gbps'];
  const ok = await cli([...plan, '--per-node-from', join(out, 'saturated.json')]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /QPS measured: spike\/(before|after) at p99/);
  const refused = await cli([...plan, '--per-node-from', join(out, 'unsaturated.json')]);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /^error: SWY_CAPACITY_UNSATURATED: --per-node-from .*did not saturate the node .*get a saturated run: raise the offered rate until a phase breaks the SLO.*or pass --force to plan from it anyway\n$/);
  assert.equal(refused.stdout, '', 'no plan printed');
  const forced = await cli([...plan, '--per-node-from', join(out, 'unsaturated.json'), '--force']);
  assert.equal(forced.code, 0, forced.stderr);
  assert.match(forced.stderr, /WARNING: --per-node-from .*did not saturate the node.*because of --force/);
  assert.match(forced.stdout, /NOT SATURATED/);
});

test('spike: the backends see ~3× the rate during the spike, then the baseline rate again', { timeout: 30_000 }, async () => {
  const from = arrivals.length;
  const r = await runLoadtest(options({ scenarios: ['spike'], rate: 50, durationMs: 2000, spikeDurationMs: 2000, spikeFactor: 3 }), { progress: quiet });
  const t0 = Date.parse(r.runs[0].startedAt);
  const perSecond = Array.from({ length: 6 }, () => 0);
  for (const t of arrivals.slice(from)) {
    const s = Math.floor((t - t0) / 1000);
    if (s >= 0 && s < 6) perSecond[s]++;
  }
  // Counts, and the order of the busy seconds: a loaded machine may shift an arrival into the next
  // second, never add or drop one. The spike's 300 over two seconds outnumber the 200 of the four calm ones.
  assert.equal(arrivals.length - from, 500 + 1, `arrivals per second at the backends: ${perSecond} (plus the pre-flight check)`);
  assert.ok(perSecond[2] + perSecond[3] > perSecond[0] + perSecond[1] + perSecond[4] + perSecond[5], `spike seconds 2-3: ${perSecond}`);
  const f = r.scenarios[0].findings as { factor: number; during: { rate: number; scheduled: number }; errorsDuring: number; p99ReturnS: number | null };
  assert.equal(f.factor, 3);
  assert.deepEqual([f.during.rate, f.during.scheduled, f.errorsDuring], [150, 300, 0]);
  assert.ok(f.p99ReturnS === null || (f.p99ReturnS >= 0 && f.p99ReturnS <= 2));
  assert.deepEqual(r.runs[0].phases.map((p) => [p.name, p.scheduled]), [['before', 100], ['spike', 300], ['after', 100]]);
});

test('soak: samples the node\'s memory and connections from the admin API and fits a trend', { timeout: 30_000 }, async () => {
  const r = await runLoadtest(options({ scenarios: ['soak'], rate: 50, soakDurationMs: 4000, admin: { url: new URL(admin) } }), { progress: quiet });
  const samples = r.runs[0].admin.filter((s) => s.error === undefined);
  assert.ok(samples.length >= 6, `samples: ${samples.length}`);
  assert.ok(samples.every((s) => s.workersRssBytes! > 10e6 && s.primaryRssBytes! > 10e6 && s.workers === 1), JSON.stringify(samples[0]));
  assert.ok(samples.slice(2).every((s) => s.activeConnections! >= 1), 'the generator\'s connections are open');
  const f = r.scenarios[0].findings as { memory: { samples: number; slopeBytesPerHour: number; leak: boolean | null }; connections: { max: number } };
  assert.ok(f.memory.samples >= 5 && Number.isFinite(f.memory.slopeBytesPerHour));
  assert.equal(f.memory.leak, null, 'a 4-second trend is reported, not judged');
  assert.ok(f.connections.max >= 1 && f.connections.max <= 16 + 2);
});

test('a wrong admin token fails before any load, in one line', { timeout: 10_000 }, async () => {
  const tokenPort = await freePort();
  const guarded = await startSwitchyard(baseConfig(await freePort(), { app: { backends: [{ address: backends[0].address }] } }, undefined, {
    admin: { address: `127.0.0.1:${tokenPort}`, token: 'right-token-0123456789', auditLog: { path: join(out, 'audit2.log') } },
  }));
  try {
    await assert.rejects(runLoadtest(options({ target: { ...options({}).target, url: new URL(guarded.url) }, admin: { url: new URL(`http://127.0.0.1:${tokenPort}`), token: 'wrong-token-0123456789' } }), { progress: quiet }),
      { code: 'SWY_LOADTEST_ADMIN', message: /401 unauthorized \(give --admin-token\)/ });
  } finally {
    await guarded.stop();
  }
});

test('coordinated omission: a 1 s stall is charged to every request scheduled during it', { timeout: 30_000 }, async () => {
  const r = await runLoadtest(options({ scenarios: ['failover'], rate: 100, durationMs: 3000, killAtMs: 1000, killCmd: getCmd(`${controlUrl}/stall`) }), { progress: quiet });
  const run = r.runs[0];
  const [before, afterKill] = run.phases;
  // ~100 requests were due during the stall (after the "kill" at 1 s); timed from their intended
  // send times they waited from ~1 s down to ~0. So a fifth of the 200 requests after the kill
  // waited over 600 ms, and p90 is about 800 ms. A closed-loop client with 16 connections would
  // have sent at most 16 requests into the stall and shown a p90 near the normal latency.
  assert.ok(afterKill.latencyMs.p90! >= 700 && afterKill.latencyMs.max! >= 900, JSON.stringify(afterKill.latencyMs));
  assert.ok(before.latencyMs.p50! < afterKill.latencyMs.p90!, `before the stall: ${JSON.stringify(before.latencyMs)}`);
  assert.ok(Math.max(...run.series.map((p) => p.p99 ?? 0)) >= 850);
  const f = r.scenarios[0].findings as { failedRequests: number; latencyImpact: { worstSecondP99Ms: number } };
  assert.equal(f.failedRequests, 0);
  assert.ok(f.latencyImpact.worstSecondP99Ms >= 850);
  assert.equal(run.events[0].exitCode, 0);
});

let reportHtml = '';

test('failover + recovery through the CLI: a backend killed and restarted shows an error window, then recovery', { timeout: 60_000 }, async () => {
  const c: ControlBackend[] = [await startControlBackend('c0'), await startControlBackend('c1')];
  const ctl = createServer((req, res) => {
    const done = () => res.end('ok');
    if (req.url === '/kill') void c[0].stop().then(done);
    else if (req.url === '/restart') void c[0].start().then(done);
    else { res.statusCode = 404; res.end(); }
  });
  await new Promise<void>((resolve) => ctl.listen(0, '127.0.0.1', resolve));
  const ctlUrl = `http://127.0.0.1:${(ctl.address() as AddressInfo).port}`;
  const adminPort = await freePort();
  const fo = await startSwitchyard(baseConfig(await freePort(), {
    app: {
      balancer: { algorithm: 'round-robin' }, backends: c.map((b) => ({ address: b.address })),
      // No retries, so the kill shows as errors; no active health checks, so it is passive outlier
      // detection that takes c0 out, after exactly 3 failures (a check could race the traffic).
      retries: { enabled: false }, slowStart: 0,
      outlierDetection: { consecutiveFailures: 3, baseEjectionTime: '1s' },
    },
  }, undefined, { admin: { address: `127.0.0.1:${adminPort}`, auditLog: { path: join(out, 'audit3.log') } } }));
  const dir = join(out, 'failover');
  try {
    const args = ['loadtest', '--target', `${fo.url}/`, '--scenario', 'failover,recovery', '--rate', '100', '--duration', '6s',
      '--kill-at', '2s', '--kill-cmd', getCmd(`${ctlUrl}/kill`), '--restart-at', '4s', '--restart-cmd', getCmd(`${ctlUrl}/restart`),
      '--recovery-timeout', '10s', '--recovery-hold', '2s', '--latency-floor', '5ms', '--admin', `http://127.0.0.1:${adminPort}`, '--sample-interval', '1s', '--out', dir];
    const { code, stdout, stderr } = await cli(args, 50_000);
    assert.equal(code, 0, stderr);
    assert.match(stdout, /^failover \(run failover\):/m);
    assert.match(stdout, /error window: \d s \(seconds [23]–\d; kill at 2 s\)/);
    assert.match(stdout, /recovered [\d.]+ s after the restart/);
    assert.match(stdout, new RegExp(`wrote ${dir}/result.json and ${dir}/report.html`));
    assert.match(stderr, /failover: kill at 2\.\d s: .* -e "fetch/);
    const r = JSON.parse(readFileSync(join(dir, 'result.json'), 'utf8')) as LoadtestResult;
    assert.equal(r.tool, 'switchyard-loadtest');
    const f = r.scenarios.find((s) => s.name === 'failover')!.findings as {
      failedRequests: number; errors: Record<string, number>; errorWindow: { firstS: number; lastS: number; lengthS: number } | null;
      commands: { label: string; exitCode: number }[]; latencyImpact: { beforeP99Ms: number };
    };
    assert.ok(f.failedRequests >= 3 && f.failedRequests < 100, `failed ${f.failedRequests}`);
    assert.ok((f.errors.http_5xx ?? 0) > 0, JSON.stringify(f.errors));
    // Errors from the kill (2 s; the command itself takes a moment) until c0 is ejected (again after 1 s while down).
    assert.ok(f.errorWindow !== null && f.errorWindow.firstS >= 2 && f.errorWindow.firstS <= 3 && f.errorWindow.lengthS <= 3, JSON.stringify(f.errorWindow));
    assert.deepEqual(f.commands.map((x) => [x.label, x.exitCode]), [['kill', 0], ['restart', 0]]);
    const rec = r.scenarios.find((s) => s.name === 'recovery')!.findings as { recovered: boolean; timeToRecoverS: number; since: string; watch: { durationS: number } };
    assert.equal(rec.recovered, true);
    assert.equal(rec.since, 'restart');
    assert.ok(rec.timeToRecoverS <= 6, `recovered after ${rec.timeToRecoverS} s`);
    assert.ok(rec.watch.durationS < 10, 'the watch ended once recovered');
    assert.ok(c[0].requests > 0 && c[1].requests > 0);
    assert.ok(r.runs[0].admin.length >= 5);
    reportHtml = join(dir, 'report.html');
  } finally {
    await fo.stop();
    await new Promise((resolve) => ctl.close(resolve));
    await Promise.all(c.map((b) => b.close()));
  }
});

test('the HTML report renders offline in Chromium and its charts drew', { timeout: 60_000 }, async () => {
  assert.ok(reportHtml !== '', 'needs the report of the failover test');
  const b = await launchBrowser();
  try {
    const failed: string[] = [];
    b.page.on('requestfailed', (r) => failed.push(r.url()));
    b.page.on('pageerror', (e) => failed.push(`page error: ${e.message}`));
    await b.page.goto(`file://${reportHtml}`);
    // Page code is given as text: this project compiles without the DOM types.
    await b.page.waitForFunction('document.body.dataset.chartsDrawn !== undefined && document.body.dataset.chartsDrawn === document.body.dataset.chartsExpected', undefined, { timeout: 15_000 });
    // Rate, errors, latency and the admin samples.
    const charts = await b.page.evaluate(`[...document.querySelectorAll('.chart')].map((el) => {
      const title = el.querySelector('.u-title')?.textContent ?? '';
      const canvas = el.querySelector('canvas');
      const px = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
      let painted = 0;
      let lines = 0;
      // The first three series' colours (#1f77b4, #ff7f0e, #2ca02c): data lines, not only axes and grid.
      const colours = [[31, 119, 180], [255, 127, 14], [44, 160, 44]];
      for (let i = 0; i < px.length; i += 4) {
        if (px[i + 3] > 0) painted++;
        if (px[i + 3] > 200 && colours.some(([r, g, b]) => Math.abs(px[i] - r) < 40 && Math.abs(px[i + 1] - g) < 40 && Math.abs(px[i + 2] - b) < 40)) lines++;
      }
      return { title, painted, lines, w: canvas.width };
    })`) as { title: string; painted: number; lines: number; w: number }[];
    assert.deepEqual(charts.map((c) => c.title), ['Rate', 'Errors (by scheduled second)', 'Latency from intended send time', 'Target node (admin API)']);
    for (const c of charts) assert.ok(c.painted > 2000 && c.lines > 200, JSON.stringify(c));
    assert.match(await b.page.locator('h1').textContent() ?? '', /Switchyard load test/);
    assert.ok(await b.page.locator('table').count() >= 2, 'summary and phase tables');
    assert.deepEqual(failed, []);
  } finally {
    await b.close();
  }
});

test('CLI: an unreachable target and a bad value are one line each; capacity prints the design\'s table', { timeout: 20_000 }, async () => {
  const port = await freePort();
  const down = await cli(['loadtest', '--target', `http://127.0.0.1:${port}/`, '--duration', '1s', '--out', join(out, 'down')]);
  assert.equal(down.code, 1);
  assert.equal(down.stderr, `error: SWY_LOADTEST_TARGET: cannot reach http://127.0.0.1:${port}/: ECONNREFUSED (connect)\n`);
  const bad = await cli(['loadtest', '--target', sy.url, '--rate', 'fast']);
  assert.deepEqual([bad.code, bad.stderr], [2, 'error: SWY_CLI_USAGE: --rate: expected a positive number, got "fast"\n']);
  const noKill = await cli(['loadtest', '--target', sy.url, '--scenario', 'all']);
  assert.deepEqual([noKill.code, noKill.stderr], [2, 'error: SWY_CLI_USAGE: failover needs --kill-cmd (the command that kills an LB node or backend)\n']);
  const cap = await cli(['capacity', '--qps', '100k', '--connections', '2M', '--bandwidth', '10Gbps', '--per-node-qps', '100k', '--per-node-connections', '1.1M', '--per-node-bandwidth', '10Gbps']);
  assert.equal(cap.code, 0, cap.stderr);
  assert.match(cap.stdout, /^Year 3 \(5x\)\s+500,000\s+10,000,000\s+50 Gbps\s+8 \/ 13 \/ 9\s+connections\s+15\s+add 7$/m);
});
