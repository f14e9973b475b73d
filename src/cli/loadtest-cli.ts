import type { Command } from 'commander';
import { parseDuration } from '../config/duration.js';
import { SwitchyardError } from '../util/errors.js';
import type { LoadtestOptions } from '../loadtest/run-loadtest.js';
import { SCENARIOS, type ScenarioName } from '../loadtest/result.js';
import { parseBandwidth, parseBytes, parseCount, parseGrowth } from '../capacity/units.js';
import { planCapacity, type NodeCapacity } from '../capacity/planner.js';
import { renderCapacityPlan } from '../capacity/table.js';
import { readMeasuredCapacity } from '../capacity/from-loadtest.js';

/*
 * `switchyard loadtest` (the design's load testing plan against a running node) and
 * `switchyard capacity` (the design's capacity math). Option values arrive as text and are
 * checked inside `run`, so a bad value is one line on stderr, never a stack trace.
 */

type Run = (body: () => Promise<void>) => Promise<void>;

const usage = (msg: string) => new SwitchyardError('SWY_CLI_USAGE', msg, 'client');

function duration(text: string, flag: string): number {
  const ms = parseDuration(text);
  if (ms === undefined || ms <= 0) throw usage(`${flag}: "${text}" is not a duration (e.g. 30s, 5m, 24h)`);
  return ms;
}

/** A duration that may also be zero (`0`, `0s`): off. */
function durationOrZero(text: string, flag: string): number {
  return /^0+(\.0+)?(ms|s|m|h)?$/.test(text.trim()) ? 0 : duration(text, flag);
}

function positive(text: string, flag: string, integer = false): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) throw usage(`${flag}: expected a positive ${integer ? 'integer' : 'number'}, got "${text}"`);
  return n;
}

/** `10%` → 0.1; a bare number is a fraction (0.1). */
function fraction(text: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)(%?)$/.exec(text.trim());
  const v = m === null ? Number.NaN : Number(m[1]) / (m[2] === '%' ? 100 : 1);
  if (!(v >= 0 && v <= 1)) throw usage(`${flag}: expected a percentage like 10% (or a fraction 0.1), got "${text}"`);
  return v;
}

function url(text: string, flag: string): URL {
  let u: URL;
  try { u = new URL(text); } catch { throw usage(`${flag}: "${text}" is not a URL (e.g. http://127.0.0.1:8080/)`); }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw usage(`${flag}: only http:// and https:// URLs, got "${text}"`);
  return u;
}

function scenarios(text: string): ScenarioName[] {
  if (text === 'all') return [...SCENARIOS];
  const names = text.split(',').map((s) => s.trim());
  for (const n of names) if (!(SCENARIOS as readonly string[]).includes(n)) throw usage(`--scenario: unknown "${n}" (one of ${SCENARIOS.join(', ')}, or all)`);
  return SCENARIOS.filter((s) => names.includes(s));
}

function headers(list: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const h of list) {
    const i = h.indexOf(':');
    if (i <= 0) throw usage(`--header: expected "name: value", got "${h}"`);
    out[h.slice(0, i).trim().toLowerCase()] = h.slice(i + 1).trim();
  }
  return out;
}

const stamp = () => new Date().toISOString().replace(/[:.]/g, '-').replace(/-\d{3}Z$/, 'Z');
const collect = (v: string, all: string[]) => [...all, v];

interface LoadtestFlags {
  target: string; scenario: string; rate: string; duration: string; connections: string; spikeFactor: string; spikeDuration: string;
  soakDuration: string; warmup: string; killCmd?: string; killAt?: string; restartCmd?: string; restartAt?: string; recoveryTimeout: string;
  recoveryTolerance: string; recoveryHold: string; latencyFloor: string; admin?: string; adminToken?: string; sampleInterval: string;
  leakThreshold: string; connLeakThreshold: string; sloP99: string; sloErrorRate: string; method: string; header: string[]; body?: string;
  timeout: string; maxInFlight: string; commandTimeout: string; out?: string;
}

