import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ScalingEvaluator, DEFAULT_SCALING_POLICY, aggregateLoad,
  type Decision, type NodeLoad, type ScalingPolicy,
} from './evaluator.js';

const SEC = 1000;
const MIN = 60 * SEC;
const HOUR = 60 * MIN;
const STEP = 10 * SEC;

/** A node at the design's "normal usage" (CPU 50%, memory 60%, connections 60%), p99 50 ms. */
function node(over: Partial<NodeLoad> = {}, id = 'n1'): NodeLoad {
  return { id, cpuPercent: 50, memoryPercent: 60, connections: 600, maxConnections: 1000, p99Ms: 50, ...over };
}

/** `n` identical nodes. */
function fleet(over: Partial<NodeLoad> = {}, n = 3): NodeLoad[] {
  return Array.from({ length: n }, (_, i) => node(over, `n${i + 1}`));
}

/** Feeds one sample every `step` ms for t in [from, to); returns the decisions. */
function run(ev: ScalingEvaluator, from: number, to: number, load: (t: number) => NodeLoad[], step = STEP): Decision[] {
  const out: Decision[] = [];
  for (let t = from; t < to; t += step) {
    const d = ev.observe({ now: t, nodes: load(t) });
    if (d) out.push(d);
  }
  return out;
}

/** An evaluator fed 10 min of p99 50 ms: its baseline is learned and nothing was decided. */
function warmed(policy: ScalingPolicy = DEFAULT_SCALING_POLICY): ScalingEvaluator {
  const ev = new ScalingEvaluator(policy);
  assert.deepEqual(run(ev, 0, 10 * MIN, () => fleet()), []);
  near(ev.baselineP99Ms, 50);
  return ev;
}

/** Equal up to float rounding (the baseline is a moving average). */
function near(actual: number | undefined, expected: number): void {
  assert.ok(actual !== undefined && Math.abs(actual - expected) < 1e-9, `${actual} != ${expected}`);
}

/** Deterministic PRNG (mulberry32), so the 24 h test's jitter is the same on every run. */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let x = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

test('evaluator: defaults are the design table', () => {
  const p = DEFAULT_SCALING_POLICY;
  assert.deepEqual(p.cpu, { scaleOutAbove: 70, scaleOutForMs: 5 * MIN, scaleInBelow: 30, scaleInForMs: 15 * MIN });
  assert.deepEqual(p.memory, { scaleOutAbove: 80, scaleOutForMs: 5 * MIN, scaleInBelow: 40, scaleInForMs: 15 * MIN });
  assert.deepEqual(p.connections, { scaleOutAbove: 80, scaleOutForMs: 5 * MIN, scaleInBelow: 30, scaleInForMs: 15 * MIN });
  assert.equal(p.latency?.p99Factor, 2);
  assert.equal(p.cooldownMs, 10 * MIN);
  assert.equal(p.latencyCooldownMs, 5 * MIN);
});

test('evaluator: CPU > 70% scales out after 5 min, not one sample before', () => {
  const ev = new ScalingEvaluator();
  const start = 2 * HOUR;
  assert.deepEqual(run(ev, start, start + 5 * MIN, () => fleet({ cpuPercent: 71 })), []);
  const d = ev.observe({ now: start + 5 * MIN, nodes: fleet({ cpuPercent: 71 }) });
  assert.ok(d);
  assert.equal(d.at, start + 5 * MIN);
  assert.equal(d.action, 'scale-out');
  assert.equal(d.trigger, 'cpu');
  assert.equal(d.value, 71);
  assert.equal(d.threshold, 70);
  assert.equal(d.nodes, 3);
  assert.equal(d.reason, 'mean CPU 71% > 70% for 5m (3 nodes)');
});

test('evaluator: CPU at exactly 70% never scales out (the threshold is strict)', () => {
  const ev = new ScalingEvaluator();
  assert.deepEqual(run(ev, 0, 2 * HOUR, () => fleet({ cpuPercent: 70 })), []);
});

