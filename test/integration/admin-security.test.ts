import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { Agent, request } from 'undici';
import { CLI, baseConfig, freePort, sleep, startBackends, startSwitchyard, withTestEngine, type Backend, type Switchyard } from './harness.js';

/*
 * The admin API as an attacker in the operator's browser, or on the network, sees it: cross-site
 * writes (CSRF), DNS rebinding, a token in the URL, an admin listener off loopback without a
 * token, framing, and secrets in what the API prints.
 */

const dir = mkdtempSync(join(tmpdir(), 'swy-admin-sec-'));
const TOKEN = 'sec-test-token-0123456789abcdef';
const SECRETS = {
  redisUserinfo: 'redisUserinfoPw-S3CRET', redisQuery: 'redisQueryPw-S3CRET', hookUserinfo: 'hookUserPw-S3CRET', hookQuery: 'hookQueryKey-S3CRET',
  hookPath: 'hookPath-S3CRET', hookAuth: 'hookAuthHeader-S3CRET', hookApiKey: 'hookApiKey-S3CRET', routeHeader: 'routeHeader-S3CRET',
};
let backends: Backend[];
let open: Switchyard;
let locked: Switchyard;
let openAdmin: string;
let lockedAdmin: string;
const agent = new Agent({ connections: 4 });
const json = { 'content-type': 'application/json' };

before(async () => {
  backends = await startBackends(2);
  const services = { app: { balancer: { algorithm: 'round-robin' }, backends: backends.map((b) => ({ address: b.address })) } };
  const openPort = await freePort();
  openAdmin = `127.0.0.1:${openPort}`;
  open = await startSwitchyard(baseConfig(await freePort(), services, undefined, { admin: { address: openAdmin, auditLog: { path: join(dir, 'open-audit.log') } } }));
  await open.waitForLog(/admin listening/, 10_000);
  // A config full of secrets: Redis password in the userinfo and the query, a webhook with
  // credentials in its URL (userinfo, path, query) and in its headers, a route on an API key.
  const lockedPort = await freePort();
  lockedAdmin = `127.0.0.1:${lockedPort}`;
  locked = await startSwitchyard(baseConfig(await freePort(), services, [
    { match: { path: { prefix: '/' }, headers: [{ name: 'X-Api-Key', exact: SECRETS.routeHeader }] }, service: 'app' },
  ], {
    admin: { address: lockedAdmin, token: TOKEN, auditLog: { path: join(dir, 'locked-audit.log') } },
    tlsSessionCache: { redis: `redis://default:${SECRETS.redisUserinfo}@127.0.0.1:1/0?password=${SECRETS.redisQuery}` },
    autoscaling: {
      enabled: false,
      actuator: {
        type: 'webhook', url: `http://ops:${SECRETS.hookUserinfo}@127.0.0.1:1/hooks/${SECRETS.hookPath}?api_key=${SECRETS.hookQuery}&team=lb`,
        headers: { Authorization: `Bearer ${SECRETS.hookAuth}`, 'X-Api-Key': SECRETS.hookApiKey, 'Content-Type': 'application/json' },
      },
    },
  }));
  await locked.waitForLog(/admin listening/, 10_000);
});

after(async () => {
  await open?.stop();
  await locked?.stop();
  await agent.close();
  await Promise.all(backends.map((b) => b.close()));
  rmSync(dir, { recursive: true, force: true });
});

async function call(admin: string, path: string, o: { method?: string; headers?: Record<string, string>; body?: string } = {}) {
  const r = await request(`http://${admin}${path}`, { method: (o.method ?? 'GET') as 'GET', headers: o.headers, body: o.body, dispatcher: agent });
  return { status: r.statusCode, headers: r.headers, text: await r.body.text() };
}

async function backendStates(): Promise<string[]> {
  const v = JSON.parse((await call(openAdmin, '/api/services')).text) as { services: { backends: { state: string }[] }[] };
  return v.services[0].backends.map((b) => b.state);
}

