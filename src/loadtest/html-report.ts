import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { ERROR_KINDS } from './error-kind.js';
import type { LoadtestResult, PhaseResult, RunResult } from './result.js';
import { REPORT_SCRIPT } from './report-script.js';

/*
 * The self-contained HTML report: summary tables rendered here, charts drawn in the browser by
 * uPlot. uPlot's JS and CSS are inlined from node_modules, so the file opens offline, from disk.
 */

const require = createRequire(import.meta.url);

function esc(s: unknown): string {
  return String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** JSON safe inside <script>: no "</script>" or "<!--" can appear. */
function scriptJson(v: unknown): string {
  return JSON.stringify(v).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

const num = (x: number | null | undefined) => (x === null || x === undefined ? '–' : String(x));

function phaseTable(phases: PhaseResult[]): string {
  const rows = phases.map((p) => `<tr><td>${esc(p.name)}</td><td>${p.startS}–${p.endS}</td><td>${p.rate}</td><td>${p.scheduled}</td><td>${p.throughput}</td>`
    + `<td>${p.failed}</td><td>${(p.errorRate * 100).toFixed(3)}%</td><td>${esc(Object.entries(p.errors).map(([k, v]) => `${k} ${v}`).join(', '))}</td>`
    + `<td>${num(p.latencyMs.p50)}</td><td>${num(p.latencyMs.p90)}</td><td>${num(p.latencyMs.p99)}</td><td>${num(p.latencyMs.p999)}</td><td>${num(p.latencyMs.max)}</td></tr>`);
  return `<table><thead><tr><th>phase</th><th>seconds</th><th>offered /s</th><th>scheduled</th><th>throughput /s</th><th>failed</th><th>error rate</th><th>errors</th>`
    + `<th>p50 ms</th><th>p90 ms</th><th>p99 ms</th><th>p99.9 ms</th><th>max ms</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

/** The series as columns (what uPlot takes), only the error kinds that occurred. */
function columns(run: RunResult) {
  const s = run.series;
  const kinds = ERROR_KINDS.filter((k) => s.some((p) => (p.errors[k] ?? 0) > 0));
  const samples = run.admin.filter((a) => a.error === undefined);
  return {
    phases: run.phases.map((p) => ({ name: p.name, startS: p.startS })),
    events: run.events.map((e) => ({ label: e.label, startedAtS: e.startedAtS })),
    series: {
      t: s.map((p) => p.t), offered: s.map((p) => p.offered), sent: s.map((p) => p.sent), ok: s.map((p) => p.ok), failed: s.map((p) => p.failed),
      errors: Object.fromEntries(kinds.map((k) => [k, s.map((p) => p.errors[k] ?? 0)])),
      p50: s.map((p) => p.p50), p99: s.map((p) => p.p99), max: s.map((p) => p.max),
    },
    admin: {
      t: samples.map((a) => a.t),
      memMiB: samples.map((a) => (a.workersRssBytes === null && a.primaryRssBytes === null ? null : Math.round((((a.workersRssBytes ?? 0) + (a.primaryRssBytes ?? 0)) / 2 ** 20) * 10) / 10)),
      connections: samples.map((a) => a.activeConnections),
    },
  };
}

function runSection(run: RunResult, i: number, result: LoadtestResult): string {
  const scen = result.scenarios.filter((s) => s.run === run.label);
  const g = run.generator;
  const events = run.events.map((e) => `<li><b>${esc(e.label)}</b> at ${e.startedAtS} s (planned ${e.plannedAtS} s): <code>${esc(e.cmd)}</code> → ${esc(e.error ?? `exit ${e.exitCode ?? e.signal}`)}${e.output === '' ? '' : ` <pre>${esc(e.output)}</pre>`}</li>`);
  return `<section><h2>Run “${esc(run.label)}”${run.aborted ? ' (interrupted)' : ''}</h2>
<p class="meta">started ${esc(run.startedAt)}, ${run.durationS} s; generator: ${g.sent} sent, worst lag ${g.maxLagMs} ms, ${g.behindSeconds} s behind schedule (&gt; ${g.behindThresholdMs} ms), at most ${g.maxInFlight} in flight</p>
${scen.map((s) => `<h3>${esc(s.name)}</h3><ul>${s.summary.map((l) => `<li>${esc(l)}</li>`).join('')}</ul>`).join('\n')}
${phaseTable(run.phases)}
${events.length > 0 ? `<h3>Commands</h3><ul>${events.join('')}</ul>` : ''}
<div class="charts" id="charts-${i}"></div>
</section>`;
}

/** The whole report as one HTML document (no external references). */
export function renderHtmlReport(result: LoadtestResult): string {
  const uplotJs = readFileSync(require.resolve('uplot/dist/uPlot.iife.min.js'), 'utf8');
  const uplotCss = readFileSync(require.resolve('uplot/dist/uPlot.min.css'), 'utf8');
  const c = result.capacity;
  const data = { runs: result.runs.map(columns) };
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Switchyard load test — ${esc(result.target.url)}</title>
<style>${uplotCss}</style>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 24px; color: #222; max-width: 1400px; }
table { border-collapse: collapse; margin: 8px 0 16px; } th, td { border: 1px solid #ccc; padding: 3px 8px; text-align: right; }
th:first-child, td:first-child, table.text td, table.text th { text-align: left; } thead { background: #f3f3f3; }
code, pre { background: #f6f6f6; padding: 1px 4px; } pre { white-space: pre-wrap; margin: 4px 0; }
.meta { color: #555; } .warn { color: #a40; } .chart { margin: 12px 0; } section { border-top: 2px solid #ddd; margin-top: 24px; }
</style></head>
<body>
<h1>Switchyard load test</h1>
<p class="meta">target <code>${esc(result.target.method)} ${esc(result.target.url)}</code>, ${result.target.connections} connections, timeout ${result.target.timeoutMs} ms<br>
<code>${esc(result.command)}</code><br>${esc(result.startedAt)} → ${esc(result.finishedAt)}</p>
<p>Open loop: requests leave on a fixed schedule and latency is timed from each request's <em>intended</em> send time, so a stall of the target is charged to every request that should have been sent meanwhile (no coordinated omission).</p>
${result.warnings.length > 0 ? `<ul class="warn">${result.warnings.map((w) => `<li>${esc(w)}</li>`).join('')}</ul>` : ''}
<h2>Capacity</h2>
<p>${c.qps === null ? `No phase met the SLO (p99 ≤ ${c.slo.p99Ms} ms, error rate ≤ ${c.slo.errorRate * 100}%).`
    : `<b>${c.qps} requests/s</b> within the SLO (p99 ≤ ${c.slo.p99Ms} ms, error rate ≤ ${c.slo.errorRate * 100}%), in ${esc(c.phase)} at p99 ${c.p99Ms} ms — ${esc(c.note)}.`}</p>
<h2>Scenarios</h2>
<table class="text"><thead><tr><th>scenario</th><th>run</th><th>summary</th></tr></thead><tbody>
${result.scenarios.map((s) => `<tr><td>${esc(s.name)}</td><td>${esc(s.run)}</td><td>${s.summary.map(esc).join('<br>')}</td></tr>`).join('\n')}
</tbody></table>
${result.runs.map((r, i) => runSection(r, i, result)).join('\n')}
<script id="report-data" type="application/json">${scriptJson(data)}</script>
<script>${uplotJs}</script>
<script>${REPORT_SCRIPT}</script>
</body></html>
`;
}
