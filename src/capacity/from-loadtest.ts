import { readFileSync } from 'node:fs';
import { SwitchyardError } from '../util/errors.js';

/** What `switchyard loadtest` measured that the planner can use as one node's capacity. */
export interface MeasuredCapacity {
  /** Throughput the node achieved within the SLO (p99 and error rate); a lower bound of its capacity. */
  qps: number;
  /** Where it came from, for the printed plan: `baseline/baseline at p99 3.1 ms`. */
  source: string;
  /** Set when the run did not saturate the node and `force` took it anyway: the warning to print. */
  warning?: string;
}

/** How to measure a node's capacity instead of a lower bound: what the refusal says. */
function howToSaturate(qps: number, slo: { p99Ms?: unknown; errorRate?: unknown } | undefined): string {
  const errors = typeof slo?.errorRate === 'number' ? `${slo.errorRate * 100}%` : 'the error rate';
  return `get a saturated run: raise the offered rate until a phase breaks the SLO (p99 ${String(slo?.p99Ms ?? '?')} ms, ${errors} errors) or falls short of its offered rate, `
    + `e.g. \`switchyard loadtest --target URL --scenario spike --rate ${Math.ceil(qps)} --spike-factor 3\` and then higher --rate values; `
    + 'the highest phase within the SLO of that run is the node\'s capacity (docs/loadtest.md, "switchyard capacity")';
}

/**
 * Reads a loadtest result file's `capacity` block. Throws SWY_CLI_USAGE (one line) when the file is
 * missing, not a loadtest result, or no phase met the SLO (then there is no measured capacity), and
 * SWY_CAPACITY_UNSATURATED when the run never pushed the node past what it measured (its figure is
 * only the offered rate, a lower bound that plans far too many nodes) — unless `force`, which
 * returns it with a `warning`.
 */
export function readMeasuredCapacity(path: string, force = false): MeasuredCapacity {
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    throw new SwitchyardError('SWY_CLI_USAGE', `--per-node-from ${path}: cannot read it (${why})`, 'client');
  }
  const d = doc as { tool?: unknown; capacity?: { qps?: unknown; phase?: unknown; p99Ms?: unknown; slo?: { p99Ms?: unknown; errorRate?: unknown }; saturated?: unknown; saturation?: unknown } };
  if (d.tool !== 'switchyard-loadtest' || typeof d.capacity !== 'object' || d.capacity === null) {
    throw new SwitchyardError('SWY_CLI_USAGE', `--per-node-from ${path}: not a switchyard loadtest result`, 'client');
  }
  const c = d.capacity;
  if (typeof c.qps !== 'number' || !(c.qps > 0)) {
    throw new SwitchyardError('SWY_CLI_USAGE', `--per-node-from ${path}: no phase met the SLO (p99 ≤ ${String(c.slo?.p99Ms)} ms), so it measured no capacity; pass --per-node-qps`, 'client');
  }
  const measured = { qps: c.qps, source: `measured: ${String(c.phase)} at p99 ${String(c.p99Ms)} ms` };
  if (c.saturated === true) return measured;
  const why = typeof c.saturation === 'string' ? c.saturation : 'the result does not say whether the run saturated the node (written by an older switchyard loadtest)';
  const problem = `--per-node-from ${path}: the load test did not saturate the node (${why}), so ${c.qps} requests/s is only a lower bound of its capacity and the plan would count too many nodes`;
  if (!force) throw new SwitchyardError('SWY_CAPACITY_UNSATURATED', `${problem}; ${howToSaturate(c.qps, c.slo)}; or pass --force to plan from it anyway`, 'client');
  return { ...measured, source: `${measured.source}, NOT SATURATED (a lower bound)`, warning: `WARNING: ${problem}. Planning from it because of --force; ${howToSaturate(c.qps, c.slo)}.` };
}