/** Turns the flags into runLoadtest options; throws SWY_CLI_USAGE for the first bad one. */
export function loadtestOptions(f: LoadtestFlags, argv: string[]): LoadtestOptions & { out: string } {
  const holdMs = duration(f.recoveryHold, '--recovery-hold');
  return {
    target: {
      url: url(f.target, '--target'), method: f.method.toUpperCase(), headers: headers(f.header), body: f.body,
      connections: positive(f.connections, '--connections', true), timeoutMs: duration(f.timeout, '--timeout'),
      maxInFlight: positive(f.maxInFlight, '--max-in-flight', true),
    },
    scenarios: scenarios(f.scenario),
    rate: positive(f.rate, '--rate'), durationMs: duration(f.duration, '--duration'),
    spikeFactor: positive(f.spikeFactor, '--spike-factor'), spikeDurationMs: duration(f.spikeDuration, '--spike-duration'),
    soakDurationMs: duration(f.soakDuration, '--soak-duration'),
    warmupMs: durationOrZero(f.warmup, '--warmup'),
    killCmd: f.killCmd, killAtMs: f.killAt === undefined ? undefined : duration(f.killAt, '--kill-at'),
    restartCmd: f.restartCmd, restartAtMs: f.restartAt === undefined ? undefined : duration(f.restartAt, '--restart-at'),
    recoveryTimeoutMs: duration(f.recoveryTimeout, '--recovery-timeout'),
    criteria: { tolerance: fraction(f.recoveryTolerance, '--recovery-tolerance'), latencyFloorMs: durationOrZero(f.latencyFloor, '--latency-floor'), holdS: Math.max(1, Math.round(holdMs / 1000)) },
    leakThresholdBytesPerHour: parseBytes(f.leakThreshold, '--leak-threshold'),
    connectionLeakThresholdPerHour: positive(f.connLeakThreshold, '--conn-leak-threshold'),
    slo: { p99Ms: duration(f.sloP99, '--slo-p99'), errorRate: fraction(f.sloErrorRate, '--slo-error-rate') },
    admin: f.admin === undefined ? undefined : { url: url(f.admin, '--admin'), token: f.adminToken ?? process.env.SWITCHYARD_ADMIN_TOKEN },
    sampleIntervalMs: duration(f.sampleInterval, '--sample-interval'),
    commandTimeoutMs: duration(f.commandTimeout, '--command-timeout'),
    command: argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ').replace(/(--admin-token )\S+/, '$1***'),
    out: f.out ?? `loadtest-results/${stamp()}`,
  };
}

