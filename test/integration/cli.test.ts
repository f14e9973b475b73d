// engine-independent: this file sets its own engines or starts no data plane, so the suite runs it once (package.json "test").
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CLI } from './harness.js';

const dir = mkdtempSync(join(tmpdir(), 'swy-cli-'));
const QUICKSTART = fileURLToPath(new URL('../../../examples/quickstart.yaml', import.meta.url));

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, SWITCHYARD_LOG_PRETTY: '0' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('validate accepts the quickstart example', () => {
  const r = cli('validate', '-c', QUICKSTART);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /ok \(1 listeners, 1 routes, 1 services\)/);
});

test('validate prints every error as path: reason and exits 1', () => {
  const f = join(dir, 'bad.yaml');
  writeFileSync(f, [
    'listeners:',
    '  - name: web',
    '    address: nowhere',
    '    colour: blue',
    'services:',
    '  api:',
    '    balancer: { algorithm: fastest }',
    '    backends: [{ address: "127.0.0.1:1", weight: 0 }]',
    '    timeouts: { connect: 5 seconds }',
  ].join('\n'));
  const r = cli('validate', '-c', f);
  assert.equal(r.code, 1);
  const lines = r.stderr.trim().split('\n');
  assert.ok(lines.includes('listeners[0].colour: unknown key'), r.stderr);
  assert.ok(lines.some((l) => l.startsWith('listeners[0].address: expected listen address as host:port')), r.stderr);
  assert.ok(lines.some((l) => l.startsWith('services.api.balancer.algorithm: ')), r.stderr);
  assert.ok(lines.some((l) => l.startsWith('services.api.backends[0].weight: ')), r.stderr);
  assert.ok(lines.some((l) => l.startsWith('services.api.timeouts.connect: invalid duration "5 seconds"')), r.stderr);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
});

test('JSON configs are accepted by extension; a missing file is one clear line', () => {
  const f = join(dir, 'ok.json');
  writeFileSync(f, JSON.stringify({ listeners: [{ name: 'w', address: '127.0.0.1:1' }] }));
  assert.equal(cli('validate', '-c', f).code, 0);
  const missing = cli('start', '-c', join(dir, 'nope.yaml'));
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /^error: SWY_CONFIG_INVALID: .*nope\.yaml: invalid config/);
  assert.match(missing.stderr, /cannot read file: ENOENT/);
  assert.doesNotMatch(missing.stderr, /\n\s+at /);
});

test('schema prints a JSON Schema that rejects unknown keys', () => {
  const r = cli('schema');
  assert.equal(r.code, 0);
  const schema = JSON.parse(r.stdout) as { $schema: string; additionalProperties: boolean; properties: Record<string, unknown> };
  assert.match(schema.$schema, /json-schema\.org/);
  assert.equal(schema.additionalProperties, false);
  assert.ok('listeners' in schema.properties && 'services' in schema.properties && 'routes' in schema.properties);
});

test('start on a port already in use fails with one clear line', async () => {
  const { createServer } = await import('node:net');
  const blocker = createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
  const port = (blocker.address() as { port: number }).port;
  const f = join(dir, 'busy.yaml');
  writeFileSync(f, `workers: 1\nlisteners: [{ name: web, address: "127.0.0.1:${port}" }]\n`);
  const r = cli('start', '-c', f);
  blocker.close();
  assert.equal(r.code, 3, 'exit 3: cannot bind, not an invalid config');
  assert.match(r.stderr, /EADDRINUSE/);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
});

test('every file in examples/ validates', async () => {
  const { readdirSync } = await import('node:fs');
  const dirUrl = new URL('../../../examples/', import.meta.url);
  const files = readdirSync(dirUrl).filter((f) => f.endsWith('.yaml') || f.endsWith('.json'));
  assert.ok(files.length >= 4, files.join(','));
  for (const f of files) {
    // The examples name certificate files of a real host (/etc/switchyard/tls): check the document.
    const r = cli('validate', '--schema-only', '-c', fileURLToPath(new URL(f, dirUrl)));
    assert.equal(r.code, 0, `${f}: ${r.stderr}`);
  }
});

test('bad option values are one-line usage errors with exit 2, never a stack trace', () => {
  const f = join(dir, 'usage.yaml');
  writeFileSync(f, 'listeners: [{ name: w, address: "127.0.0.1:1" }]\n');
  const cases: [string[], RegExp][] = [
    [['start', '-c', f, '-w', '0'], /^error: option '-w, --workers <n>' argument '0' is invalid\. expected a positive integer, got "0"$/m],
    [['start', '-c', f, '-w', 'abc'], /^error: option '-w, --workers <n>' argument 'abc' is invalid\. expected a positive integer, got "abc"$/m],
    [['start', '-c', f, '-w', '1.5'], /argument '1\.5' is invalid/],
    [['reload', '--pid', '-5'], /^error: option '--pid <pid>' argument '-5' is invalid\. expected a positive integer, got "-5"$/m],
    [['reload', '--pid', 'abc'], /argument 'abc' is invalid/],
    [['config', 'history', '-n', 'none'], /^error: option '-n, --limit <n>' argument 'none' is invalid/m],
    [['reload'], /^error: SWY_CLI_USAGE: give --pid-file, --pid or --admin$/m],
    [['start', '--no-such-flag'], /^error: unknown option '--no-such-flag'$/m],
  ];
  for (const [args, re] of cases) {
    const r = cli(...args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, re, args.join(' '));
    assert.doesNotMatch(r.stderr, /\n\s+at /, `${args.join(' ')}: stack trace`);
  }
});