test('evaluator: one CPU sample under 70% restarts the 5-min window', () => {
  const ev = new ScalingEvaluator();
  const hot = () => fleet({ cpuPercent: 90 });
  assert.deepEqual(run(ev, 0, 4 * MIN + 50 * SEC, hot), []);
  assert.equal(ev.observe({ now: 4 * MIN + 50 * SEC, nodes: fleet({ cpuPercent: 69 }) }), undefined);
  // The window restarts at the next hot sample (5:00), so it completes at 10:00.
  assert.deepEqual(run(ev, 5 * MIN, 10 * MIN, hot), []);
  assert.equal(ev.observe({ now: 10 * MIN, nodes: hot() })?.trigger, 'cpu');
});

test('evaluator: memory > 80% scales out after 5 min; 79.9% never does', () => {
  const over = new ScalingEvaluator();
  const d = run(over, 0, 6 * MIN, () => fleet({ memoryPercent: 85 }));
  assert.deepEqual(d.map((x) => [x.at, x.trigger, x.threshold]), [[5 * MIN, 'memory', 80]]);

  const under = new ScalingEvaluator();
  assert.deepEqual(run(under, 0, 3 * HOUR, () => fleet({ memoryPercent: 79.9 })), []);
});

test('evaluator: a memory dip restarts its window', () => {
  const ev = new ScalingEvaluator();
  const d = run(ev, 0, 12 * MIN, (t) => fleet({ memoryPercent: t === 3 * MIN ? 75 : 85 }));
  assert.deepEqual(d.map((x) => x.at), [3 * MIN + STEP + 5 * MIN]);
});

test('evaluator: connections are total / total limit; > 80% scales out after 5 min', () => {
  const ev = new ScalingEvaluator();
  // 900 + 700 of 1000 + 1000 = 80% exactly (no), then 900 + 800 = 85%.
  const at80 = () => [node({ connections: 900 }, 'a'), node({ connections: 700 }, 'b')];
  assert.deepEqual(run(ev, 0, HOUR, at80), []);
  const at85 = () => [node({ connections: 900 }, 'a'), node({ connections: 800 }, 'b')];
  const d = run(ev, HOUR, HOUR + 6 * MIN, at85);
  assert.equal(d.length, 1);
  assert.equal(d[0].at, HOUR + 5 * MIN);
  assert.equal(d[0].trigger, 'connections');
  assert.equal(d[0].value, 85);
  assert.match(d[0].reason, /connections 85% > 80% of max for 5m/);
});

test('evaluator: a connections dip restarts its window', () => {
  const ev = new ScalingEvaluator();
  const d = run(ev, 0, 12 * MIN, (t) => fleet({ connections: t === 4 * MIN ? 790 : 850 }));
  assert.deepEqual(d.map((x) => x.at), [4 * MIN + STEP + 5 * MIN]);
});

test('evaluator: scale-in needs every resource low for its 15-min window', () => {
  const ev = new ScalingEvaluator();
  const idle = () => fleet({ cpuPercent: 10, memoryPercent: 20, connections: 50 });
  assert.deepEqual(run(ev, 0, 15 * MIN, idle), []);
  const d = ev.observe({ now: 15 * MIN, nodes: idle() });
  assert.ok(d);
  assert.equal(d.action, 'scale-in');
  assert.equal(d.nodes, 3);
  assert.equal(d.reason,
    'every resource below its scale-in threshold: mean CPU 10% < 30% for 15m; mean memory 20% < 40% for 15m; connections 5% < 30% of max for 15m (3 nodes)');
});

test('evaluator: scale-in is charged to the resource whose window completed last', () => {
  const ev = new ScalingEvaluator();
  // Memory becomes low 2 min after CPU and connections.
  const d = run(ev, 0, 30 * MIN, (t) => fleet({ cpuPercent: 10, memoryPercent: t < 2 * MIN ? 50 : 20, connections: 50 }));
  assert.deepEqual(d.map((x) => [x.at, x.action, x.trigger, x.value, x.threshold]), [[17 * MIN, 'scale-in', 'memory', 20, 40]]);
});

