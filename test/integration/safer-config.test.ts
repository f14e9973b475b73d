// engine-independent: validate, secrets, exit codes and reload outcomes are the CLI's and the primary's, so the suite runs it once (package.json "test").
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { CLI, freePort, launchSwitchyard, startBackends, withTestEngine, type Switchyard } from './harness.js';
import { makeCert } from '../support/certs.js';

/*
 * Issue 21, safer config: validate loads certificates and keys; a busy port and an unreachable
 * store are their own errors and exit codes; ${env:}/${file:} secrets; reload prints its outcome.
 */

const dir = mkdtempSync(join(tmpdir(), 'swy-safer-'));
let seq = 0;

/** Runs the CLI to completion (async: never blocks the test's own servers). */
function cli(args: string[], env: Record<string, string> = {}, timeoutMs = 60_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, SWITCHYARD_LOG_PRETTY: '0', ...env } });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => { stdout += d; });
    p.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.on('close', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }); });
  });
}

function writeYaml(config: unknown): string {
  const f = join(dir, `c${++seq}.yaml`);
  writeFileSync(f, stringify(config));
  return f;
}

const httpsConfig = (certificates: { cert: string; key: string }[], hosts: string[] = []) => ({
  workers: 1,
  listeners: [{ name: 'tls', address: '127.0.0.1:1', protocol: 'https', tls: { certificates } }],
  routes: [{ service: 'app', ...(hosts.length > 0 && { match: { host: hosts } }) }],
  services: { app: { backends: [{ address: '127.0.0.1:9' }] } },
});

test('validate loads certificates: a missing file, a key of another certificate and an expired certificate are errors', async () => {
  const good = makeCert(['www.example.test']);
  const other = makeCert(['other.example.test']);
  const expired = makeCert(['old.example.test'], { fromDays: -60, toDays: -1 });
  const ok = await cli(['validate', '-c', writeYaml(httpsConfig([good], ['www.example.test']))]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /ok \(1 listeners, 1 routes, 1 services, 1 certificates\)/);

  const missing = await cli(['validate', '-c', writeYaml(httpsConfig([{ cert: join(dir, 'nope.pem'), key: good.key }]))]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /^listeners\[0\]\.tls\.certificates\[0\]\.cert: cannot read .*nope\.pem: ENOENT$/m);

  const mismatch = await cli(['validate', '-c', writeYaml(httpsConfig([{ cert: good.cert, key: other.key }]))]);
  assert.equal(mismatch.code, 1);
  assert.match(mismatch.stderr, /^listeners\[0\]\.tls\.certificates\[0\]\.key: .* is not the key of .* \(they do not match\)$/m);

  const old = await cli(['validate', '-c', writeYaml(httpsConfig([good, expired]))]);
  assert.equal(old.code, 1);
  assert.match(old.stderr, /^listeners\[0\]\.tls\.certificates\[1\]\.cert: .* expired on 20\d\d-/m);
});

test('validate warns (exit 0) about a certificate ending within 30 days and a route host no certificate covers', async () => {
  const soon = makeCert(['soon.example.test', '*.apps.example.test'], { toDays: 10 });
  const r = await cli(['validate', '-c', writeYaml(httpsConfig([soon], ['soon.example.test', 'x.apps.example.test', 'elsewhere.test']))]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /^warning: listeners\[0\]\.tls\.certificates\[0\]\.cert: .* expires in (9|10) days/m);
  assert.match(r.stderr, /^warning: routes\[0\]\.match\.host\[2\]: "elsewhere\.test" is served on https listener tls but no certificate there covers it/m);
  assert.doesNotMatch(r.stderr, /host\[0\]|host\[1\]/, 'exact and wildcard names are covered');
});

test('a busy port is reported as such, naming the address, with exit 3 (validate --check-ports and start)', async () => {
  const blocker: Server = createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
  const port = (blocker.address() as { port: number }).port;
  try {
    const f = writeYaml({ workers: 1, listeners: [{ name: 'web', address: `127.0.0.1:${port}` }] });
    const v = await cli(['validate', '--check-ports', '-c', f]);
    assert.equal(v.code, 3, v.stderr);
    assert.match(v.stderr, new RegExp(`SWY_LISTEN_BUSY: listener web: 127\\.0\\.0\\.1:${port} is already in use`));
    const s = await cli(['start', '-c', f]);
    assert.equal(s.code, 3, s.stderr);
    assert.match(s.stderr, new RegExp(`^error: SWY_LISTEN_BUSY: listener web: 127\\.0\\.0\\.1:${port} is already in use`, 'm'));
    assert.doesNotMatch(s.stderr, /invalid config/);
  } finally {
    blocker.close();
  }
});

