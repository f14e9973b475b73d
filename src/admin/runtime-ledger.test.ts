import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RuntimeLedger } from './runtime-ledger.js';
import type { RuntimeMetric } from '../runtime/runtime-metrics.js';

const metrics = (cpu: number, rss: number, gcMajor?: number): RuntimeMetric[] => [
  { name: 'process_cpu_seconds_total', help: '', type: 'counter', values: [{ labels: {}, value: cpu }] },
  { name: 'process_resident_memory_bytes', help: '', type: 'gauge', values: [{ labels: {}, value: rss }] },
  { name: 'nodejs_gc_duration_seconds', help: '', type: 'histogram', values: gcMajor === undefined ? [] : [{ labels: { kind: 'major' }, value: gcMajor, metricName: 'nodejs_gc_duration_seconds_count' }] },
];

const values = (l: RuntimeLedger, name: string) => (l.series().get(name) ?? []).map((v) => `${v.labels.worker}${v.labels.kind === undefined ? '' : `/${v.labels.kind}`}=${v.value}`);

test('a respawned slot carries what its previous processes counted; gauges are its own', () => {
  const l = new RuntimeLedger();
  l.update(new Map([['1', { pid: 10, metrics: metrics(5, 100, 2) }], ['2', { pid: 11, metrics: metrics(7, 200) }]]), new Set(['1', '2']));
  assert.deepEqual(values(l, 'process_cpu_seconds_total'), ['1=5', '2=7']);
  // Slot 1 dies: its counters stay (frozen), its gauges go.
  l.update(new Map([['2', { pid: 11, metrics: metrics(8, 210) }]]), new Set(['2']));
  assert.deepEqual(values(l, 'process_cpu_seconds_total'), ['1=5', '2=8']);
  assert.deepEqual(values(l, 'process_resident_memory_bytes'), ['2=210']);
  // A new process in slot 1 starts at 0: the slot's counter goes on from 5; the GC kind only the old one had stays.
  l.update(new Map([['1', { pid: 12, metrics: metrics(1, 90) }], ['2', { pid: 11, metrics: metrics(9, 220) }]]), new Set(['1', '2']));
  assert.deepEqual(values(l, 'process_cpu_seconds_total'), ['1=6', '2=9']);
  assert.deepEqual(values(l, 'process_resident_memory_bytes'), ['1=90', '2=220']);
  assert.deepEqual(values(l, 'nodejs_gc_duration_seconds'), ['1/major=2']);
});

test('a slow worker (alive, no answer) keeps its last values, gauges included', () => {
  const l = new RuntimeLedger();
  l.update(new Map([['1', { pid: 10, metrics: metrics(5, 100) }]]), new Set(['1']));
  l.update(new Map(), new Set(['1']));
  assert.deepEqual(values(l, 'process_cpu_seconds_total'), ['1=5']);
  assert.deepEqual(values(l, 'process_resident_memory_bytes'), ['1=100']);
});