function registerLoadtest(program: Command, run: Run): void {
  program.command('loadtest')
    .description('open-loop load test of a running node: baseline, spike, soak, failover, recovery (the design\'s plan); writes result.json and report.html')
    .requiredOption('--target <url>', 'URL to load, e.g. http://127.0.0.1:8080/')
    .option('--scenario <name>', 'baseline | spike | soak | failover | recovery | all (or a comma list)', 'baseline')
    .option('--rate <n>', 'requests per second offered (the baseline rate)', '100')
    .option('--duration <d>', 'baseline length; also before/after a spike and the whole failover run', '60s')
    .option('--connections <n>', 'HTTP connections of the generator (undici Pool)', '32')
    .option('--spike-factor <x>', 'spike rate = factor × rate', '3')
    .option('--spike-duration <d>', 'how long the spike lasts (design: 5 minutes)', '5m')
    .option('--soak-duration <d>', 'soak length (design: 24 hours)', '24h')
    .option('--warmup <d>', 'load at the run\'s rate before each run, left out of every finding (JIT, connection set-up)', '0s')
    .option('--kill-cmd <cmd>', 'failover: shell command (/bin/sh -c) that kills an LB node or backend')
    .option('--kill-at <d>', 'failover: when to run --kill-cmd (default a third of --duration)')
    .option('--restart-cmd <cmd>', 'failover: shell command that brings it back')
    .option('--restart-at <d>', 'failover: when to run --restart-cmd (default two thirds of --duration)')
    .option('--recovery-timeout <d>', 'recovery: longest watch for throughput and p99 to come back', '5m')
    .option('--recovery-tolerance <pct>', 'recovery: "back" means within this of the baseline (design: 10%)', '10%')
    .option('--recovery-hold <d>', 'recovery: seconds judged together (their merged p99 and mean throughput)', '5s')
    .option('--latency-floor <d>', 'recovery: p99 also counts as back within this of the baseline (loopback jitter); 0 to disable', '1ms')
    .option('--admin <url>', 'the node\'s admin API (e.g. http://127.0.0.1:9901), sampled for memory and connections')
    .option('--admin-token <token>', 'admin Bearer token (or SWITCHYARD_ADMIN_TOKEN)')
    .option('--sample-interval <d>', 'admin sampling interval', '10s')
    .option('--leak-threshold <bytes>', 'soak: memory growth per hour reported as a leak', '10MiB')
    .option('--conn-leak-threshold <n>', 'soak: growth of open connections per hour reported', '100')
    .option('--slo-p99 <d>', 'capacity: highest acceptable p99', '100ms')
    .option('--slo-error-rate <pct>', 'capacity: highest acceptable error rate', '1%')
    .option('--method <m>', 'HTTP method', 'GET')
    .option('--header <h>', '"name: value" request header (repeatable)', collect, [] as string[])
    .option('--body <text>', 'request body')
    .option('--timeout <d>', 'per request: connect, headers and body timeout', '10s')
    .option('--max-in-flight <n>', 'requests in flight at most; beyond it the generator falls behind (and says so)', '10000')
    .option('--command-timeout <d>', 'a kill/restart command still running after this is killed', '60s')
    .option('--out <dir>', 'where result.json and report.html go (default loadtest-results/<time>)')
    .action((f: LoadtestFlags) => run(async () => {
      const o = loadtestOptions(f, ['switchyard', ...process.argv.slice(2)]);
      // Loaded here: the generator (undici, HDR histograms) and its reports are only for this command.
      const [{ runLoadtest }, { ProgressReporter }, { formatSummary, prepareOutDir, writeReportFiles }] = await Promise.all([
        import('../loadtest/run-loadtest.js'), import('../loadtest/progress.js'), import('../loadtest/report-files.js')]);
      prepareOutDir(o.out);
      const progress = new ProgressReporter(process.stderr);
      const abort = new AbortController();
      let interrupts = 0;
      const onSigint = () => {
        if (++interrupts > 1) process.exit(130);
        progress.message('interrupted: finishing in-flight requests and writing partial results (Ctrl-C again to quit now)');
        abort.abort();
      };
      process.on('SIGINT', onSigint);
      try {
        const result = await runLoadtest(o, { progress, signal: abort.signal });
        const files = writeReportFiles(o.out, result);
        process.stdout.write(formatSummary(result));
        process.stdout.write(`wrote ${files.json} and ${files.html}\n`);
      } finally {
        process.off('SIGINT', onSigint);
      }
    }));
}

interface CapacityFlags {
  qps: string; connections: string; bandwidth: string; growth: string; perNodeQps?: string; perNodeConnections?: string;
  perNodeBandwidth?: string; perNodeFrom?: string; memoryPerConnection?: string; perNodeMemory?: string; redundancy: string; zones?: string; json?: boolean; force?: boolean;
}

