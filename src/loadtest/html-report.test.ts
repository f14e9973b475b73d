import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Recorder } from './recorder.js';
import { renderHtmlReport } from './html-report.js';
import { measureCapacity, toRunResult, type LoadtestResult } from './result.js';

function result(): LoadtestResult {
  const rec = new Recorder(1);
  for (let i = 0; i < 30; i++) { const a = { atMs: i * 100, phase: 0 }; rec.dispatched(a, a.atMs); rec.completed(a, a.atMs + 2, 0, { ok: true, bytes: 5 }); }
  rec.closeAll(3000);
  const run = toRunResult({
    label: 'baseline', startedAt: '2026-01-01T00:00:00.000Z', durationS: 3, phases: [{ name: 'baseline', rate: 10, startS: 0, endS: 3 }], recorder: rec,
    events: [{ label: 'kill', cmd: 'echo "</script><b>x</b>"', plannedAtS: 1, startedAtS: 1, exitedAtS: 1.01, exitCode: 0, signal: null, output: '' }],
    admin: [], generator: { sent: 30, stragglers: 0, maxLagMs: 0.3, behindSeconds: 0, behindThresholdMs: 25, maxInFlight: 1, capSeconds: 0, queuedSeconds: 0 }, aborted: false,
  });
  return {
    tool: 'switchyard-loadtest', formatVersion: 1, command: 'switchyard loadtest --target http://127.0.0.1:1/', startedAt: 'a', finishedAt: 'b',
    target: { url: 'http://127.0.0.1:1/', method: 'GET', connections: 1, timeoutMs: 1000 }, options: {}, runs: [run],
    scenarios: [{ name: 'baseline', run: 'baseline', findings: {}, summary: ['p99 <2 ms'] }], capacity: measureCapacity([run], { p99Ms: 100, errorRate: 0.01 }), warnings: [],
  };
}

test('the report is one self-contained file: uPlot inlined, nothing loaded from elsewhere', () => {
  const html = renderHtmlReport(result());
  assert.match(html, /uPlot v?1\.6|leeoniya\/uPlot/);
  assert.doesNotMatch(html, /<script[^>]+src=|<link[^>]+href=|@import/);
  assert.equal((html.match(/<\/script>/g) ?? []).length, 3, 'data, uPlot, report script: nothing closes a script early');
  assert.match(html, /&lt;\/script&gt;&lt;b&gt;x&lt;\/b&gt;/, 'commands are escaped in the tables');
  assert.match(html, /p99 &lt;2 ms/);
  assert.match(html, /<b>10 requests\/s<\/b> within the SLO/);
  assert.match(html, /id="charts-0"/);
});
