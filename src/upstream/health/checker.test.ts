import { test } from 'node:test';
import assert from 'node:assert/strict';
import { seededRandom, type Random } from '../../util/random.js';
import {
  DEFAULT_HEALTH_CHECK, HealthChecker, INTERVAL_JITTER, PROBE_WATCHDOG_GRACE_MS,
  type HealthCheckOptions, type HealthState, type HealthTarget, type Schedule,
} from './checker.js';

/** Virtual time: tasks run in due order when the test advances the clock. */
class FakeScheduler {
  now = 0;
  /** Delay of every schedule() call, in call order. */
  readonly delays: number[] = [];
  private tasks: { at: number; seq: number; fn: () => void; done: boolean }[] = [];
  private seq = 0;

  readonly schedule: Schedule = (fn, ms) => {
    this.delays.push(ms);
    const task = { at: this.now + ms, seq: this.seq++, fn, done: false };
    this.tasks.push(task);
    return () => { task.done = true; };
  };

  /** Timers scheduled and neither run nor cancelled. */
  pending(): number {
    return this.tasks.filter((t) => !t.done).length;
  }

  /** Moves time forward by `ms`, running due tasks and letting promise callbacks settle after each. */
  async advance(ms: number): Promise<void> {
    const end = this.now + ms;
    for (let guard = 0; guard < 100_000; guard++) {
      const due = this.tasks.filter((t) => !t.done && t.at <= end).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (due === undefined) break;
      due.done = true;
      this.now = due.at;
      due.fn();
      await settle();
    }
    this.tasks = this.tasks.filter((t) => !t.done);
    this.now = end;
    await settle();
  }
}

/** Lets already-settled promises run their callbacks. */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

type Outcome = 'ok' | 'fail' | 'throw' | 'hang' | 'hang-abortable';

/** A probe whose outcome per key the test sets; records calls and concurrency. */
class ProbeStub {
  readonly outcome = new Map<string, Outcome>();
  readonly calls: { key: string; at: number; signal: AbortSignal }[] = [];
  private inFlight = new Map<string, number>();
  maxConcurrentPerKey = 0;
  /** Resolvers of hung probes, to finish them by hand. */
  readonly hung: (() => void)[] = [];

  constructor(private readonly sched: FakeScheduler) {}

  readonly probe = (t: HealthTarget, signal: AbortSignal): Promise<void> => {
    this.calls.push({ key: t.key, at: this.sched.now, signal });
    const o = this.outcome.get(t.key) ?? 'ok';
    if (o === 'throw') throw new Error('probe bug');
    const n = (this.inFlight.get(t.key) ?? 0) + 1;
    this.inFlight.set(t.key, n);
    this.maxConcurrentPerKey = Math.max(this.maxConcurrentPerKey, n);
    const done = (): void => { this.inFlight.set(t.key, (this.inFlight.get(t.key) ?? 1) - 1); };
    if (o === 'ok') { done(); return Promise.resolve(); }
    if (o === 'fail') { done(); return Promise.reject(Object.assign(new Error('status 503 not in 200-399'), { code: 'SWY_HC_STATUS' })); }
    return new Promise<void>((resolve, reject) => {
      this.hung.push(() => { done(); resolve(); });
      if (o === 'hang-abortable') signal.addEventListener('abort', () => { done(); reject(new Error('aborted')); }, { once: true });
    });
  };

  count(key: string): number {
    return this.calls.filter((c) => c.key === key).length;
  }
}

interface Change { key: string; state: HealthState; reason: string; at: number }

function setup(o: {
  keys?: string[];
  random?: Random;
  options?: Partial<HealthCheckOptions>;
  initial?: ReadonlyMap<string, HealthState>;
  onChange?: (c: Change) => void;
} = {}) {
  const sched = new FakeScheduler();
  const stub = new ProbeStub(sched);
  const changes: Change[] = [];
  const targets = (o.keys ?? ['a']).map((key) => ({ key, host: '127.0.0.1', port: 1 }));
  const checker = new HealthChecker(targets, stub.probe, o.options ?? {}, {
    random: o.random ?? (() => 0.5),
    schedule: sched.schedule,
  }, (key, state, reason) => {
    const c = { key, state, reason, at: sched.now };
    changes.push(c);
    o.onChange?.(c);
  }, o.initial);
  return { sched, stub, changes, checker };
}