test('evaluator: one low resource alone never scales in', () => {
  const ev = new ScalingEvaluator();
  // CPU idle, memory and connections mid-range (between their thresholds).
  assert.deepEqual(run(ev, 0, 6 * HOUR, () => fleet({ cpuPercent: 5 })), []);
  assert.equal(ev.state().triggers.cpu?.scaleIn?.heldMs, 6 * HOUR - STEP);
});

test('evaluator: one CPU sample over 30% restarts the scale-in window', () => {
  const ev = new ScalingEvaluator();
  const d = run(ev, 0, 40 * MIN, (t) => fleet({ cpuPercent: t === 14 * MIN ? 35 : 10, memoryPercent: 20, connections: 50 }));
  assert.deepEqual(d.map((x) => [x.at, x.action]), [[14 * MIN + STEP + 15 * MIN, 'scale-in']]);
});

test('evaluator: a latency breach blocks scale-in', () => {
  const ev = warmed();
  const idleSlow = () => fleet({ cpuPercent: 10, memoryPercent: 20, connections: 50, p99Ms: 150 });
  const d = run(ev, 10 * MIN, 10 * MIN + 20 * MIN, idleSlow);
  // The latency trigger fires after 5 min; scale-in never does, although its windows completed.
  assert.deepEqual(d.map((x) => [x.action, x.trigger]), [['scale-out', 'latency'], ['scale-out', 'latency'], ['scale-out', 'latency']]);
});

test('evaluator: a resource with no data blocks scale-in; a trigger that is off does not', () => {
  const idle = () => fleet({ cpuPercent: 10, memoryPercent: NaN, connections: 50 });
  assert.deepEqual(run(new ScalingEvaluator(), 0, 2 * HOUR, idle), []);
  const noMemory = new ScalingEvaluator({ ...DEFAULT_SCALING_POLICY, memory: null });
  assert.deepEqual(run(noMemory, 0, 16 * MIN, idle).map((x) => [x.at, x.action]), [[15 * MIN, 'scale-in']]);
});

test('evaluator: a trigger that is off never scales out', () => {
  const ev = new ScalingEvaluator({ ...DEFAULT_SCALING_POLICY, cpu: null });
  assert.deepEqual(run(ev, 0, 2 * HOUR, () => fleet({ cpuPercent: 99 })), []);
  assert.equal(ev.state().triggers.cpu, undefined);
});

test('evaluator: 10-min cooldown after a scale-out; a second needs a fresh window after it', () => {
  const ev = new ScalingEvaluator();
  const d = run(ev, 0, 36 * MIN, () => fleet({ cpuPercent: 90 }));
  assert.deepEqual(d.map((x) => x.at), [5 * MIN, 15 * MIN, 25 * MIN, 35 * MIN]);
});

test('evaluator: the cooldown blocks the other direction too, and allows it once passed', () => {
  // A 1-min scale-in window, so only the cooldown can hold the scale-in back.
  const quickIn = { scaleInForMs: MIN };
  const ev = new ScalingEvaluator({
    ...DEFAULT_SCALING_POLICY,
    cpu: { ...DEFAULT_SCALING_POLICY.cpu!, ...quickIn },
    memory: { ...DEFAULT_SCALING_POLICY.memory!, ...quickIn },
    connections: { ...DEFAULT_SCALING_POLICY.connections!, ...quickIn },
  });
  const d = run(ev, 0, 30 * MIN, (t) => (t < 5 * MIN + STEP
    ? fleet({ cpuPercent: 90 })
    : fleet({ cpuPercent: 10, memoryPercent: 20, connections: 50 })));
  assert.deepEqual(d.map((x) => [x.at, x.action]), [[5 * MIN, 'scale-out'], [15 * MIN, 'scale-in'], [25 * MIN, 'scale-in']]);
});

