import { formatDuration } from '../config/duration.js';
import { DEFAULT_BASELINE_TIME_CONSTANT_MS, DEFAULT_BASELINE_WARMUP_MS, LatencyBaseline } from './baseline.js';

/*
 * Auto-scaling evaluator: the design's "Auto-Scaling Triggers" table (scalability-and-reliability.md)
 * as a pure state machine. The caller feeds load samples with their own time (`now`, ms, any
 * monotonic origin); there are no timers and no clock reads, so hours of load run in a unit test
 * in milliseconds, and the same module judges one node or a fleet read from etcd.
 *
 * It only decides. Carrying a decision out is the actuator's job (actuator.ts).
 */

export type ScaleAction = 'scale-out' | 'scale-in';
export type ScaleTrigger = 'cpu' | 'memory' | 'connections' | 'latency';

/** One node's load, as it reports it. Non-finite numbers are treated as "not reported". */
export interface NodeLoad {
  readonly id: string;
  readonly cpuPercent: number;
  readonly memoryPercent: number;
  /** Open client connections. */
  readonly connections: number;
  /** The node's connection limit; 0 (or less) means it has none and its connections are not counted. */
  readonly maxConnections: number;
  /** p99 request latency over the node's last reporting period; undefined when it served nothing. */
  readonly p99Ms: number | undefined;
}

/** The whole fleet at one instant. `now` must grow from sample to sample. */
export interface LoadSample {
  readonly now: number;
  readonly nodes: readonly NodeLoad[];
}

/** What the evaluator asks for. At most one per sample: one action, however many triggers agree. */
export interface Decision {
  readonly at: number;
  readonly action: ScaleAction;
  /** The trigger the action is charged to (it picks the cooldown); `reason` names every one that agreed. */
  readonly trigger: ScaleTrigger;
  readonly reason: string;
  /** That trigger's fleet value: percent for resources, ms for latency. */
  readonly value: number;
  readonly threshold: number;
  /** Nodes in the sample that decided. */
  readonly nodes: number;
}

/** Thresholds of one resource, in percent of capacity. */
export interface ResourceRule {
  readonly scaleOutAbove: number;
  readonly scaleOutForMs: number;
  readonly scaleInBelow: number;
  readonly scaleInForMs: number;
}

/** The latency trigger. It has no scale-in side (the design's table says N/A). */
export interface LatencyRule {
  /** Scale out when the fleet p99 exceeds this multiple of the learned baseline. */
  readonly p99Factor: number;
  readonly forMs: number;
  /** Time constant of the baseline's moving average (see baseline.ts). */
  readonly baselineTimeConstantMs: number;
  /** Samples needed before the baseline is trusted; the trigger is idle until then. */
  readonly baselineWarmupMs: number;
}

/** A trigger set to null is off: it neither scales out nor takes part in the scale-in vote. */
export interface ScalingPolicy {
  readonly cpu: ResourceRule | null;
  readonly memory: ResourceRule | null;
  readonly connections: ResourceRule | null;
  readonly latency: LatencyRule | null;
  /** Quiet time after a cpu, memory, connections or scale-in decision. */
  readonly cooldownMs: number;
  /** Quiet time after a latency-triggered decision. */
  readonly latencyCooldownMs: number;
  /** How often samples are expected; a gap over twice this restarts every window. */
  readonly sampleIntervalMs: number;
  /** Never ask to scale in at or below this many nodes. */
  readonly minNodes: number;
  /** Never ask to scale out at or above this many nodes (Infinity: no cap). */
  readonly maxNodes: number;
}

const MIN = 60_000;

/**
 * The design's table. Where it gives no duration (connections, latency) we use 5 min to scale out
 * and 15 min to scale in, the same as the CPU and memory rows, so no trigger is twitchier than the
 * others. Cooldown 10 min, 5 min after a latency-triggered action.
 */