test('defaults are the design numbers: every 5 s, 2 s timeout, 3 failures down, 2 successes up', () => {
  assert.deepEqual({ ...DEFAULT_HEALTH_CHECK }, { intervalMs: 5000, timeoutMs: 2000, unhealthyThreshold: 3, healthyThreshold: 2 });
  assert.equal(INTERVAL_JITTER, 0.1);
});

test('3 consecutive failures make a target unhealthy, reported once (detection 12.5 s with mid jitter)', async () => {
  const { sched, stub, changes, checker } = setup({ keys: ['a', 'b'] });
  stub.outcome.set('a', 'fail');
  checker.start();
  await sched.advance(2500); // first check at offset 0.5 × 5000
  await sched.advance(5000);
  assert.equal(checker.state('a'), 'healthy');
  assert.equal(changes.length, 0);
  await sched.advance(5000);
  assert.equal(checker.state('a'), 'unhealthy');
  assert.equal(checker.state('b'), 'healthy');
  assert.equal(changes.length, 1);
  assert.deepEqual({ ...changes[0], reason: undefined }, { key: 'a', state: 'unhealthy', reason: undefined, at: 12_500 });
  assert.match(changes[0].reason, /3 consecutive failed checks, last: SWY_HC_STATUS: status 503/);
  await sched.advance(50_000);
  assert.equal(changes.length, 1, 'no repeated report while it stays unhealthy');
  assert.equal(stub.count('a'), 13);
  checker.stop();
});

test('a success in between resets the failure count', async () => {
  const { sched, stub, changes, checker } = setup();
  checker.start();
  const step = async (o: Outcome): Promise<void> => { stub.outcome.set('a', o); await sched.advance(5000); };
  await sched.advance(2499);
  for (const o of ['fail', 'fail', 'ok', 'fail', 'fail'] as const) await step(o);
  assert.equal(checker.state('a'), 'healthy');
  await step('fail');
  assert.equal(checker.state('a'), 'unhealthy');
  assert.equal(changes.length, 1);
  checker.stop();
});

test('healthyThreshold consecutive successes bring it back, reported once', async () => {
  const { sched, stub, changes, checker } = setup({ options: { unhealthyThreshold: 1, healthyThreshold: 2 } });
  checker.start();
  const step = async (o: Outcome): Promise<void> => { stub.outcome.set('a', o); await sched.advance(5000); };
  await sched.advance(2499);
  await step('fail');
  assert.equal(checker.state('a'), 'unhealthy');
  await step('ok');
  await step('fail');
  await step('ok');
  assert.equal(checker.state('a'), 'unhealthy', 'ok, fail, ok is not 2 in a row');
  await step('ok');
  assert.equal(checker.state('a'), 'healthy');
  await step('ok');
  assert.deepEqual(changes.map((c) => c.state), ['unhealthy', 'healthy']);
  assert.match(changes[1].reason, /2 consecutive successful checks/);
  checker.stop();
});

