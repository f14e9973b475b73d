import { readFileSync } from 'node:fs';
import { SwitchyardError } from '../util/errors.js';

/** What `switchyard loadtest` measured that the planner can use as one node's capacity. */
export interface MeasuredCapacity {
  /** Throughput the node achieved within the SLO (p99 and error rate); a lower bound of its capacity. */
  qps: number;
  /** Where it came from, for the printed plan: `baseline/baseline at p99 3.1 ms`. */
  source: string;
}

/**
 * Reads a loadtest result file's `capacity` block. Throws SWY_CLI_USAGE (one line) when the file is
 * missing, not a loadtest result, or no phase met the SLO (then there is no measured capacity).
 */
export function readMeasuredCapacity(path: string): MeasuredCapacity {
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    throw new SwitchyardError('SWY_CLI_USAGE', `--per-node-from ${path}: cannot read it (${why})`, 'client');
  }
  const d = doc as { tool?: unknown; capacity?: { qps?: unknown; phase?: unknown; p99Ms?: unknown; slo?: { p99Ms?: unknown } } };
  if (d.tool !== 'switchyard-loadtest' || typeof d.capacity !== 'object' || d.capacity === null) {
    throw new SwitchyardError('SWY_CLI_USAGE', `--per-node-from ${path}: not a switchyard loadtest result`, 'client');
  }
  const c = d.capacity;
  if (typeof c.qps !== 'number' || !(c.qps > 0)) {
    throw new SwitchyardError('SWY_CLI_USAGE', `--per-node-from ${path}: no phase met the SLO (p99 ≤ ${String(c.slo?.p99Ms)} ms), so it measured no capacity; pass --per-node-qps`, 'client');
  }
  return { qps: c.qps, source: `measured: ${String(c.phase)} at p99 ${String(c.p99Ms)} ms` };
}
