import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SwitchyardError } from '../util/errors.js';
import { renderHtmlReport } from './html-report.js';
import type { LoadtestResult } from './result.js';

/** Creates the output directory up front, so a long plan does not fail at the end. Throws SWY_CLI_USAGE. */
export function prepareOutDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw new SwitchyardError('SWY_CLI_USAGE', `--out ${dir}: cannot create it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, 'client');
  }
}

/** Writes `result.json` and `report.html` into `dir`; returns their paths. */
export function writeReportFiles(dir: string, result: LoadtestResult): { json: string; html: string } {
  prepareOutDir(dir);
  const json = join(dir, 'result.json');
  const html = join(dir, 'report.html');
  writeFileSync(json, `${JSON.stringify(result, null, 2)}\n`);
  writeFileSync(html, renderHtmlReport(result));
  return { json, html };
}

/** The end-of-run text: each scenario's summary lines, the measured capacity and the warnings. */
export function formatSummary(result: LoadtestResult): string {
  const out: string[] = [];
  for (const s of result.scenarios) {
    out.push(`${s.name} (run ${s.run}):`);
    for (const l of s.summary) out.push(`  ${l}`);
  }
  const c = result.capacity;
  out.push(c.qps === null
    ? `capacity: no phase met the SLO (p99 ≤ ${c.slo.p99Ms} ms, errors ≤ ${c.slo.errorRate * 100}%)`
    : `capacity: ${c.qps} requests/s within the SLO (p99 ≤ ${c.slo.p99Ms} ms, errors ≤ ${c.slo.errorRate * 100}%) in ${c.phase} (p99 ${c.p99Ms} ms); `
      + (c.saturated ? `saturated: ${c.saturation}` : `NOT saturated — ${c.saturation}; a lower bound that \`switchyard capacity\` refuses: raise --rate until a phase breaks the SLO`));
  for (const w of result.warnings) out.push(`warning: ${w}`);
  return `${out.join('\n')}\n`;
}