test('jitter: first check in [0, interval), later intervals within ±10%', async () => {
  const keys = Array.from({ length: 50 }, (_, i) => `k${i}`);
  // A huge timeout keeps watchdog delays (timeout + grace) apart from tick delays.
  const { sched, checker } = setup({ keys, random: seededRandom(42), options: { timeoutMs: 100_000 } });
  checker.start();
  const first = sched.delays.slice();
  assert.equal(first.length, 50);
  for (const d of first) assert.ok(d >= 0 && d < 5000, `first offset ${d}`);
  assert.ok(new Set(first.map((d) => Math.floor(d / 1000))).size >= 4, 'offsets spread over the interval');
  await sched.advance(60_000);
  const ticks = sched.delays.slice(50).filter((d) => d < 100_000);
  assert.ok(ticks.length >= 50 * 10);
  for (const d of ticks) assert.ok(d >= 4500 && d <= 5500, `interval ${d}`);
  assert.ok(Math.min(...ticks) < 4700 && Math.max(...ticks) > 5300, 'jitter uses the whole band');
  checker.stop();

  // The extremes of the random source.
  for (const [r, firstDelay, interval] of [[0, 0, 4500], [0.999999, 4999.995, 5499.999]] as const) {
    const s = setup({ random: () => r, options: { timeoutMs: 100_000 } });
    s.checker.start();
    await s.sched.advance(firstDelay);
    s.checker.stop();
    assert.ok(Math.abs(s.sched.delays[0] - firstDelay) < 0.01 && s.sched.delays[0] < 5000);
    const next = s.sched.delays.find((d, i) => i > 0 && d < 100_000)!;
    assert.ok(Math.abs(next - interval) < 0.01 && next <= 5500, `interval ${next}`);
  }
});

test('no overlapping probes: ticks are skipped while a probe is running', async () => {
  const { sched, stub, changes, checker } = setup({ options: { intervalMs: 1000, timeoutMs: 10_000 } });
  stub.outcome.set('a', 'hang');
  checker.start();
  await sched.advance(5600); // ticks at 500, 1500, ... 5500
  assert.equal(stub.count('a'), 1);
  assert.equal(checker.state('a'), 'healthy', 'skipped ticks are not failures');
  stub.outcome.set('a', 'ok');
  stub.hung[0]();
  await settle();
  await sched.advance(1000);
  assert.equal(stub.count('a'), 2);
  assert.equal(stub.maxConcurrentPerKey, 1);
  assert.equal(changes.length, 0);
  checker.stop();
});

test('a probe that overruns its timeout is aborted and counted as a timeout', async () => {
  const { sched, stub, changes, checker } = setup({ options: { unhealthyThreshold: 1 } });
  stub.outcome.set('a', 'hang-abortable');
  checker.start();
  await sched.advance(2500);
  const signal = stub.calls[0].signal;
  assert.equal(signal.aborted, false);
  await sched.advance(2000 + PROBE_WATCHDOG_GRACE_MS);
  assert.equal(signal.aborted, true);
  assert.equal(checker.state('a'), 'unhealthy');
  assert.match(changes[0].reason, /SWY_HC_TIMEOUT: probe did not settle within 2000ms/);
  stub.outcome.set('a', 'ok');
  await sched.advance(5000 * 2);
  assert.equal(stub.count('a'), 3, 'the aborted probe ended, so the next ticks probe again');
  assert.equal(checker.state('a'), 'healthy');
  checker.stop();
});

test('a probe that ignores its abort keeps failing the target instead of freezing it', async () => {
  const { sched, stub, changes, checker } = setup();
  stub.outcome.set('a', 'hang');
  checker.start();
  await sched.advance(2500 + 2500 + 10_000); // probe at 2.5 s, watchdog at 5 s, ticks at 7.5 s and 12.5 s
  assert.equal(stub.count('a'), 1);
  assert.equal(checker.state('a'), 'unhealthy');
  assert.equal(changes.length, 1);
  assert.equal(changes[0].at, 12_500);
  assert.match(changes[0].reason, /previous probe still running after abort/);
  stub.hung[0](); // its late success is ignored
  await settle();
  assert.equal(checker.state('a'), 'unhealthy');
  checker.stop();
});