export const DEFAULT_SCALING_POLICY: ScalingPolicy = Object.freeze({
  cpu: Object.freeze({ scaleOutAbove: 70, scaleOutForMs: 5 * MIN, scaleInBelow: 30, scaleInForMs: 15 * MIN }),
  memory: Object.freeze({ scaleOutAbove: 80, scaleOutForMs: 5 * MIN, scaleInBelow: 40, scaleInForMs: 15 * MIN }),
  connections: Object.freeze({ scaleOutAbove: 80, scaleOutForMs: 5 * MIN, scaleInBelow: 30, scaleInForMs: 15 * MIN }),
  latency: Object.freeze({
    p99Factor: 2, forMs: 5 * MIN,
    baselineTimeConstantMs: DEFAULT_BASELINE_TIME_CONSTANT_MS, baselineWarmupMs: DEFAULT_BASELINE_WARMUP_MS,
  }),
  cooldownMs: 10 * MIN,
  latencyCooldownMs: 5 * MIN,
  sampleIntervalMs: 10_000,
  minNodes: 1,
  maxNodes: Infinity,
});

/** The fleet's aggregate per trigger; undefined when no node reported it. */
export type FleetLoad = Record<ScaleTrigger, number | undefined>;

/**
 * Aggregates a fleet so capacity is judged on the fleet, not on its hottest node (one hot node is
 * the design's "Hot Spot Mitigation" problem, solved by balancing, not by adding nodes):
 * - cpu, memory: the mean over nodes (nodes are assumed to be of one size);
 * - connections: total connections / total limit, in percent, over nodes that have a limit;
 * - latency: the connection-weighted lower median of the nodes' p99 (equal weights when no node has
 *   connections). It exceeds a threshold exactly when nodes carrying more than half the connections
 *   are above it, so one slow node among three does not count as a fleet breach.
 * Pure; O(n log n) for the median.
 */
export function aggregateLoad(nodes: readonly NodeLoad[]): FleetLoad {
  const fin = Number.isFinite;
  const cpu = nodes.filter((n) => fin(n.cpuPercent));
  const mem = nodes.filter((n) => fin(n.memoryPercent));
  const conn = nodes.filter((n) => fin(n.connections) && fin(n.maxConnections) && n.maxConnections > 0);
  const maxTotal = conn.reduce((s, n) => s + n.maxConnections, 0);
  const lat = nodes.filter((n) => n.p99Ms !== undefined && fin(n.p99Ms) && n.p99Ms >= 0)
    .map((n) => ({ p99: n.p99Ms as number, w: fin(n.connections) && n.connections > 0 ? n.connections : 0 }))
    .sort((a, b) => a.p99 - b.p99);
  return {
    cpu: cpu.length ? cpu.reduce((s, n) => s + n.cpuPercent, 0) / cpu.length : undefined,
    memory: mem.length ? mem.reduce((s, n) => s + n.memoryPercent, 0) / mem.length : undefined,
    connections: maxTotal > 0 ? (100 * conn.reduce((s, n) => s + Math.max(0, n.connections), 0)) / maxTotal : undefined,
    latency: weightedLowerMedian(lat),
  };
}

function weightedLowerMedian(sorted: { p99: number; w: number }[]): number | undefined {
  if (sorted.length === 0) return undefined;
  const total = sorted.reduce((s, x) => s + x.w, 0);
  const weight = (x: { w: number }) => (total > 0 ? x.w : 1);
  const half = (total > 0 ? total : sorted.length) / 2;
  let acc = 0;
  for (const x of sorted) {
    acc += weight(x);
    if (acc >= half) return x.p99;
  }
  return sorted[sorted.length - 1].p99;
}

/** One condition's window: a threshold that must hold continuously for `forMs`. */
interface Window {
  readonly trigger: ScaleTrigger;
  readonly direction: 'out' | 'in';
  readonly forMs: number;
  /** Time of the first sample of the current unbroken run where the condition held; null if it does not hold. */
  since: number | null;
}

