import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NodeView, zoneViews } from './node-view.js';
import { CounterLedger } from '../runtime/counter-ledger.js';
import { emptyCounters, emptyTraffic, type TrafficSnapshot } from '../observe/stats.js';
import type { WorkerStats } from '../runtime/messages.js';

function traffic(n: number): TrafficSnapshot {
  const t = emptyTraffic();
  t.requests = n; t.byClass[2] = n; t.latency[3] = n; t.latencySumMs = 5 * n;
  return t;
}

function worker(n: number, inFlight: number): WorkerStats {
  const counters = emptyCounters();
  counters.services.app = { traffic: traffic(n), retries: 0, retryBudgetExhausted: 0, hedges: 0, hedgesWon: 0, bulkheadRejected: 0, degradedStale: 0, degradedErrorPage: 0, panicPicks: 0, codes: {} };
  return {
    counters, rssBytes: 0, cpuMicros: 0,
    services: [{ name: 'app', algorithm: 'round-robin', backends: [{ key: 'b0', weight: 1, healthy: true, ejected: false, draining: false, breaker: 'off', inFlight, traffic: traffic(n) }] }],
  };
}

test('node view: what exited workers counted is added to service and backend totals, their in-flight requests are not; rates see no dip', () => {
  const view = new NodeView(10);
  const ledger = new CounterLedger();
  ledger.report(1, worker(100, 4));
  ledger.report(2, worker(100, 1));
  let c = ledger.snapshot();
  view.add(0, c.workers, c.retired);
  ledger.retire(1);
  ledger.report(3, worker(0, 0));
  ledger.report(2, worker(150, 1));
  c = ledger.snapshot();
  view.add(1000, c.workers, c.retired);
  const last = view.latest!;
  assert.equal(last.counters.services.app.traffic.requests, 250);
  const b0 = last.services.get('app')!.backends.get('b0')!;
  assert.equal(b0.traffic.requests, 250);
  assert.equal(b0.inFlight, 1);
  const [svc] = view.services();
  assert.equal(svc.rps, 50);
  assert.equal(svc.backends[0].requestsTotal, 250);
  assert.equal(svc.backends[0].rps, 50);
});

test('zoneViews: share served per backend zone; unlabelled backends are zone none; nothing without zones', () => {
  assert.deepEqual(zoneViews([{ zone: 'b', rps: 30 }, { zone: 'a', rps: 50 }, { zone: 'a', rps: 10 }, { zone: undefined, rps: 10 }]), [
    { zone: 'a', rps: 60, share: 0.6, backends: 2 }, { zone: 'b', rps: 30, share: 0.3, backends: 1 }, { zone: 'none', rps: 10, share: 0.1, backends: 1 },
  ]);
  assert.deepEqual(zoneViews([{ zone: undefined, rps: 5 }]), []);
  assert.deepEqual(zoneViews([{ zone: 'a', rps: 0 }]), [{ zone: 'a', rps: 0, share: 0, backends: 1 }]);
});
