import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CounterLedger, backendId, type Collection } from './counter-ledger.js';
import { addCounters, addTraffic, emptyCounters, emptyTraffic, type CountersSnapshot, type TrafficSnapshot } from '../observe/stats.js';
import type { WorkerStats } from './messages.js';

/** Traffic with `n` requests, all 2xx in the first latency bucket. */
function traffic(n: number): TrafficSnapshot {
  const t = emptyTraffic();
  t.requests = n; t.byClass[2] = n; t.latency[0] = n; t.latencySumMs = n;
  return t;
}

function counters(requests: number, active = 0): CountersSnapshot {
  const c = emptyCounters();
  c.services.app = { traffic: traffic(requests), retries: requests, retryBudgetExhausted: 0, hedges: 0, hedgesWon: 0, bulkheadRejected: 0, degradedStale: 0, degradedErrorPage: 0, panicPicks: 0, codes: { 200: requests } };
  c.listeners.web = { accepted: requests, active, bytesIn: requests * 10, bytesOut: requests * 20, proxyErrors: { 404: requests }, routes: { r: requests }, engines: { fast: 1 } };
  c.transitions['breaker\topen\tapp\tb0'] = requests;
  c.tls.full = requests;
  return c;
}

function stats(requests: number, opts: { active?: number; inFlight?: number; topKeys?: boolean } = {}): WorkerStats {
  return {
    counters: counters(requests, opts.active),
    services: [{ name: 'app', algorithm: 'round-robin', backends: [{
      key: 'b0', weight: 1, healthy: true, ejected: false, draining: false, breaker: 'closed', inFlight: opts.inFlight ?? 0, traffic: traffic(requests),
      topKeys: opts.topKeys ? [{ key: 'k', count: 3 }] : undefined,
    }] }],
    rssBytes: 1000, cpuMicros: requests,
  };
}

/** What /metrics would show: the sum over live workers plus the retired totals. */
function totals(c: Collection): { requests: number; backend: number; active: number; inFlight: number; cpu: number; accepted: number; fastWorkers: number } {
  const sum = emptyCounters();
  addCounters(sum, c.retired.counters);
  let backend = c.retired.backends.get(backendId('app', 'b0'))?.requests ?? 0;
  let inFlight = 0;
  let cpu = c.retired.cpuMicros;
  for (const w of c.workers.values()) {
    addCounters(sum, w.counters);
    cpu += w.cpuMicros;
    for (const b of w.services[0]?.backends ?? []) { backend += b.traffic.requests; inFlight += b.inFlight; }
  }
  return { requests: sum.services.app?.traffic.requests ?? 0, backend, active: sum.listeners.web?.active ?? 0, inFlight, cpu, accepted: sum.listeners.web?.accepted ?? 0, fastWorkers: sum.listeners.web?.engines.fast ?? 0 };
}

test('counter ledger: an exited worker\'s counters stay in the sum, its gauges do not', () => {
  const l = new CounterLedger();
  l.report(1, stats(100, { active: 3, inFlight: 2 }));
  l.report(2, stats(50, { active: 1, inFlight: 1 }));
  assert.deepEqual(totals(l.snapshot()), { requests: 150, backend: 150, active: 4, inFlight: 3, cpu: 150, accepted: 150, fastWorkers: 2 });
  l.retire(1);
  const after = l.snapshot();
  assert.deepEqual(totals(after), { requests: 150, backend: 150, active: 1, inFlight: 1, cpu: 150, accepted: 150, fastWorkers: 1 });
  assert.deepEqual([...after.workers.keys()], [2]);
  // Every kind of counter is kept: retries, bytes, proxy answers, routes, transitions, TLS, the latency histogram.
  const r = after.retired.counters;
  assert.equal(r.services.app.retries, 100);
  assert.equal(r.services.app.traffic.latency[0], 100);
  assert.equal(r.services.app.traffic.latencySumMs, 100);
  assert.deepEqual(r.listeners.web, { accepted: 100, active: 0, bytesIn: 1000, bytesOut: 2000, proxyErrors: { 404: 100 }, routes: { r: 100 }, engines: {} });
  assert.equal(r.transitions['breaker\topen\tapp\tb0'], 100);
  assert.equal(r.tls.full, 100);
});

