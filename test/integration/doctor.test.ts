// engine-independent: host settings and the listen backlog, no request path, so the suite runs it once (package.json "test").
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { CLI, freePort, startSwitchyard } from './harness.js';

/*
 * `switchyard doctor` on this host (issue 18, item 6): its table and JSON agree with /proc, a
 * config's listener backlogs are judged against net.core.somaxconn, --strict and usage errors
 * exit as documented; and a listener's `backlog` is the accept queue the kernel really gives it.
 */

function doctor(args: string[]): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, 'doctor', ...args], (e, out, err) => resolve({ code: e === null ? 0 : (e as { code: number }).code, out, err }));
  });
}
const sysctl = (name: string) => readFileSync(`/proc/sys/${name.replaceAll('.', '/')}`, 'utf8').trim().replace(/\s+/g, ' ');

interface Check { setting: string; current: string; recommended: string; status: string; why: string }

test('doctor prints every setting with its current value (as in /proc), the recommendation and a verdict', async () => {
  const table = await doctor([]);
  assert.equal(table.code, 0, table.err);
  const lines = table.out.split('\n\n')[0].split('\n');
  assert.deepEqual(lines[0].split(/\s{2,}/), ['setting', 'current', 'recommended', 'status']);
  const rows = lines.slice(1).map((l) => l.split(/\s{2,}/));
  for (const r of rows) assert.ok(r.length === 4 && ['ok', 'change', 'unknown'].includes(r[3]), `row: ${JSON.stringify(r)}`);
  const byName = new Map(rows.map((r) => [r[0], r]));
  for (const name of ['net.ipv4.tcp_syncookies', 'net.ipv4.tcp_max_syn_backlog', 'net.core.somaxconn', 'net.ipv4.ip_local_port_range']) {
    assert.equal(byName.get(name)?.[1], sysctl(name), name);
  }
  assert.equal(byName.get('net.ipv4.tcp_syncookies')![3], sysctl('net.ipv4.tcp_syncookies') === '0' ? 'change' : 'ok');
  const files = readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith('Max open files'))!.slice(14).trim().split(/\s+/)[0];
  assert.equal(byName.get('ulimit -n')?.[1], files, 'the soft limit, which the child inherits from this process');
  const json = await doctor(['--json']);
  const checks = JSON.parse(json.out) as Check[];
  assert.deepEqual(checks.map((c) => [c.setting, c.current, c.status]), rows.map((r) => [r[0], r[1], r[3]]), 'JSON and table agree');
  const strict = await doctor(['--strict']);
  assert.equal(strict.code, checks.some((c) => c.status === 'change') ? 1 : 0);
  const usage = await doctor(['--no-such-flag']);
  assert.equal(usage.code, 2, 'a usage error exits 2');
});

test('with a config, each listener\'s backlog is judged against somaxconn', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'swy-doctor-'));
  const path = join(dir, 'c.yaml');
  writeFileSync(path, stringify({ listeners: [{ name: 'big', address: '127.0.0.1:1', backlog: 65_535 }, { name: 'small', address: '127.0.0.1:2', backlog: 16 }] }));
  const checks = JSON.parse((await doctor(['--json', '-c', path])).out) as Check[];
  const somaxconn = Number(sysctl('net.core.somaxconn'));
  const big = checks.find((c) => c.setting === 'listener big backlog')!;
  assert.equal(big.status, somaxconn < 65_535 ? 'change' : 'ok');
  if (somaxconn < 65_535) assert.equal(big.current, `${somaxconn} (asks 65535, cut by somaxconn)`);
  assert.deepEqual([checks.find((c) => c.setting === 'listener small backlog')!.current, checks.find((c) => c.setting === 'listener small backlog')!.status], ['16', 'ok']);
});

test('a listener\'s backlog is the accept queue the kernel gives it (ss: Send-Q of the listening socket)', async (t) => {
  try { execFileSync('ss', ['-V'], { stdio: 'ignore' }); } catch { t.skip('ss (iproute2) is not installed'); return; }
  const port = await freePort();
  const sy = await startSwitchyard({
    workers: 1, listeners: [{ name: 'web', address: `127.0.0.1:${port}`, backlog: 123 }],
    routes: [{ match: { path: { prefix: '/' } }, service: 'app' }], services: { app: { backends: [] } },
  });
  try {
    const out = execFileSync('ss', ['-Hltn', `sport = :${port}`], { encoding: 'utf8' });
    const sendQ = out.trim().split(/\s+/)[2];
    assert.equal(sendQ, '123', out);
  } finally { await sy.stop(); }
});
