import { test } from 'node:test';
import assert from 'node:assert/strict';
import { measureCapacity, type PhaseResult, type RunResult } from './result.js';

const SLO = { p99Ms: 100, errorRate: 0.01 };

function phase(name: string, rate: number, throughput: number, p99: number, errorRate = 0): PhaseResult {
  return {
    name, rate, startS: 0, endS: 10, durationS: 10, scheduled: rate * 10, ok: throughput * 10, failed: 0, errorRate, errors: {}, throughput, bandwidthBps: 0,
    latencyMs: { count: throughput * 10, p50: p99 / 2, p90: p99, p99, p999: p99, max: p99, mean: p99 / 2 },
  };
}

function run(label: string, phases: PhaseResult[], commands = false): RunResult {
  return {
    label, startedAt: 'a', durationS: 30, phases, series: [], admin: [], aborted: false,
    events: commands ? [{ label: 'kill', cmd: 'kill', plannedAtS: 1, startedAtS: 1, exitedAtS: 1, exitCode: 0, signal: null, output: '' }] : [],
    generator: { sent: 0, stragglers: 0, maxLagMs: 0, behindSeconds: 0, behindThresholdMs: 25, maxInFlight: 1, capSeconds: 0, queuedSeconds: 0 },
  };
}

test('a run where every phase met the SLO and kept up is not saturated: its figure is only the offered rate', () => {
  const c = measureCapacity([run('spike', [phase('before', 100, 100, 3), phase('spike', 300, 299, 5), phase('after', 100, 100, 3)])], SLO);
  assert.equal(c.qps, 299);
  assert.equal(c.saturated, false);
  assert.match(c.saturation, /every phase met the SLO and delivered its offered rate \(highest offered: 300\/s\)/);
});

test('a phase offered more that broke the p99 or the error rate, or fell short of its rate, saturates the run', () => {
  const p99 = measureCapacity([run('spike', [phase('before', 1000, 1000, 20), phase('spike', 3000, 2990, 450)])], SLO);
  assert.deepEqual([p99.qps, p99.saturated], [1000, true]);
  assert.match(p99.saturation, /spike\/spike offered 3000\/s and got 2990\/s at p99 450 ms, 0% errors: past the node's limit/);
  const errors = measureCapacity([run('r', [phase('a', 1000, 1000, 20), phase('b', 2000, 1990, 20, 0.05)])], SLO);
  assert.equal(errors.saturated, true);
  const short = measureCapacity([run('r', [phase('a', 1000, 1000, 20), phase('b', 2000, 1500, 60)])], SLO);
  assert.equal(short.saturated, true, 'delivered 75% of the offered rate within the SLO: the node could not keep up');
  assert.equal(short.qps, 1500);
});

test('a phase at a lower rate that broke, or a failover run with commands, is no evidence of saturation', () => {
  const lower = measureCapacity([run('r', [phase('a', 500, 500, 300), phase('b', 1000, 1000, 20)])], SLO);
  assert.equal(lower.saturated, false);
  const failover = measureCapacity([run('b', [phase('baseline', 1000, 1000, 20)]), run('failover', [phase('failover', 1000, 800, 900, 0.2)], true)], SLO);
  assert.equal(failover.saturated, false);
});