test('evaluator: latency baseline is learned, then a 2x breach scales out after 5 min', () => {
  const ev = new ScalingEvaluator();
  assert.deepEqual(run(ev, 0, 9 * MIN + 50 * SEC, () => fleet({ p99Ms: 50 })), []);
  assert.equal(ev.baselineP99Ms, undefined, 'still warming up');
  assert.equal(ev.state().triggers.latency?.scaleOut.threshold, undefined);
  run(ev, 9 * MIN + 50 * SEC, 10 * MIN, () => fleet({ p99Ms: 50 }));
  near(ev.baselineP99Ms, 50);
  near(ev.state().triggers.latency?.scaleOut.threshold, 100);

  const slow = () => fleet({ p99Ms: 120 });
  assert.deepEqual(run(ev, 10 * MIN, 15 * MIN, slow), []);
  const d = ev.observe({ now: 15 * MIN, nodes: slow() });
  assert.ok(d);
  assert.deepEqual([d.action, d.trigger, d.value], ['scale-out', 'latency', 120]);
  near(d.threshold, 100);
  assert.equal(d.reason, 'fleet p99 120ms > 2x baseline 50ms (100ms) for 5m (3 nodes)');
  // The breach was not learned: the baseline is still 50 ms.
  near(ev.baselineP99Ms, 50);
});

test('evaluator: 1.9x the baseline never scales out, and is learned', () => {
  const ev = warmed();
  assert.deepEqual(run(ev, 10 * MIN, 3 * HOUR, () => fleet({ p99Ms: 95 })), []);
  assert.ok((ev.baselineP99Ms as number) > 80, `baseline follows: ${ev.baselineP99Ms}`);
});

test('evaluator: a latency dip restarts its window', () => {
  const ev = warmed();
  const d = run(ev, 10 * MIN, 30 * MIN, (t) => fleet({ p99Ms: t === 13 * MIN ? 90 : 150 }));
  assert.equal(d[0].at, 13 * MIN + STEP + 5 * MIN);
});

test('evaluator: a latency-triggered action cools down 5 min, a CPU one 10 min', () => {
  const ev = warmed();
  const lat = run(ev, 10 * MIN, 31 * MIN, () => fleet({ p99Ms: 150 }));
  assert.deepEqual(lat.map((x) => x.at - 10 * MIN), [5 * MIN, 10 * MIN, 15 * MIN, 20 * MIN]);
  assert.ok(lat.every((x) => x.trigger === 'latency'));
  near(ev.baselineP99Ms, 50);

  // CPU and latency together: charged to CPU, so the long cooldown applies.
  const both = warmed();
  const d = run(both, 10 * MIN, 31 * MIN, () => fleet({ p99Ms: 150, cpuPercent: 90 }));
  assert.deepEqual(d.map((x) => [x.at - 10 * MIN, x.trigger]), [[5 * MIN, 'cpu'], [15 * MIN, 'cpu']]);
  assert.match(d[0].reason, /^mean CPU 90% > 70% for 5m; fleet p99 150ms > 2x baseline 50ms \(100ms\) for 5m/);
});

test('evaluator: a gap of more than 2 sample intervals restarts the windows', () => {
  const hot = () => fleet({ cpuPercent: 90 });
  const ev = new ScalingEvaluator();
  run(ev, 0, 4 * MIN + 10 * SEC, hot); // last sample at 4:00
  // Next sample 30 s later: a gap, the window restarts at 4:30 and completes at 9:30.
  const d = run(ev, 4 * MIN + 30 * SEC, 12 * MIN, hot);
  assert.deepEqual(d.map((x) => x.at), [9 * MIN + 30 * SEC]);

  const ok = new ScalingEvaluator();
  run(ok, 0, 4 * MIN + 10 * SEC, hot);
  // 20 s later is exactly 2 intervals: not a gap.
  assert.deepEqual(run(ok, 4 * MIN + 20 * SEC, 6 * MIN, hot).map((x) => x.at), [5 * MIN]);
});

test('evaluator: stale samples are ignored; an empty fleet decides nothing and restarts windows', () => {
  const ev = new ScalingEvaluator();
  const hot = () => fleet({ cpuPercent: 90 });
  run(ev, 0, 4 * MIN, hot);
  assert.equal(ev.observe({ now: 3 * MIN, nodes: hot() }), undefined);
  assert.equal(ev.observe({ now: NaN, nodes: hot() }), undefined);
  assert.equal(ev.state().at, 4 * MIN - STEP);
  assert.equal(ev.observe({ now: 4 * MIN, nodes: [] }), undefined);
  assert.equal(ev.state().triggers.cpu?.scaleOut.heldMs, null);
  assert.deepEqual(run(ev, 4 * MIN + STEP, 10 * MIN, hot).map((x) => x.at), [9 * MIN + STEP]);
});