/** One side of a trigger, for the dashboard. */
export interface ConditionState {
  readonly threshold: number | undefined;
  readonly forMs: number;
  /** How long the condition has held, ms; null when it does not hold now. */
  readonly heldMs: number | null;
}

export interface TriggerState {
  /** Current fleet value (percent, or ms for latency); undefined when not reported. */
  readonly value: number | undefined;
  readonly scaleOut: ConditionState;
  /** null for latency, which has no scale-in side. */
  readonly scaleIn: ConditionState | null;
}

/** A snapshot for the dashboard and admin API. Plain data; safe to JSON.stringify. */
export interface EvaluatorState {
  /** `now` of the last accepted sample; undefined before the first. */
  readonly at: number | undefined;
  readonly nodes: number;
  readonly baselineP99Ms: number | undefined;
  /** Only the triggers the policy has on. */
  readonly triggers: Partial<Record<ScaleTrigger, TriggerState>>;
  readonly lastDecision: Decision | null;
  readonly cooldownRemainingMs: number;
}

const TRIGGERS: readonly ScaleTrigger[] = ['cpu', 'memory', 'connections', 'latency'];
const LABEL: Record<ScaleTrigger, string> = { cpu: 'mean CPU', memory: 'mean memory', connections: 'connections', latency: 'fleet p99' };

/**
 * `new ScalingEvaluator(policy = DEFAULT_SCALING_POLICY)`; throws RangeError for an invalid policy.
 * Feed it with `observe()`. The rules, where the design's table leaves them open:
 * - windows: a condition fires once it has held at every sample for its window; one sample that
 *   misses the threshold, a sample that lacks the metric, or a gap of more than 2 x
 *   sampleIntervalMs between samples restarts the window. Samples whose `now` does not grow are
 *   ignored (stale or reordered reads).
 * - scale-out on any trigger; the first in table order (cpu, memory, connections, latency) is
 *   charged, so a latency trigger only gets the shorter cooldown when nothing else agreed.
 * - scale-in only when every scale-in condition that is on (cpu, memory, connections) has held for
 *   its window, and the fleet p99 is not above its threshold. Removing a node raises the load on
 *   all the others, so one resource near idle does not make the fleet oversized; a resource with
 *   no data blocks scale-in.
 * - cooldown (the table has one column per row): after any decision, no decision in either
 *   direction until the cooldown of its trigger passed (10 min; 5 min when charged to latency;
 *   scale-in: 10 min).
 * - a decision restarts every window at its own time: evidence gathered before the fleet changed
 *   does not describe the new fleet, so a second action needs a full window after the first.
 * - minNodes/maxNodes suppress a decision (nothing is recorded, no cooldown starts).
 * Not for the hot path: called once per sample (seconds apart).
 */
export class ScalingEvaluator {
  private readonly policy: ScalingPolicy;
  private readonly baseline: LatencyBaseline | null;
  private readonly windows: Window[] = [];
  private values: FleetLoad = { cpu: undefined, memory: undefined, connections: undefined, latency: undefined };
  private lastNow: number | undefined;
  private nodeCount = 0;
  private last: Decision | null = null;
  private cooldownUntil = -Infinity;

  constructor(policy: ScalingPolicy = DEFAULT_SCALING_POLICY) {
    validatePolicy(policy);
    this.policy = policy;
    for (const t of TRIGGERS) {
      if (t === 'latency') {
        if (policy.latency) this.windows.push({ trigger: t, direction: 'out', forMs: policy.latency.forMs, since: null });
        continue;
      }
      const r = policy[t];
      if (!r) continue;
      this.windows.push({ trigger: t, direction: 'out', forMs: r.scaleOutForMs, since: null });
      this.windows.push({ trigger: t, direction: 'in', forMs: r.scaleInForMs, since: null });
    }
    const l = policy.latency;
    this.baseline = l ? new LatencyBaseline(l.baselineTimeConstantMs, l.baselineWarmupMs) : null;
  }

  /** The learned fleet p99 baseline, ms; undefined while the latency trigger is off or still warming up. */
  get baselineP99Ms(): number | undefined {
    return this.baseline?.valueMs;
  }

