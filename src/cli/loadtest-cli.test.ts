import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Command } from 'commander';
import { loadtestOptions, registerLoadtestCommands } from './loadtest-cli.js';

/** The flags as commander hands them over, after parsing `args`. */
function flags(args: string[]): Parameters<typeof loadtestOptions>[0] {
  const program = new Command('switchyard').exitOverride();
  let got: unknown;
  registerLoadtestCommands(program, async () => undefined);
  program.commands.find((c) => c.name() === 'loadtest')!.action((f: unknown) => { got = f; });
  program.parse(['node', 'switchyard', 'loadtest', ...args]);
  return got as Parameters<typeof loadtestOptions>[0];
}

test('defaults: the design\'s plan (3x spike for 5 minutes, 24-hour soak, 10% recovery tolerance), 100/s for 60 s', () => {
  const o = loadtestOptions(flags(['--target', 'http://127.0.0.1:8080/']), ['switchyard', 'loadtest']);
  assert.deepEqual([o.rate, o.durationMs, o.spikeFactor, o.spikeDurationMs, o.soakDurationMs, o.recoveryTimeoutMs, o.warmupMs], [100, 60_000, 3, 300_000, 86_400_000, 300_000, 0]);
  assert.deepEqual(o.criteria, { tolerance: 0.1, latencyFloorMs: 1, holdS: 5 });
  assert.deepEqual(o.slo, { p99Ms: 100, errorRate: 0.01 });
  assert.deepEqual([o.target.method, o.target.connections, o.target.timeoutMs, o.scenarios], ['GET', 32, 10_000, ['baseline']]);
  assert.match(o.out, /^loadtest-results\/\d{4}-/);
});

test('all expands in the design\'s order; values with units; the admin token stays out of the recorded command', () => {
  const argv = ['--target', 'http://127.0.0.1:8080/x?y=1', '--scenario', 'all', '--rate', '250', '--spike-duration', '90s', '--kill-cmd', 'kill 1',
    '--header', 'X-Test: a:b', '--admin', 'http://127.0.0.1:9901', '--admin-token', 'secret-token-123456', '--latency-floor', '0', '--slo-error-rate', '0.5%'];
  const o = loadtestOptions(flags(argv), ['switchyard', 'loadtest', ...argv]);
  assert.deepEqual(o.scenarios, ['baseline', 'spike', 'soak', 'failover', 'recovery']);
  assert.deepEqual([o.rate, o.spikeDurationMs, o.criteria.latencyFloorMs, o.slo.errorRate], [250, 90_000, 0, 0.005]);
  assert.deepEqual(o.target.headers, { 'x-test': 'a:b' });
  assert.equal(o.target.url.search, '?y=1');
  assert.equal(o.admin!.token, 'secret-token-123456');
  assert.doesNotMatch(o.command, /secret/);
  assert.match(o.command, /--kill-cmd 'kill 1'/);
});

test('bad values are usage errors naming the flag', () => {
  const bad = (args: string[], re: RegExp) => assert.throws(() => loadtestOptions(flags(['--target', 'http://h/', ...args]), []), { code: 'SWY_CLI_USAGE', message: re });
  bad(['--duration', '10'], /--duration: "10" is not a duration/);
  bad(['--scenario', 'chaos'], /--scenario: unknown "chaos"/);
  bad(['--connections', '1.5'], /--connections: expected a positive integer/);
  bad(['--recovery-tolerance', '150%'], /--recovery-tolerance: expected a percentage/);
  bad(['--header', 'nocolon'], /--header: expected "name: value"/);
  assert.throws(() => loadtestOptions(flags(['--target', 'ftp://h/']), []), { code: 'SWY_CLI_USAGE', message: /--target: only http:\/\/ and https:\/\// });
});
