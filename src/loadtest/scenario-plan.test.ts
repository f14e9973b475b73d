import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planRuns, type PlanOptions } from './scenario-plan.js';
import { SCENARIOS } from './result.js';

const base: PlanOptions = { rate: 100, durationMs: 60_000, spikeFactor: 3, spikeDurationMs: 300_000, soakDurationMs: 86_400_000, recoveryTimeoutMs: 300_000 };
const shape = (runs: ReturnType<typeof planRuns>) => runs.map((r) => ({ label: r.spec.label, scenarios: r.scenarios, phases: r.spec.phases.map((p) => `${p.name}@${p.rate}/${p.durationMs}${p.open ? '?' : ''}`), commands: r.spec.commands.map((c) => `${c.label}@${c.atMs}`) }));

test('all: the design\'s plan — baseline, spike 3x for 5 minutes, a 24-hour soak, failover, then the recovery watch', () => {
  const runs = planRuns(SCENARIOS, { ...base, killCmd: 'kill it', restartCmd: 'start it' });
  assert.deepEqual(shape(runs), [
    { label: 'baseline', scenarios: ['baseline'], phases: ['baseline@100/60000'], commands: [] },
    { label: 'spike', scenarios: ['spike'], phases: ['before@100/60000', 'spike@300/300000', 'after@100/60000'], commands: [] },
    { label: 'soak', scenarios: ['soak'], phases: ['soak@100/86400000'], commands: [] },
    { label: 'failover', scenarios: ['failover', 'recovery'], phases: ['before@100/20000', 'down@100/20000', 'after@100/20000', 'recovery@100/300000?'], commands: ['kill@20000', 'restart@40000'] },
  ]);
  assert.deepEqual(runs[3].disturbance, { kind: 'kill', startMs: 20_000, endMs: 40_000, endLabel: 'restart' });
});

test('recovery follows the spike when there is no failover, and alone brings its own disturbance', () => {
  const withSpike = planRuns(['spike', 'recovery'], base);
  assert.deepEqual(withSpike.map((r) => r.scenarios), [['spike', 'recovery']]);
  assert.equal(withSpike[0].spec.phases.at(-1)!.name, 'recovery');
  assert.deepEqual(withSpike[0].disturbance, { kind: 'spike', startMs: 60_000, endMs: 360_000, endLabel: 'spike end' });
  assert.deepEqual(shape(planRuns(['recovery'], base))[0].phases, ['before@100/60000', 'spike@300/300000', 'recovery@100/300000?']);
  assert.deepEqual(shape(planRuns(['recovery'], { ...base, killCmd: 'k', killAtMs: 5000 }))[0], { label: 'recovery', scenarios: ['recovery'], phases: ['before@100/5000', 'recovery@100/300000?'], commands: ['kill@5000'] });
});

test('impossible plans fail before anything runs, in one line', () => {
  assert.throws(() => planRuns(['failover'], base), { code: 'SWY_CLI_USAGE', message: /failover needs --kill-cmd/ });
  assert.throws(() => planRuns(['failover'], { ...base, killCmd: 'k', killAtMs: 70_000 }), { code: 'SWY_CLI_USAGE', message: /--kill-at must fall inside --duration/ });
  assert.throws(() => planRuns(['failover'], { ...base, killCmd: 'k', restartAtMs: 30_000 }), { code: 'SWY_CLI_USAGE', message: /--restart-at needs --restart-cmd/ });
  assert.throws(() => planRuns(['failover'], { ...base, killCmd: 'k', killAtMs: 30_000, restartCmd: 'r', restartAtMs: 10_000 }), { code: 'SWY_CLI_USAGE', message: /--restart-at must fall after --kill-at/ });
});

test('a warm-up phase opens every run and moves the kill and the disturbance with it', () => {
  const runs = planRuns(['baseline', 'failover'], { ...base, killCmd: 'k', warmupMs: 5000 });
  assert.deepEqual(shape(runs).map((r) => [r.phases, r.commands]), [
    [['warmup@100/5000', 'baseline@100/60000'], []],
    [['warmup@100/5000', 'before@100/20000', 'after@100/40000'], ['kill@25000']],
  ]);
  assert.deepEqual(runs[1].disturbance, { kind: 'kill', startMs: 25_000, endMs: 25_000, endLabel: 'kill' });
});