  /**
   * Takes one sample and returns the decision it completes, if any. Never throws on bad data:
   * non-finite numbers count as "not reported", an empty fleet decides nothing.
   */
  observe(sample: LoadSample): Decision | undefined {
    const { now } = sample;
    if (!Number.isFinite(now) || (this.lastNow !== undefined && now <= this.lastNow)) return undefined;
    const interval = this.policy.sampleIntervalMs;
    const gap = this.lastNow === undefined ? undefined : now - this.lastNow;
    const broken = gap !== undefined && gap > 2 * interval;
    if (broken) for (const w of this.windows) w.since = null;
    this.lastNow = now;
    this.nodeCount = sample.nodes.length;
    this.values = aggregateLoad(sample.nodes);

    // Thresholds come from the baseline as it stood before this sample.
    for (const w of this.windows) w.since = this.holds(w) ? (w.since ?? now) : null;

    const lat = this.values.latency;
    if (this.baseline && lat !== undefined && !this.latencyBreached()) {
      // One sample stands for the time since the previous one, but a long gap is not "hours of this value".
      this.baseline.add(lat, gap === undefined || broken ? interval : gap);
    }
    return this.decide(now);
  }

  /** A snapshot of every trigger, as of `now` (default: the last sample's time). */
  state(now: number | undefined = this.lastNow): EvaluatorState {
    const triggers: Partial<Record<ScaleTrigger, TriggerState>> = {};
    const cond = (w: Window | undefined): ConditionState | null => (w ? {
      threshold: this.threshold(w),
      forMs: w.forMs,
      heldMs: w.since === null ? null : Math.max(0, (now ?? w.since) - w.since),
    } : null);
    for (const t of TRIGGERS) {
      const out = this.windows.find((w) => w.trigger === t && w.direction === 'out');
      if (!out) continue;
      triggers[t] = {
        value: this.values[t],
        scaleOut: cond(out) as ConditionState,
        scaleIn: cond(this.windows.find((w) => w.trigger === t && w.direction === 'in')),
      };
    }
    return {
      at: this.lastNow,
      nodes: this.nodeCount,
      baselineP99Ms: this.baselineP99Ms,
      triggers,
      lastDecision: this.last,
      cooldownRemainingMs: now === undefined ? 0 : Math.max(0, this.cooldownUntil - now),
    };
  }

  private threshold(w: Window): number | undefined {
    if (w.trigger === 'latency') {
      const base = this.baseline?.valueMs;
      return base === undefined || !this.policy.latency ? undefined : base * this.policy.latency.p99Factor;
    }
    const r = this.policy[w.trigger] as ResourceRule;
    return w.direction === 'out' ? r.scaleOutAbove : r.scaleInBelow;
  }

  private holds(w: Window): boolean {
    const v = this.values[w.trigger];
    const t = this.threshold(w);
    if (v === undefined || t === undefined) return false;
    return w.direction === 'out' ? v > t : v < t;
  }

  private latencyBreached(): boolean {
    const w = this.windows.find((x) => x.trigger === 'latency');
    return w !== undefined && w.since !== null;
  }

  private decide(now: number): Decision | undefined {
    if (now < this.cooldownUntil) return undefined;
    const done = (w: Window) => w.since !== null && now - w.since >= w.forMs;
    const outs = this.windows.filter((w) => w.direction === 'out' && done(w));
    if (outs.length > 0) {
      return this.nodeCount >= this.policy.maxNodes ? undefined : this.commit(now, 'scale-out', outs);
    }
    const ins = this.windows.filter((w) => w.direction === 'in');
    if (ins.length === 0 || !ins.every(done) || this.latencyBreached()) return undefined;
    if (this.nodeCount <= this.policy.minNodes) return undefined;
    // Charged to the condition that completed last: the one that made it happen now.
    const last = ins.reduce((a, b) => ((b.since as number) + b.forMs > (a.since as number) + a.forMs ? b : a));
    return this.commit(now, 'scale-in', [last, ...ins.filter((w) => w !== last)]);
  }