test('counter ledger: retired totals accumulate over several exits and respawns', () => {
  const l = new CounterLedger();
  l.report(1, stats(10));
  l.retire(1);
  l.report(2, stats(20));
  l.retire(2);
  l.report(3, stats(5));
  assert.equal(totals(l.snapshot()).requests, 35);
  assert.equal(totals(l.snapshot()).backend, 35);
});

test('counter ledger: a worker that does not answer keeps its last values; pushes between answers move them on', () => {
  const l = new CounterLedger();
  l.report(1, stats(10));
  l.report(2, stats(10));
  // Worker 2 stops answering; it pushed once before.
  l.push(2, counters(14), [{ service: 'app', key: 'b0', traffic: traffic(14) }]);
  l.report(1, stats(12));
  const c = l.snapshot();
  assert.deepEqual([...c.workers.keys()].sort(), [1, 2]);
  assert.equal(totals(c).requests, 26);
  assert.equal(totals(c).backend, 26);
  // A push that lists no backend leaves their last counts in place.
  l.push(2, counters(15), []);
  assert.equal(totals(l.snapshot()).backend, 26);
  // Its last push counts when it dies.
  l.retire(2);
  assert.equal(totals(l.snapshot()).requests, 27);
});

test('counter ledger: top keys are handed over once, not repeated for a worker that does not answer', () => {
  const l = new CounterLedger();
  l.report(1, stats(1, { topKeys: true }));
  assert.equal(l.snapshot().workers.get(1)!.services[0].backends[0].topKeys, undefined);
});

test('counter ledger: a message arriving after the worker exited is ignored (not counted twice)', () => {
  const l = new CounterLedger();
  l.report(1, stats(10));
  l.retire(1);
  l.push(1, counters(11), [{ service: 'app', key: 'b0', traffic: traffic(11) }]);
  l.report(1, stats(11));
  const c = l.snapshot();
  assert.equal(c.workers.size, 0);
  assert.equal(totals(c).requests, 10);
});

test('counter ledger: a backend count that restarts in a worker (dropped, then re-created) keeps the old count', () => {
  const l = new CounterLedger();
  l.report(1, stats(40));
  l.push(1, counters(41), [{ service: 'app', key: 'b0', traffic: traffic(1) }]);
  assert.equal(totals(l.snapshot()).backend, 41);
});

test('counter ledger: a snapshot is a copy (later exits do not change an earlier collection)', () => {
  const l = new CounterLedger();
  l.report(1, stats(10));
  const before = l.snapshot();
  l.retire(1);
  l.report(2, stats(7));
  l.retire(2);
  assert.equal(totals(before).requests, 10);
  assert.equal(before.retired.backends.size, 0);
});

test('counter ledger: under random reports, pushes, stalls and exits, no sum ever falls', () => {
  let seed = 7;
  const rand = (n: number) => { seed = (seed * 1103515245 + 12345) % 2 ** 31; return seed % n; };
  const l = new CounterLedger();
  const count = new Map<number, number>();
  let nextId = 1;
  let prev = totals(l.snapshot());
  for (let step = 0; step < 5000; step++) {
    const op = rand(10);
    const ids = [...count.keys()];
    if (op === 0 || ids.length === 0) { count.set(nextId++, 0); continue; }
    const id = ids[rand(ids.length)];
    const n = count.get(id)! + rand(5);
    count.set(id, n);
    if (op === 1) { l.retire(id); count.delete(id); } else if (op < 5) l.report(id, stats(n)); else if (op < 8) l.push(id, counters(n), [{ service: 'app', key: 'b0', traffic: traffic(n) }]);
    // op 8-9: the worker counted but told nobody (slow).
    const now = totals(l.snapshot());
    for (const k of ['requests', 'backend', 'accepted', 'cpu'] as const) assert.ok(now[k] >= prev[k], `step ${step}: ${k} fell from ${prev[k]} to ${now[k]}`);
    prev = now;
  }
  assert.ok(prev.requests > 1000);
});

test('addTraffic/addCounters keep the retired totals apart from what they are added to', () => {
  const l = new CounterLedger();
  l.report(1, stats(3));
  l.retire(1);
  const c = l.snapshot();
  const into = emptyCounters();
  addCounters(into, c.retired.counters);
  into.services.app.traffic = addTraffic(into.services.app.traffic, traffic(5));
  into.listeners.web.routes.r += 5;
  assert.equal(l.snapshot().retired.counters.services.app.traffic.requests, 3);
  assert.equal(l.snapshot().retired.counters.listeners.web.routes.r, 3);
});