test('evaluator: no decision over 24 h of even mid-range load with jitter (8640 samples)', () => {
  const ev = new ScalingEvaluator();
  const rnd = prng(42);
  const jitter = (c: number, spread: number) => c + (rnd() * 2 - 1) * spread;
  let samples = 0;
  const d = run(ev, 0, 24 * HOUR, () => {
    samples++;
    return fleet({
      cpuPercent: jitter(50, 15), memoryPercent: jitter(60, 15),
      connections: Math.round(jitter(600, 150)), p99Ms: jitter(50, 20),
    });
  });
  assert.equal(samples, 8640);
  assert.deepEqual(d, []);
  assert.ok(Math.abs((ev.baselineP99Ms as number) - 50) < 5, `baseline ${ev.baselineP99Ms}`);
});

test('evaluator: no decision over 24 h of a daily curve between 35% and 65%', () => {
  const ev = new ScalingEvaluator();
  const d = run(ev, 0, 24 * HOUR, (t) => {
    const s = Math.sin((2 * Math.PI * t) / (24 * HOUR));
    return fleet({ cpuPercent: 50 + 15 * s, memoryPercent: 60 + 10 * s, connections: 500 + 150 * s, p99Ms: 50 + 20 * s });
  });
  assert.deepEqual(d, []);
});

test('evaluator: one hot node among three does not scale out; two do', () => {
  const oneHot = new ScalingEvaluator();
  const hot1 = () => [node({ cpuPercent: 95, connections: 950, p99Ms: 500 }, 'a'), node({ cpuPercent: 40 }, 'b'), node({ cpuPercent: 40 }, 'c')];
  assert.deepEqual(run(oneHot, 0, 10 * MIN, () => fleet()), []);
  assert.deepEqual(run(oneHot, 10 * MIN, 3 * HOUR, hot1), []);
  const s = oneHot.state();
  assert.ok(Math.abs((s.triggers.cpu?.value as number) - 58.33) < 0.01);
  assert.equal(s.triggers.latency?.value, 50, 'median p99: the slow node carries under half the connections');

  const twoHot = new ScalingEvaluator();
  const hot2 = () => [node({ cpuPercent: 95 }, 'a'), node({ cpuPercent: 95 }, 'b'), node({ cpuPercent: 40 }, 'c')];
  const d = run(twoHot, 0, 6 * MIN, hot2);
  assert.deepEqual(d.map((x) => [x.at, x.trigger, Math.round(x.value)]), [[5 * MIN, 'cpu', 77]]);
});

test('evaluator: latency breaches when nodes with most of the connections are slow', () => {
  const ev = warmed();
  // One slow node with 2000 of 3200 connections: the weighted median is its p99.
  const d = run(ev, 10 * MIN, 16 * MIN, () => [
    node({ p99Ms: 300, connections: 2000, maxConnections: 10_000 }, 'a'),
    node({ p99Ms: 50 }, 'b'), node({ p99Ms: 50 }, 'c'),
  ]);
  assert.deepEqual(d.map((x) => [x.at, x.trigger, x.value]), [[15 * MIN, 'latency', 300]]);
});

test('evaluator: aggregateLoad means, totals and the weighted median', () => {
  assert.deepEqual(aggregateLoad([]), { cpu: undefined, memory: undefined, connections: undefined, latency: undefined });
  const a = aggregateLoad([
    node({ cpuPercent: 20, memoryPercent: NaN, connections: 100, maxConnections: 400, p99Ms: 10 }, 'a'),
    node({ cpuPercent: 40, memoryPercent: 50, connections: 300, maxConnections: 400, p99Ms: 30 }, 'b'),
    node({ cpuPercent: NaN, memoryPercent: 70, connections: 999, maxConnections: 0, p99Ms: undefined }, 'c'),
  ]);
  // c has no limit: its connections are not counted. b carries 3/4 of the weighted connections.
  assert.deepEqual(a, { cpu: 30, memory: 60, connections: 50, latency: 30 });
  // No connections anywhere: equal weights, lower median.
  assert.equal(aggregateLoad([node({ p99Ms: 10, connections: 0 }), node({ p99Ms: 20, connections: 0 })]).latency, 10);
});