/** Runs the CLI with extra node flags; killed after `ms` (a hang fails the test instead of stalling it). */
function cliBounded(ms: number, nodeArgs: string[], ...args: string[]) {
  const r = spawnSync(process.execPath, [...nodeArgs, CLI, ...args], { encoding: 'utf8', timeout: ms, killSignal: 'SIGKILL', env: { ...process.env, SWITCHYARD_LOG_PRETTY: '0' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, timedOut: r.error !== undefined };
}

test('a Redis URL ioredis cannot parse (a / in the password) fails validate and start at once with path: reason', () => {
  const f = join(dir, 'redis-slash.yaml');
  writeFileSync(f, 'workers: 1\nlisteners: [{ name: w, address: "127.0.0.1:0" }]\ntlsSessionCache: { redis: "redis://:pa/ss@127.0.0.1:6379" }\n');
  const v = cli('validate', '-c', f);
  assert.equal(v.code, 1);
  assert.match(v.stderr, /^tlsSessionCache\.redis: ioredis cannot parse it \(Invalid URL\); percent-encode reserved characters in the password, e\.g\. \/ as %2F$/m);
  const s = cliBounded(20_000, [], 'start', '-c', f);
  assert.equal(s.timedOut, false, `start hung:\n${s.stdout}${s.stderr}`);
  assert.equal(s.code, 1);
  assert.match(s.stderr, /SWY_CONFIG_INVALID: .*invalid config\n\s+tlsSessionCache\.redis: ioredis cannot parse it/);
});

test('start fails with one clear line and exit 1 when a worker never comes up, and leaves no worker behind', async () => {
  // A preload the workers inherit (cluster forks with the primary's execArgv) that never lets worker-main run.
  const hang = join(dir, 'hang-worker.mjs');
  const pids = join(dir, 'hung-pids');
  writeFileSync(hang, `import cluster from 'node:cluster';\nimport { appendFileSync } from 'node:fs';\nif (cluster.isWorker) { appendFileSync(${JSON.stringify(pids)}, process.pid + '\\n'); setInterval(() => {}, 1000); await new Promise(() => {}); }\n`);
  const f = join(dir, 'hang.yaml');
  writeFileSync(f, 'workers: 2\nlisteners: [{ name: w, address: "127.0.0.1:0" }]\n');
  const r = cliBounded(30_000, ['--import', hang], 'start', '-c', f, '--start-timeout', '2');
  assert.equal(r.timedOut, false, `start hung:\n${r.stdout}${r.stderr}`);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /^error: SWY_START_TIMEOUT: 2 worker\(s\) \(#1, #2\) did not answer within 2000 ms; the node did not start/m);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
  const { readFileSync } = await import('node:fs');
  const workers = readFileSync(pids, 'utf8').trim().split('\n').map(Number);
  assert.equal(workers.length, 2);
  const alive = (pid: number) => { try { process.kill(pid, 0); return true; } catch { return false; } };
  for (let i = 0; i < 40 && workers.some(alive); i++) await new Promise((res) => setTimeout(res, 50));
  assert.deepEqual(workers.filter(alive), [], 'hung workers left running');
});

test('values that used to validate and then break are rejected by validate (and start) with path: reason', () => {
  const f = join(dir, 'breaks.yaml');
  writeFileSync(f, [
    'workers: 1',
    'shutdown: { drainTimeout: 1000h }',
    'listeners: [{ name: a, address: "127.0.0.1:18370" }]',
    'routes: [{ match: { path: { regex: "^/(a+)\\\\1$" } }, service: api }]',
    'services:',
    '  api:',
    '    backends: [{ address: "127.0.0.1:1" }]',
    '    healthCheck: { interval: 1000h }',
    '    timeouts: { request: 0 }',
  ].join('\n'));
  // Cross-field checks (addresses) run once every field is valid: a second file for those.
  const g = join(dir, 'same-address.yaml');
  writeFileSync(g, 'workers: 1\nlisteners:\n  - { name: a, address: "127.0.0.1:18370" }\n  - { name: b, address: "127.1:18370" }\n');
  for (const command of ['validate', 'start']) {
    const r = cli(command, '-c', f);
    assert.equal(r.code, 1, `${command}: ${r.stderr}`);
    for (const line of [
      'shutdown.drainTimeout: must be at most 1h, got 1000h',
      'services.api.healthCheck.interval: must be at most 1h, got 1000h',
      'services.api.timeouts.request: must be more than 0',
    ]) assert.ok(r.stderr.includes(line), `${command}: missing "${line}" in:\n${r.stderr}`);
    assert.match(r.stderr, /routes\[0\]\.match\.path\.regex: invalid regular expression: not supported by the linear-time regex engine/);
    const a = cli(command, '-c', g);
    assert.equal(a.code, 1, `${command}: ${a.stderr}`);
    assert.ok(a.stderr.includes('listeners[1].address: address 127.1:18370 conflicts with listeners[0] 127.0.0.1:18370 (the same address)'), a.stderr);
  }
});