function registerCapacity(program: Command, run: Run): void {
  program.command('capacity')
    .description('nodes needed now and at each growth projection, per dimension, with the design\'s headroom and N+2')
    .requiredOption('--qps <n>', 'requests per second today (100000, 100k)')
    .requiredOption('--connections <n>', 'concurrent connections today (2M)')
    .requiredOption('--bandwidth <bw>', 'bandwidth today (10Gbps, 500Mbps)')
    .option('--growth <list>', 'projections: factor@horizon, e.g. 2x@1y,5x@3y', '2x@1y,5x@3y')
    .option('--per-node-qps <n>', 'one node\'s QPS at 100% CPU')
    .option('--per-node-connections <n>', 'one node\'s connection capacity')
    .option('--per-node-bandwidth <bw>', 'one node\'s bandwidth (e.g. 10Gbps)')
    .option('--per-node-from <result.json>', 'take the per-node QPS from a loadtest result (throughput within its SLO)')
    .option('--memory-per-connection <bytes>', 'with --per-node-memory: adds the memory dimension (e.g. 8KiB)')
    .option('--per-node-memory <bytes>', 'one node\'s memory (e.g. 16GiB)')
    .option('--redundancy <n>', 'spare nodes on top of the need (design: N+2)', '2')
    .option('--zones <n>', 'availability zones: adds nodes per zone so that losing one node, or one whole zone, keeps the headroom (N+1 per zone)')
    .option('--json', 'print the plan as JSON')
    .option('--force', 'plan from a --per-node-from result that did not saturate the node (a lower bound; warns)')
    .action((f: CapacityFlags) => run(async () => {
      const measured = f.perNodeFrom === undefined ? undefined : readMeasuredCapacity(f.perNodeFrom, f.force === true);
      if (measured?.warning !== undefined && f.perNodeQps === undefined) process.stderr.write(`\n${measured.warning}\n\n`);
      const need = (v: string | undefined, flag: string, hint = ''): string => {
        if (v === undefined) throw usage(`capacity: give ${flag}${hint}`);
        return v;
      };
      if ((f.memoryPerConnection === undefined) !== (f.perNodeMemory === undefined)) throw usage('capacity: --memory-per-connection and --per-node-memory go together');
      const demand = {
        qps: parseCount(f.qps, '--qps'), connections: parseCount(f.connections, '--connections'), bandwidthBps: parseBandwidth(f.bandwidth, '--bandwidth'),
      };
      // A given per-node QPS wins over the measured one.
      const perNodeQps = f.perNodeQps === undefined && measured !== undefined ? measured.qps
        : parseCount(need(f.perNodeQps, '--per-node-qps', ' (or --per-node-from result.json)'), '--per-node-qps');
      const perNode: NodeCapacity = {
        qps: perNodeQps,
        connections: parseCount(need(f.perNodeConnections, '--per-node-connections'), '--per-node-connections'),
        bandwidthBps: parseBandwidth(need(f.perNodeBandwidth, '--per-node-bandwidth'), '--per-node-bandwidth'),
        ...(f.perNodeMemory !== undefined ? { memoryBytes: parseBytes(f.perNodeMemory, '--per-node-memory') } : {}),
      };
      const redundancy = Number(f.redundancy);
      if (!Number.isInteger(redundancy) || redundancy < 0) throw usage(`--redundancy: expected a whole number ≥ 0, got "${f.redundancy}"`);
      const zones = f.zones === undefined ? undefined : Number(f.zones);
      if (zones !== undefined && (!Number.isInteger(zones) || zones < 1 || zones > 100)) throw usage(`--zones: expected a whole number 1–100, got "${f.zones}"`);
      const plan = planCapacity({
        ...demand, ...(f.memoryPerConnection !== undefined ? { memoryBytes: demand.connections * parseBytes(f.memoryPerConnection, '--memory-per-connection') } : {}),
      }, perNode, parseGrowth(f.growth), { redundancy, zones });
      const source = f.perNodeQps === undefined && measured !== undefined ? `QPS ${measured.source}` : 'given';
      process.stdout.write(f.json ? `${JSON.stringify({ ...plan, perNodeSource: source }, null, 2)}\n` : renderCapacityPlan(plan, source));
    }));
}

/** Adds `loadtest` and `capacity` to the CLI; `run` turns SwitchyardErrors into one line and exit 1. */
export function registerLoadtestCommands(program: Command, run: Run): void {
  registerLoadtest(program, run);
  registerCapacity(program, run);
}
