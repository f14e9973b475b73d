import { SwitchyardError } from '../util/errors.js';

/*
 * Quantities as people write them on a command line: `100k` QPS, `2M` connections, `10Gbps`.
 * Every parser throws a SwitchyardError (SWY_CLI_USAGE) naming the flag, so the CLI prints one line.
 */

const SI: Record<string, number> = { '': 1, k: 1e3, m: 1e6, g: 1e9, t: 1e12 };

function usage(what: string, text: string, example: string): SwitchyardError {
  return new SwitchyardError('SWY_CLI_USAGE', `${what}: cannot read "${text}" (e.g. ${example})`, 'client');
}

/** `100000`, `100,000`, `100_000`, `100k`, `2M`, `1.5G` → a positive number. */
export function parseCount(text: string, what: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kKmMgGtT]?)$/.exec(text.trim().replace(/[,_]/g, ''));
  const n = m === null ? Number.NaN : Number(m[1]) * SI[m[2].toLowerCase()];
  if (!Number.isFinite(n) || n <= 0) throw usage(what, text, '100000, 100k, 2M');
  return n;
}

/**
 * Bandwidth in bits per second: `10Gbps`, `500Mbps`, `1.5 Gbit/s`, `800kbps`, or a bare number of
 * bits per second. Bytes (`MB/s`) are refused rather than guessed: network capacity is quoted in bits.
 */
export function parseBandwidth(text: string, what: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(?:([kKmMgGtT]?)(?:bps|bit\/s|b\/s))?$/.exec(text.trim().replace(/[,_]/g, ''));
  if (m === null) throw usage(what, text, '10Gbps, 500Mbps');
  const n = Number(m[1]) * SI[(m[2] ?? '').toLowerCase()];
  if (!Number.isFinite(n) || n <= 0) throw usage(what, text, '10Gbps, 500Mbps');
  return n;
}

/** Bytes with a unit: `512MiB`, `2GiB` (binary), `500MB` (decimal), or a bare number of bytes. */
export function parseBytes(text: string, what: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(|B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)$/i.exec(text.trim());
  if (m === null) throw usage(what, text, '512MiB, 2GiB, 500MB');
  const unit = m[2].toLowerCase();
  const scale: Record<string, number> = { '': 1, b: 1, kb: 1e3, mb: 1e6, gb: 1e9, tb: 1e12, kib: 2 ** 10, mib: 2 ** 20, gib: 2 ** 30, tib: 2 ** 40 };
  const n = Number(m[1]) * scale[unit];
  if (!Number.isFinite(n) || n <= 0) throw usage(what, text, '512MiB, 2GiB, 500MB');
  return n;
}

/** `100,000` (thousands separators, at most two decimals). */
export function formatCount(n: number): string {
  return n.toLocaleString('en-US', { maximumFractionDigits: 2 });
}

/** `10 Gbps`, `500 Mbps`, `6.5 Gbps`: the largest unit that keeps the number ≥ 1. */
export function formatBandwidth(bps: number): string {
  for (const [unit, scale] of [['Tbps', 1e12], ['Gbps', 1e9], ['Mbps', 1e6], ['kbps', 1e3]] as const) {
    if (bps >= scale) return `${formatCount(Math.round((bps / scale) * 100) / 100)} ${unit}`;
  }
  return `${formatCount(Math.round(bps))} bps`;
}

/** `1.5 GiB`, `300 MiB`. */
export function formatBytes(bytes: number): string {
  for (const [unit, scale] of [['TiB', 2 ** 40], ['GiB', 2 ** 30], ['MiB', 2 ** 20], ['KiB', 2 ** 10]] as const) {
    if (Math.abs(bytes) >= scale) return `${formatCount(Math.round((bytes / scale) * 10) / 10)} ${unit}`;
  }
  return `${Math.round(bytes)} B`;
}

/** One growth projection: demand × `factor` at `horizon` (e.g. 2x at 1y). */
export interface GrowthStep {
  factor: number;
  /** As written: `1y`, `18m`. */
  horizon: string;
  /** Row label in the design's words: `Year 1`, `Month 18`. */
  label: string;
}

/** `2x@1y,5x@3y` → the design's Year 1 (2x) and Year 3 (5x) rows. Horizons: `Ny` years or `Nm` months. */
export function parseGrowth(text: string): GrowthStep[] {
  const steps = text.split(',').map((s) => s.trim()).filter((s) => s !== '').map((s) => {
    const m = /^(\d+(?:\.\d+)?)x@(\d+(?:\.\d+)?)(y|m)$/i.exec(s);
    if (m === null || Number(m[1]) <= 0) throw usage('--growth', s, '2x@1y,5x@3y');
    const unit = m[3].toLowerCase();
    return { factor: Number(m[1]), horizon: `${m[2]}${unit}`, label: `${unit === 'y' ? 'Year' : 'Month'} ${m[2]}`, months: Number(m[2]) * (unit === 'y' ? 12 : 1) };
  });
  // Rows read top to bottom in time, as the design's table does.
  return steps.sort((a, b) => a.months - b.months).map(({ factor, horizon, label }) => ({ factor, horizon, label }));
}