test('exceptions do not stop the checker: sync throw, non-Error rejection, throwing onChange', async () => {
  let listenerCalls = 0;
  const { sched, stub, changes, checker } = setup({
    keys: ['a', 'b'],
    options: { unhealthyThreshold: 2 },
    onChange: () => { listenerCalls++; throw new Error('listener bug'); },
  });
  stub.outcome.set('a', 'throw');
  const weird = (): Promise<void> => Promise.reject('just a string');
  const checker2 = new HealthChecker([{ key: 'c', host: '127.0.0.1', port: 1 }], weird, { unhealthyThreshold: 1 },
    { random: () => 0, schedule: sched.schedule }, (key, state, reason) => changes.push({ key, state, reason, at: sched.now }));
  checker.start();
  checker2.start();
  await sched.advance(2500 + 5000);
  assert.equal(checker.state('a'), 'unhealthy');
  assert.equal(checker2.state('c'), 'unhealthy');
  assert.match(changes.find((c) => c.key === 'a')!.reason, /last: probe bug/);
  assert.match(changes.find((c) => c.key === 'c')!.reason, /last: just a string/);
  assert.equal(listenerCalls, 1);
  stub.outcome.set('a', 'ok');
  await sched.advance(10_000);
  assert.equal(checker.state('a'), 'healthy', 'kept probing after the probe and the listener threw');
  assert.equal(listenerCalls, 2);
  checker.stop();
  checker2.stop();
});

test('stop() cancels every timer and aborts probes in flight; late results are ignored; start() resumes', async () => {
  const { sched, stub, changes, checker } = setup({ keys: ['a', 'b', 'c'], options: { unhealthyThreshold: 1 } });
  checker.start();
  assert.equal(sched.pending(), 3);
  stub.outcome.set('a', 'hang');
  await sched.advance(2500);
  assert.ok(sched.pending() >= 4, 'next ticks and the watchdog of the hung probe');
  checker.stop();
  assert.equal(sched.pending(), 0);
  assert.equal(stub.calls.find((c) => c.key === 'a')!.signal.aborted, true);
  stub.hung[0]();
  await settle();
  const calls = stub.calls.length;
  await sched.advance(60_000);
  assert.equal(stub.calls.length, calls, 'no probe after stop');
  assert.equal(changes.length, 0);
  checker.stop(); // idempotent

  stub.outcome.set('b', 'fail');
  checker.start();
  checker.start(); // no-op while running
  assert.equal(sched.pending(), 3);
  await sched.advance(2500);
  assert.equal(checker.state('b'), 'unhealthy');
  checker.stop();
  assert.equal(sched.pending(), 0);
});

test('initial states are kept (no report), need the thresholds to change; unknown keys ignored', async () => {
  const initial = new Map<string, HealthState>([['a', 'unhealthy'], ['gone', 'unhealthy']]);
  const { sched, stub, changes, checker } = setup({ keys: ['a', 'b'], initial });
  assert.equal(checker.state('a'), 'unhealthy');
  assert.equal(checker.state('b'), 'healthy');
  assert.equal(checker.state('gone'), undefined);
  assert.deepEqual([...checker.states()], [['a', 'unhealthy'], ['b', 'healthy']]);
  checker.start();
  await sched.advance(2500);
  assert.equal(checker.state('a'), 'unhealthy', 'one success is not enough');
  await sched.advance(5000);
  assert.equal(checker.state('a'), 'healthy');
  assert.deepEqual(changes.map((c) => [c.key, c.state]), [['a', 'healthy']]);
  assert.equal(stub.count('a'), 2);
  checker.stop();

  // A replacement checker picks up where this one stopped.
  const next = setup({ keys: ['a', 'b'], initial: checker.states() });
  assert.deepEqual([...next.checker.states()], [['a', 'healthy'], ['b', 'healthy']]);
});

test('duplicate keys are probed once; invalid options throw RangeError', async () => {
  const { sched, stub, checker } = setup({ keys: ['a', 'a'] });
  checker.start();
  await sched.advance(2500);
  assert.equal(stub.count('a'), 1);
  checker.stop();
  const make = (options: Partial<HealthCheckOptions>) => () =>
    new HealthChecker([], () => Promise.resolve(), options, { random: () => 0, schedule: () => () => {} }, () => {});
  assert.throws(make({ intervalMs: 0 }), RangeError);
  assert.throws(make({ timeoutMs: Number.NaN }), RangeError);
  assert.throws(make({ unhealthyThreshold: 0 }), RangeError);
  assert.throws(make({ healthyThreshold: 1.5 }), RangeError);
  assert.doesNotThrow(make({}));
});
