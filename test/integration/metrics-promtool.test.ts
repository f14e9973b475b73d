import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { baseConfig, freePort, sleep, startBackends, startSwitchyard, type Backend, type Switchyard } from './harness.js';

/*
 * /metrics of a real node (two workers) checked by the real `promtool check metrics`, and what an
 * operator alerts on: exact status codes, per-worker runtime metrics under the standard names,
 * build info, counter types, an ejected backend reported unhealthy, worker restarts, certificate
 * expiry. Last, every metric name that the shipped alert rules and Grafana dashboard use must be
 * exported by this node, so a rename breaks this test rather than someone's pager.
 */

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
let backends: Backend[];
let sy: Switchyard;
let admin: string;
let certNotAfterS: number;

async function scrape(): Promise<string> {
  const r = await request(`http://${admin}/metrics`);
  assert.equal(r.statusCode, 200);
  return r.body.text();
}

/** The `# TYPE` of every metric family in Prometheus text. */
function types(text: string): Map<string, string> {
  return new Map([...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1], m[2]]));
}

function sample(text: string, name: string, labels: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(labels));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

async function until(what: string, cond: () => Promise<boolean>, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

before(async () => {
  backends = await startBackends(2, (req, res, b) => {
    req.resume();
    req.on('end', () => {
      const status = b.name === 'b1' ? 500 : req.url === '/teapot' ? 418 : 200;
      res.writeHead(status, { 'content-length': '2' });
      res.end('ok');
    });
  });
  const dir = mkdtempSync(join(tmpdir(), 'swy-promtool-'));
  const cert = join(dir, 'site.crt');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'site.key'), '-out', cert, '-days', '2', '-subj', '/CN=site.test'], { stdio: 'ignore' });
  certNotAfterS = Math.floor(Date.now() / 1000) + 2 * 86_400;
  admin = `127.0.0.1:${await freePort()}`;
  const config = baseConfig(await freePort(), {
    app: {
      backends: backends.map((b) => ({ address: b.address })),
      outlierDetection: { consecutiveFailures: 2, baseEjectionTime: '5m', maxEjectionPercent: 50 },
      retries: { enabled: false },
    },
  }, undefined, {
    workers: 2,
    admin: { address: admin, auditLog: { path: join(dir, 'audit.log') } },
    autoscaling: { enabled: true },
  });
  (config.listeners as unknown[]).push({ name: 'tls', address: `127.0.0.1:${await freePort()}`, protocol: 'https', tls: { certificates: [{ cert, key: join(dir, 'site.key') }] } });
  sy = await startSwitchyard(config);
  await sy.waitForLog(/admin listening/);
});

after(async () => {
  await sy?.stop();
  for (const b of backends ?? []) await b.close();
});

