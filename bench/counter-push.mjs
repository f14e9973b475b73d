// What the 100 ms counter pushes (src/runtime/counter-push.ts, counter-ledger.ts) cost: per push,
// the worker's CPU to build it, its size on the IPC channel, and the primary's CPU to take it in;
// and per collection, the primary's CPU to compose the node's stats from the ledger. With many
// backends only the ones that moved in 100 ms are pushed.
//
//   npm run build && node bench/counter-push.mjs [--backends 10000] [--moved 200]   (--help for the flags)
import { parseSpec, specUsage } from './lib/args.mjs';
import { CounterPush } from '../dist/src/runtime/counter-push.js';
import { CounterLedger } from '../dist/src/runtime/counter-ledger.js';
import { TrafficStats, countersSnapshot } from '../dist/src/observe/stats.js';

const SPEC = {
  backends: { env: 'PUSH_BACKENDS', def: '10000', help: 'backends of the one service' },
  moved: { env: 'PUSH_MOVED', def: '200', help: 'backends that served a request between two pushes' },
  rounds: { env: 'PUSH_ROUNDS', def: '200', help: 'pushes measured (after 20 warm-up ones)' },
};
const opts = parseSpec(process.argv.slice(2), SPEC, specUsage('bench/counter-push.mjs', SPEC));
const [backends, moved, rounds] = [opts.backends, opts.moved, opts.rounds].map(Number);
for (const [k, v] of Object.entries({ backends, moved, rounds })) if (!Number.isInteger(v) || v < 1) throw new Error(`--${k} must be a positive integer`);
if (moved > backends) throw new Error('--moved must be at most --backends');

const endpoints = Array.from({ length: backends }, (_, i) => ({ key: `10.0.${i >> 8}.${i & 255}:80`, traffic: new TrafficStats() }));
const services = [{ name: 'app', endpoints }];
const push = new CounterPush();
const ledger = new CounterLedger();
// The first full report, as the primary's once-a-second collection gives it.
ledger.report(1, {
  counters: countersSnapshot(), rssBytes: 0, cpuMicros: 0,
  services: [{ name: 'app', algorithm: 'round-robin', backends: endpoints.map((e) => ({ key: e.key, weight: 1, healthy: true, ejected: false, draining: false, breaker: 'off', inFlight: 0, traffic: e.traffic.snapshot() })) }],
});
push.next(services);

let next = 0;
let workerNs = 0n, primaryNs = 0n, bytes = 0;
for (let r = 0; r < rounds + 20; r++) {
  for (let i = 0; i < moved; i++) endpoints[next++ % backends].traffic.record(200, 2);
  const t0 = process.hrtime.bigint();
  const m = push.next(services);
  const wire = JSON.stringify(m);
  const t1 = process.hrtime.bigint();
  const got = JSON.parse(wire);
  ledger.push(1, got.counters, got.backends);
  const t2 = process.hrtime.bigint();
  if (r >= 20) { workerNs += t1 - t0; primaryNs += t2 - t1; bytes += wire.length; }
}
const c0 = process.hrtime.bigint();
for (let i = 0; i < 10; i++) ledger.snapshot();
const snapshotMs = Number(process.hrtime.bigint() - c0) / 10 / 1e6;

const ms = (ns) => (Number(ns) / rounds / 1e6).toFixed(3);
console.log(`${backends} backends, ${moved} moved per push, ${rounds} pushes`);
console.log(`worker:  ${ms(workerNs)} ms per push (build + serialize), ${(bytes / rounds / 1024).toFixed(1)} KiB per push → ${(bytes / rounds / 1024 * 10).toFixed(0)} KiB/s at 10 pushes/s`);
console.log(`primary: ${ms(primaryNs)} ms per push (parse + ledger), ${snapshotMs.toFixed(2)} ms per collection (ledger snapshot, once a second)`);