test('CSRF: a drain posted by another site (foreign Origin, form body) or as text/plain is refused, and the backend is NOT drained', { timeout: 30_000 }, async () => {
  const drain = `/api/backends/app/${encodeURIComponent(backends[0].address)}/drain`;
  const form = await call(openAdmin, drain, { method: 'POST', headers: { origin: 'http://evil.example', 'content-type': 'application/x-www-form-urlencoded' }, body: 'x=1' });
  assert.equal(form.status, 403, form.text);
  // Even from a page on the same host but another port (e.g. an app served through this load balancer).
  const sibling = await call(openAdmin, drain, { method: 'POST', headers: { origin: `http://127.0.0.1:${open.port}`, ...json }, body: '{}' });
  assert.equal(sibling.status, 403, sibling.text);
  // A "simple" cross-site request a page can send without a preflight: text/plain, no Origin check to lean on.
  const plain = await call(openAdmin, drain, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{}' });
  assert.equal(plain.status, 415, plain.text);
  await sleep(1200); // one stats collection
  assert.deepEqual(await backendStates(), ['healthy', 'healthy']);
  const seen = backends[0].seen.length;
  for (let i = 0; i < 20; i++) await (await request(`${open.url}/t`, { dispatcher: agent })).body.dump();
  assert.equal(backends[0].seen.length - seen, 10, 'b0 still takes its share of a round-robin');
  const audit = readFileSync(join(dir, 'open-audit.log'), 'utf8');
  assert.match(audit, /"result":"refused","detail":"cross-origin request refused/);
  assert.doesNotMatch(audit, /"action":"drain"/);
  // The same request from the dashboard's own origin, as JSON, works.
  const ok = await call(openAdmin, drain, { method: 'POST', headers: { origin: `http://${openAdmin}`, ...json }, body: '{}' });
  assert.equal(ok.status, 200, ok.text);
  assert.equal((await call(openAdmin, drain.replace(/drain$/, 'undrain'), { method: 'POST', headers: json, body: '{}' })).status, 200);
});

test('DNS rebinding: a Host that is not this listener is refused on reads and writes', async () => {
  const port = openAdmin.split(':')[1];
  const evil = { host: `evil.example:${port}` };
  for (const path of ['/api/config', '/api/status', '/api/services', '/metrics', '/']) {
    const r = await call(openAdmin, path, { headers: evil });
    assert.equal(r.status, 403, `${path}: ${r.text}`);
    assert.doesNotMatch(r.text, /listeners|switchyard_/);
  }
  const reload = await call(openAdmin, '/api/reload', { method: 'POST', headers: { ...evil, ...json }, body: '{}' });
  assert.equal(reload.status, 403);
  const drain = await call(openAdmin, `/api/backends/app/${encodeURIComponent(backends[1].address)}/drain`, { method: 'POST', headers: { ...evil, origin: `http://evil.example:${port}`, ...json }, body: '{}' });
  assert.equal(drain.status, 403);
  assert.doesNotMatch(readFileSync(join(dir, 'open-audit.log'), 'utf8'), /"action":"reload"/);
  // Loopback names and IPs are fine.
  assert.equal((await call(openAdmin, '/api/status', { headers: { host: `localhost:${port}` } })).status, 200);
  assert.equal((await call(openAdmin, '/api/status')).status, 200);
});

test('a flood of refused writes is audited at a bounded rate, and the next record says how many were left out', { timeout: 20_000 }, async () => {
  const log = join(dir, 'locked-audit.log');
  const refusedLines = () => (existsSync(log) ? readFileSync(log, 'utf8') : '').split('\n').filter((l) => l.includes('"result":"refused"')).length;
  await sleep(1100); // a fresh second
  const before = refusedLines();
  const started = Date.now();
  const answers = await Promise.all(Array.from({ length: 60 }, () => call(lockedAdmin, '/api/reload', { method: 'POST', headers: json, body: '{}' })));
  // At most 10 records a second: a loaded machine may spread the flood over a few seconds.
  const seconds = Math.ceil((Date.now() - started) / 1000) + 1;
  assert.ok(answers.every((a) => a.status === 401));
  const recorded = refusedLines() - before;
  assert.ok(recorded >= 1 && recorded <= 10 * seconds && recorded < 60, `${recorded} of 60 refusals recorded in ${seconds} s`);
  await sleep(1100);
  await call(lockedAdmin, '/api/reload', { method: 'POST', headers: json, body: '{}' });
  // Every refusal is either recorded or counted in a later record's note.
  const lines = readFileSync(log, 'utf8').trim().split('\n').filter((l) => l.includes('"result":"refused"')).slice(before);
  const leftOut = lines.reduce((n, l) => n + Number(/\((\d+) earlier refusals not recorded/.exec(l)?.[1] ?? 0), 0);
  assert.equal(lines.length - 1 + leftOut, 60, `${lines.length - 1} recorded + ${leftOut} counted as left out`);
});

test('the token is taken from the Authorization header only, never from the URL', async () => {
  assert.equal((await call(lockedAdmin, `/api/status?token=${TOKEN}`)).status, 401);
  assert.equal((await call(lockedAdmin, `/api/events?token=${TOKEN}`)).status, 401);
  assert.equal((await call(lockedAdmin, `/api/reload?token=${TOKEN}`, { method: 'POST', headers: json, body: '{}' })).status, 401);
  assert.equal((await call(lockedAdmin, '/api/status', { headers: { authorization: `Bearer ${TOKEN}` } })).status, 200);
});

test('security headers: the dashboard cannot be framed, nothing is sniffed, API answers are not cached', async () => {
  for (const path of ['/', '/assets/app.js', '/api/status', '/metrics']) {
    const r = await call(openAdmin, path);
    assert.equal(r.status, 200, path);
    assert.match(String(r.headers['content-security-policy']), /frame-ancestors 'none'/, path);
    assert.equal(r.headers['x-frame-options'], 'DENY', path);
    assert.equal(r.headers['x-content-type-options'], 'nosniff', path);
    assert.equal(r.headers['referrer-policy'], 'no-referrer', path);
    assert.equal(r.headers['access-control-allow-origin'], undefined, path);
  }
  const page = await call(openAdmin, '/');
  assert.match(String(page.headers['content-security-policy']), /default-src 'none'; script-src 'self'/);
  assert.equal((await call(openAdmin, '/api/config')).headers['cache-control'], 'no-store');
  assert.equal((await call(lockedAdmin, '/api/config')).headers['cache-control'], 'no-store', 'on refusals too');
});

test('/api/config (and every other read, and the log) shows none of the secrets in the config', async () => {
  const auth = { authorization: `Bearer ${TOKEN}` };
  const config = await call(lockedAdmin, '/api/config', { headers: auth });
  assert.equal(config.status, 200);
  const shown = JSON.parse(config.text) as { tlsSessionCache: { redis: string }; autoscaling: { actuator: { url: string; headers: Record<string, string> } } };
  assert.equal(shown.tlsSessionCache.redis, 'redis://default:***@127.0.0.1:1/0?password=***', 'what is not secret stays readable');
  assert.equal(shown.autoscaling.actuator.headers['Content-Type'], 'application/json');
  await sleep(1200);
  const reads = await Promise.all(['/api/config', '/api/status', '/api/services', '/api/signals', '/metrics'].map((p) => call(lockedAdmin, p, { headers: auth })));
  for (const r of reads) {
    for (const s of [TOKEN, ...Object.values(SECRETS)]) assert.ok(!r.text.includes(s), `${s} leaked: ${r.text.slice(0, 2000)}`);
  }
  for (const s of [TOKEN, ...Object.values(SECRETS)]) assert.ok(!locked.output().includes(s), `${s} in the log`);
});

function cli(...args: string[]) {
  return spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 20_000, env: { ...process.env, SWITCHYARD_LOG_PRETTY: '0' } });
}

/** The exit code of a process expected to stop by itself, or 'still running' after `ms`. */
function exitCode(sy: Switchyard, ms = 15_000): Promise<number | null | string> {
  if (sy.proc.exitCode !== null) return Promise.resolve(sy.proc.exitCode);
  return Promise.race([new Promise<number | null>((r) => sy.proc.once('exit', r)), sleep(ms).then(() => 'still running')]);
}

/** True when something accepts connections on 127.0.0.1:port. */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}