  private commit(now: number, action: ScaleAction, why: Window[]): Decision {
    const primary = why[0];
    const sign = action === 'scale-out' ? '>' : '<';
    const parts = why.map((w) => `${LABEL[w.trigger]} ${fmt(w.trigger, this.values[w.trigger] as number)} ${sign} ${this.describeThreshold(w)} for ${formatDuration(w.forMs)}`);
    const lead = action === 'scale-in' ? 'every resource below its scale-in threshold: ' : '';
    const decision: Decision = Object.freeze({
      at: now,
      action,
      trigger: primary.trigger,
      reason: `${lead}${parts.join('; ')} (${this.nodeCount} node${this.nodeCount === 1 ? '' : 's'})`,
      value: this.values[primary.trigger] as number,
      threshold: this.threshold(primary) as number,
      nodes: this.nodeCount,
    });
    this.last = decision;
    const charged = primary.trigger === 'latency' ? this.policy.latencyCooldownMs : this.policy.cooldownMs;
    this.cooldownUntil = now + charged;
    for (const w of this.windows) w.since = w.since === null ? null : now;
    return decision;
  }

  private describeThreshold(w: Window): string {
    const t = this.threshold(w) as number;
    if (w.trigger !== 'latency') return `${round(t)}%${w.trigger === 'connections' ? ' of max' : ''}`;
    return `${this.policy.latency?.p99Factor}x baseline ${round(this.baselineP99Ms as number)}ms (${round(t)}ms)`;
  }
}

const round = (n: number) => String(Math.round(n * 10) / 10);
const fmt = (t: ScaleTrigger, v: number) => (t === 'latency' ? `${round(v)}ms` : `${round(v)}%`);

function validatePolicy(p: ScalingPolicy): void {
  const bad = (what: string, v: unknown) => { throw new RangeError(`scaling policy: ${what}, got ${v}`); };
  const dur = (v: number) => v >= 0 && Number.isFinite(v);
  for (const t of ['cpu', 'memory', 'connections'] as const) {
    const r = p[t];
    if (!r) continue;
    if (!(r.scaleOutAbove >= 0 && r.scaleOutAbove <= 100)) bad(`${t}.scaleOutAbove must be in [0, 100]`, r.scaleOutAbove);
    if (!(r.scaleInBelow >= 0 && r.scaleInBelow < r.scaleOutAbove)) bad(`${t}.scaleInBelow must be in [0, scaleOutAbove)`, r.scaleInBelow);
    if (!dur(r.scaleOutForMs)) bad(`${t}.scaleOutForMs must be >= 0`, r.scaleOutForMs);
    if (!dur(r.scaleInForMs)) bad(`${t}.scaleInForMs must be >= 0`, r.scaleInForMs);
  }
  const l = p.latency;
  if (l) {
    if (!(l.p99Factor > 1 && Number.isFinite(l.p99Factor))) bad('latency.p99Factor must be > 1', l.p99Factor);
    if (!dur(l.forMs)) bad('latency.forMs must be >= 0', l.forMs);
    // baselineTimeConstantMs and baselineWarmupMs are checked by LatencyBaseline.
  }
  if (!dur(p.cooldownMs)) bad('cooldownMs must be >= 0', p.cooldownMs);
  if (!dur(p.latencyCooldownMs)) bad('latencyCooldownMs must be >= 0', p.latencyCooldownMs);
  if (!(p.sampleIntervalMs > 0 && Number.isFinite(p.sampleIntervalMs))) bad('sampleIntervalMs must be > 0', p.sampleIntervalMs);
  if (!(Number.isInteger(p.minNodes) && p.minNodes >= 0)) bad('minNodes must be an integer >= 0', p.minNodes);
  if (!(p.maxNodes >= p.minNodes && p.maxNodes >= 1)) bad('maxNodes must be >= max(minNodes, 1)', p.maxNodes);
}