test('/metrics passes promtool and carries exact codes, per-worker runtime metrics, build info, counter types, ejection', { timeout: 60_000 }, async () => {
  for (let i = 0; i < 40; i++) {
    const r = await request(`${sy.url}${i % 4 === 0 ? '/teapot' : '/'}`);
    await r.body.text();
  }
  // Counted in the workers, collected by the primary about once a second.
  const answered = (t: string) => [...t.matchAll(/^switchyard_requests_total\{service="app",[^}]*\} (\d+)$/gm)].reduce((s, m) => s + Number(m[1]), 0);
  let text = await scrape();
  for (const end = Date.now() + 15_000; answered(text) < 40 && Date.now() < end;) { await sleep(250); text = await scrape(); }

  const lint = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  assert.equal(lint.status, 0, `promtool check metrics:\n${lint.stdout}${lint.stderr}`);
  assert.equal(`${lint.stdout}${lint.stderr}`.trim(), '', 'promtool has nothing to say');

  // Exact codes beside their class; every request is counted once.
  const codes = [...text.matchAll(/^switchyard_requests_total\{service="app",code_class="(\dxx)",code="(\d+)"\} (\d+)$/gm)];
  assert.ok(codes.some((m) => m[2] === '418' && m[1] === '4xx' && Number(m[3]) >= 1), 'code="418" is exported');
  assert.ok(codes.some((m) => m[2] === '500' && m[1] === '5xx'), 'code="500" is exported');
  assert.equal(codes.reduce((s, m) => s + Number(m[3]), 0), 40);

  // Runtime metrics of every process under the standard names, by worker.
  for (const worker of ['primary', '1', '2']) {
    for (const name of ['process_cpu_seconds_total', 'process_resident_memory_bytes', 'nodejs_eventloop_lag_p99_seconds', 'nodejs_heap_size_used_bytes']) {
      assert.ok(sample(text, name, `worker="${worker}"`) !== undefined, `${name}{worker="${worker}"}`);
    }
  }
  assert.ok(!text.includes('switchyard_primary_'), 'no renamed copies of the standard names');

  // Build info.
  const build = /^switchyard_build_info\{version="([^"]+)",node_version="([^"]+)",commit="([^"]+)"\} 1$/m.exec(text);
  assert.ok(build !== null, 'switchyard_build_info');
  assert.equal(build[1], (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version);
  assert.equal(build[2], process.version);
  const head = spawnSync('git', ['rev-parse', 'HEAD'], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(build[3], head.status === 0 ? head.stdout.trim() : 'unknown');

  // Types: whatever ends in _total is a counter (and promtool agreed above).
  const t = types(text);
  assert.equal(t.get('switchyard_autoscaling_decisions_total'), 'counter');
  for (const [name, type] of t) if (name.endsWith('_total')) assert.equal(type, 'counter', name);

  // b1 answers 500 only: ejected, and so not healthy; b0 healthy.
  assert.equal(sample(text, 'switchyard_backend_ejected', `backend="${backends[1].address}"`), 1);
  assert.equal(sample(text, 'switchyard_backend_healthy', `backend="${backends[1].address}"`), 0);
  assert.equal(sample(text, 'switchyard_backend_healthy', `backend="${backends[0].address}"`), 1);

  // Certificate expiry and capacity gauges.
  const expiry = sample(text, 'switchyard_tls_certificate_expiry_timestamp_seconds', 'listener="tls"');
  assert.ok(expiry !== undefined && Math.abs(expiry - certNotAfterS) < 120, `expiry ${expiry} vs ${certNotAfterS}`);
  assert.equal(sample(text, 'switchyard_listener_max_connections', 'listener="web"'), 10_000);
  assert.match(text, /^switchyard_host_cpu_cores \d/m);
  assert.match(text, /^switchyard_host_memory_bytes \d/m);
});

test('a killed worker is counted as a restart and comes back with its runtime series', { timeout: 60_000 }, async () => {
  const startTimes = async () => { const text = await scrape(); return ['1', '2'].map((w) => sample(text, 'process_start_time_seconds', `worker="${w}"`)); };
  const before = await startTimes();
  assert.ok(before.every((s) => s !== undefined), `start times ${before}`);
  assert.match(await scrape(), /^switchyard_worker_restarts_total 0$/m);
  const pids = sy.workerPids();
  assert.equal(pids.length, 2);
  process.kill(pids[0], 'SIGKILL');
  await until('the restart to be counted', async () => /^switchyard_worker_restarts_total 1$/m.test(await scrape()));
  // The respawned worker takes the dead one's slot: one slot's process start time moves, none goes missing.
  await until('the new worker to report its runtime', async () => {
    const after = await startTimes();
    return after.every((s) => s !== undefined) && after.filter((s, i) => s !== before[i]).length === 1;
  });
});

test('every metric the shipped alert rules and Grafana dashboard use is exported by a real node', async () => {
  const text = await scrape();
  const exported = new Set<string>();
  for (const [name, type] of types(text)) {
    exported.add(name);
    if (type === 'histogram') for (const s of ['_bucket', '_sum', '_count']) exported.add(`${name}${s}`);
  }
  const used = (file: string) => new Set([...readFileSync(join(ROOT, file), 'utf8').matchAll(/\b((?:switchyard|process|nodejs)_[a-z0-9_]+)/g)].map((m) => m[1]));
  for (const file of ['deploy/prometheus/switchyard-rules.yml', 'deploy/grafana/switchyard.json']) {
    const names = used(file);
    assert.ok(names.size >= 10, `${file} uses ${names.size} metric names`);
    const missing = [...names].filter((n) => !exported.has(n));
    assert.deepEqual(missing, [], `${file} uses metrics the node does not export`);
  }
});