test('an unreachable store is reported as such, naming the endpoint, with exit 4 and no raw gRPC text', async () => {
  const port = await freePort(); // nothing listens there
  const url = `etcd://127.0.0.1:${port}/swy`;
  for (const args of [['start', '--store', url, '--cache', join(dir, 'no-cache.json')], ['validate', '--store', url], ['config', 'history', '--store', url], ['fleet', '--store', url]]) {
    const r = await cli(args);
    assert.equal(r.code, 4, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /^error: SWY_STORE_UNAVAILABLE: config store/m, args.join(' '));
    if (args[0] !== 'fleet') assert.match(r.stderr, new RegExp(`etcd at 127\\.0\\.0\\.1:${port}: .*connection refused`), args.join(' '));
    assert.doesNotMatch(`${r.stdout}${r.stderr}`, /\d+ UNAVAILABLE|No connection established|GRPC|invalid config/, args.join(' '));
  }
});

test('${env:} and ${file:} secrets: resolved at load, a missing one rejected with its path, a misplaced one refused', async () => {
  const tokenFile = join(dir, 'token');
  writeFileSync(tokenFile, 'file-secret-0123456789abcdef\n');
  const base = { listeners: [{ name: 'web', address: '127.0.0.1:1' }] };
  const good = await cli(['config', 'show', '--json', '-c', writeYaml({ ...base, admin: { address: '127.0.0.1:2', token: `\${file:${tokenFile}}` }, tlsSessionCache: { redis: 'redis://:${env:SWY_TEST_REDIS_PW}@127.0.0.1:6379' } })],
    { SWY_TEST_REDIS_PW: 'env-secret-pw' });
  assert.equal(good.code, 0, good.stderr);
  const shown = JSON.parse(good.stdout) as { admin: { token: string }; tlsSessionCache: { redis: string } };
  assert.equal(shown.admin.token, '***');
  assert.equal(shown.tlsSessionCache.redis, 'redis://:***@127.0.0.1:6379');
  assert.doesNotMatch(good.stdout + good.stderr, /file-secret|env-secret/);

  const missing = await cli(['validate', '-c', writeYaml({ ...base, admin: { address: '127.0.0.1:2', token: '${env:SWY_TEST_UNSET}' }, tlsSessionCache: { redis: '${file:/nonexistent/pw}' } })]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /^admin\.token: environment variable SWY_TEST_UNSET is not set$/m);
  assert.match(missing.stderr, /^tlsSessionCache\.redis: cannot read secret file \/nonexistent\/pw: ENOENT$/m);

  // A placeholder where the value would be shown (a route host) is refused; the value never appears.
  const misplaced = await cli(['validate', '-c', writeYaml({ ...base, routes: [{ service: 'a', match: { host: '${env:SWY_TEST_HOST}' } }], services: { a: { backends: [] } } })],
    { SWY_TEST_HOST: 'secret-host.test' });
  assert.equal(misplaced.code, 1);
  assert.match(misplaced.stderr, /^routes\[0\]\.match\.host: a \$\{env:…\} or \$\{file:…\} placeholder is allowed only in a secret field/m);
  assert.doesNotMatch(misplaced.stderr, /secret-host/);
});

/** GET with the given Authorization header; resolves with the status. */
async function get(url: string, authorization?: string): Promise<{ status: number; body: string }> {
  const res = await fetch(url, { headers: authorization === undefined ? {} : { authorization } });
  return { status: res.status, body: await res.text() };
}