test('evaluator: state() reports values, thresholds, held time, last decision and cooldown', () => {
  const ev = new ScalingEvaluator();
  assert.equal(ev.state().at, undefined);
  run(ev, 0, 3 * MIN + STEP, () => fleet({ cpuPercent: 80 }));
  let s = ev.state();
  assert.equal(s.at, 3 * MIN);
  assert.equal(s.nodes, 3);
  assert.deepEqual(s.triggers.cpu, {
    value: 80,
    scaleOut: { threshold: 70, forMs: 5 * MIN, heldMs: 3 * MIN },
    scaleIn: { threshold: 30, forMs: 15 * MIN, heldMs: null },
  });
  assert.equal(s.triggers.latency?.scaleIn, null);
  assert.equal(s.lastDecision, null);
  assert.equal(s.cooldownRemainingMs, 0);

  const d = run(ev, 3 * MIN + STEP, 7 * MIN, () => fleet({ cpuPercent: 80 }));
  s = ev.state();
  assert.equal(s.lastDecision, d[0]);
  assert.equal(s.cooldownRemainingMs, 10 * MIN - (7 * MIN - STEP - 5 * MIN));
  assert.equal(s.triggers.cpu?.scaleOut.heldMs, 7 * MIN - STEP - 5 * MIN, 'the window restarted at the decision');
  assert.equal(ev.state(20 * MIN).cooldownRemainingMs, 0);
  assert.doesNotThrow(() => JSON.stringify(s));
});

test('evaluator: minNodes holds back scale-in, maxNodes holds back scale-out (no cooldown started)', () => {
  const idle = (n: number) => () => fleet({ cpuPercent: 10, memoryPercent: 20, connections: 50 }, n);
  const one = new ScalingEvaluator();
  assert.deepEqual(run(one, 0, 2 * HOUR, idle(1)), []);
  assert.equal(one.state().cooldownRemainingMs, 0);

  const capped = new ScalingEvaluator({ ...DEFAULT_SCALING_POLICY, maxNodes: 3 });
  assert.deepEqual(run(capped, 0, HOUR, () => fleet({ cpuPercent: 90 }, 3)), []);
  // A node left: the window held all along, so the next sample scales out.
  assert.deepEqual(run(capped, HOUR, HOUR + STEP, () => fleet({ cpuPercent: 90 }, 2)).map((x) => x.nodes), [2]);
});

test('evaluator: rejects invalid policies', () => {
  const p = DEFAULT_SCALING_POLICY;
  assert.throws(() => new ScalingEvaluator({ ...p, cpu: { ...p.cpu!, scaleInBelow: 70 } }), RangeError);
  assert.throws(() => new ScalingEvaluator({ ...p, memory: { ...p.memory!, scaleOutAbove: 101 } }), RangeError);
  assert.throws(() => new ScalingEvaluator({ ...p, connections: { ...p.connections!, scaleOutForMs: -1 } }), RangeError);
  assert.throws(() => new ScalingEvaluator({ ...p, latency: { ...p.latency!, p99Factor: 1 } }), RangeError);
  assert.throws(() => new ScalingEvaluator({ ...p, latency: { ...p.latency!, baselineTimeConstantMs: 0 } }), RangeError);
  assert.throws(() => new ScalingEvaluator({ ...p, sampleIntervalMs: 0 }), RangeError);
  assert.throws(() => new ScalingEvaluator({ ...p, minNodes: 3, maxNodes: 2 }), RangeError);
  assert.throws(() => new ScalingEvaluator({ ...p, cooldownMs: NaN }), RangeError);
});