test('an admin address off loopback without a token: validate and start refuse it with path: reason', { timeout: 60_000 }, async () => {
  const adminPort = await freePort();
  const webPort = await freePort();
  const file = join(dir, 'wide-open.yaml');
  writeFileSync(file, stringify(withTestEngine(baseConfig(webPort, { app: { backends: [] } }, undefined, { admin: { address: `0.0.0.0:${adminPort}` } }))));
  const message = `admin.token: required when admin.address is not loopback (0.0.0.0:${adminPort})`;
  const v = cli('validate', '-c', file);
  assert.equal(v.status, 1, v.stdout);
  assert.ok(v.stderr.split('\n').includes(message), v.stderr);

  const started = await startSwitchyard(baseConfig(webPort, { app: { backends: [] } }, undefined, { admin: { address: `0.0.0.0:${adminPort}` } }), { expectFail: true });
  try {
    assert.equal(await exitCode(started), 1, started.output());
    assert.ok(started.output().includes(message), started.output());
    assert.equal(await listening(adminPort), false);
    assert.equal(await listening(webPort), false);
  } finally { await started.stop(); }

  // `--admin` moving a loopback config's admin listener off loopback is refused the same way.
  const moved = await startSwitchyard(baseConfig(webPort, { app: { backends: [] } }, undefined, { admin: { address: `127.0.0.1:${adminPort}` } }),
    { expectFail: true, extraArgs: ['--admin', `0.0.0.0:${adminPort}`] });
  try {
    assert.equal(await exitCode(moved), 1, moved.output());
    assert.ok(moved.output().includes(`required when admin.address is not loopback (0.0.0.0:${adminPort})`), moved.output());
    assert.equal(await listening(adminPort), false);
  } finally { await moved.stop(); }
});