test('secrets in a running node: the token from a file guards the admin API, is *** in /api/config and in no log; a changed secret file is applied by reload', { timeout: 90_000 }, async () => {
  const [backend] = await startBackends(1);
  const [port, adminPort] = [await freePort(), await freePort()];
  const tokenFile = join(dir, 'admin-token');
  const keyFile = join(dir, 'api-key');
  writeFileSync(tokenFile, 'admin-token-from-file-0001\n');
  writeFileSync(keyFile, 'api-key-one');
  const config = withTestEngine({
    workers: 1,
    listeners: [{ name: 'web', address: `127.0.0.1:${port}` }],
    admin: { address: `127.0.0.1:${adminPort}`, token: `\${file:${tokenFile}}`, auditLog: { path: join(dir, 'audit.log') } },
    // A secret-looking header's value is a secret field: the route matches only the key in the file.
    routes: [{ match: { headers: [{ name: 'x-api-key', exact: `\${file:${keyFile}}` }] }, service: 'app' }],
    services: { app: { backends: [{ address: backend.address }] } },
  });
  const configPath = writeYaml(config);
  const pidFile = join(dir, `node${seq}.pid`);
  let sy: Switchyard | undefined;
  try {
    sy = await launchSwitchyard(['start', '-c', configPath, '--pid-file', pidFile], port, configPath);
    const admin = `http://127.0.0.1:${adminPort}`;
    assert.equal((await get(`${admin}/api/config`)).status, 401);
    const cfg = await get(`${admin}/api/config`, 'Bearer admin-token-from-file-0001');
    assert.equal(cfg.status, 200);
    const shown = JSON.parse(cfg.body) as { admin: { token: string }; routes: { match: { headers: { exact: string }[] } }[] };
    assert.equal(shown.admin.token, '***');
    assert.equal(shown.routes[0].match.headers[0].exact, '***');
    assert.equal((await get(`http://127.0.0.1:${port}/`, undefined)).status, 404);
    assert.equal((await fetch(`http://127.0.0.1:${port}/`, { headers: { 'x-api-key': 'api-key-one' } })).status, 200);

    writeFileSync(keyFile, 'api-key-two\n');
    const r = await cli(['reload', '--pid-file', pidFile]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^reload applied: version 2 is in force$/m);
    assert.equal((await fetch(`http://127.0.0.1:${port}/`, { headers: { 'x-api-key': 'api-key-one' } })).status, 404);
    assert.equal((await fetch(`http://127.0.0.1:${port}/`, { headers: { 'x-api-key': 'api-key-two' } })).status, 200);
    assert.doesNotMatch(sy.output(), /admin-token-from-file|api-key-one|api-key-two/, 'no secret in the log');
  } finally {
    await sy?.stop();
    await backend.close();
  }
});

test('reload waits for the outcome: applied version, or the rejection as path: reason with exit 1 (pid file and admin API)', { timeout: 90_000 }, async () => {
  const [port, adminPort] = [await freePort(), await freePort()];
  const admin = { address: `127.0.0.1:${adminPort}`, auditLog: { path: join(dir, 'audit2.log') } };
  const config = (extra: Record<string, unknown>) => withTestEngine({ workers: 1, admin, listeners: [{ name: 'web', address: `127.0.0.1:${port}` }], ...extra });
  const configPath = writeYaml(config({}));
  const pidFile = join(dir, `node${seq}.pid`);
  let sy: Switchyard | undefined;
  try {
    sy = await launchSwitchyard(['start', '-c', configPath, '--pid-file', pidFile], port, configPath);
    const same = await cli(['reload', '--pid-file', pidFile]);
    assert.equal(same.code, 0, same.stderr);
    assert.match(same.stdout, /^config unchanged: version 1 is in force$/m);

    writeFileSync(configPath, stringify(config({ logLevel: 'warn' })));
    const applied = await cli(['reload', '--pid-file', pidFile]);
    assert.equal(applied.code, 0, applied.stderr);
    // The file watch may have applied it first: either way version 2 is in force.
    assert.match(applied.stdout, /^(reload applied|config unchanged): version 2 is in force$/m);

    writeFileSync(configPath, stringify(config({ logLevel: 'loud' })));
    for (const args of [['--pid-file', pidFile], ['--admin', admin.address]]) {
      const bad = await cli(['reload', ...args]);
      assert.equal(bad.code, 1, `${args[0]}: ${bad.stdout}${bad.stderr}`);
      assert.match(bad.stderr, /^reload rejected: version 2 stays in force$/m, args[0]);
      assert.match(bad.stderr, /^logLevel: /m, args[0]);
    }
  } finally {
    await sy?.stop();
  }
});
