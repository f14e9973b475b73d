import { availableParallelism, totalmem } from 'node:os';
import type { Logger } from 'pino';
import type { Config } from '../config/schema.js';
import { HotspotDetector, type HotspotMitigation } from '../hotspot/detector.js';
import { hotspotOptions } from '../hotspot/options.js';
import { mergeTopKeys } from '../hotspot/top-keys.js';
import { ScalingEvaluator, type Decision, type NodeLoad } from '../scaling/evaluator.js';
import { actuatorConfigFromConfig, policyFromConfig } from '../scaling/from-config.js';
import { createActuator, type Actuator, type ActuationResult } from '../scaling/actuator.js';
import { diffTraffic, emptyTraffic, quantileMs, type TrafficSnapshot } from '../observe/stats.js';
import type { NodeView } from './node-view.js';
import { SpikeWatch, type SpikeActions } from './spike-watch.js';

const HASHED = new Set(['ring-hash', 'maglev', 'bounded-load']);

interface WindowState { start: number; base: Map<string, TrafficSnapshot>; keys: Map<string, { key: string; count: number }[][]> }

export interface SignalsOptions {
  /** The fleet's other nodes' load (from the member list); undefined: decide for this node alone. */
  fleet?: () => Promise<NodeLoad[]>;
  /** Whether this node carries out decisions (in a fleet: only the elected checker does). */
  mayActuate?: () => boolean;
  nodeId: string;
  /** Applies a service's hot-spot mitigation on every worker. */
  mitigate?: (service: string, m: HotspotMitigation) => void;
  /** Temporary blocks for spike mitigation (absent: spikes are only reported). */
  spikeActions?: SpikeActions;
}

/**
 * Turns the collected stats into the design's signals: hot spots per service (skew against
 * weight, with the cause) and auto-scaling decisions, which it logs, exposes and, when
 * configured, hands to the actuator. Runs in the primary after each collection.
 */
export class Signals {
  private readonly hotspots = new HotspotDetector();
  private readonly windows = new Map<string, WindowState>();
  private scaling: ScalingEvaluator | null = null;
  private actuator: Actuator | null = null;
  private scalingKey = '';
  private lastSample = 0;
  private readonly decisions: (Decision & { result?: ActuationResult; actuated: boolean })[] = [];
  /** Decisions since start by `action\ttrigger`. */
  private readonly decisionCounts: Record<string, number> = {};
  private readonly applied = new Map<string, string>();
  private readonly spikes: SpikeWatch;

  constructor(private readonly log: Logger, private readonly config: () => Config, private readonly o: SignalsOptions) {
    this.spikes = new SpikeWatch(log, o.spikeActions);
  }

  /** After each collection. */
  onCollected(view: NodeView, at: number): void {
    const config = this.config();
    this.hotspotWindows(view, at, config);
    this.autoscale(view, at, config);
    this.spikes.onCollected(view, at, config);
  }

  private hotspotWindows(view: NodeView, at: number, config: Config): void {
    const last = view.latest;
    if (last === undefined) return;
    for (const [name, svc] of Object.entries(config.services)) {
      if (!svc.hotspot.enabled) { this.windows.delete(name); continue; }
      this.hotspots.configure(name, hotspotOptions(svc.hotspot));
      const seen = last.services.get(name);
      if (seen === undefined) continue;
      let w = this.windows.get(name);
      if (w === undefined) {
        w = { start: at, base: new Map([...seen.backends].map(([k, b]) => [k, b.traffic])), keys: new Map() };
        this.windows.set(name, w);
        continue;
      }
      for (const [k, lists] of last.topKeys) {
        const [s, backend] = k.split('\t');
        if (s === name) w.keys.set(backend, [...(w.keys.get(backend) ?? []), ...lists]);
      }
      if (at - w.start < svc.hotspot.window) continue;
      const backends = [...seen.backends.values()].filter((b) => !b.draining && b.health === 'healthy').map((b) => {
        const d = diffTraffic(b.traffic, w!.base.get(b.key) ?? emptyTraffic());
        const keys = w!.keys.get(b.key);
        return {
          key: b.key, weight: b.weight, requests: d.requests, p99Ms: quantileMs(d.latency, 0.99), p50Ms: quantileMs(d.latency, 0.5),
          topKeys: keys === undefined ? undefined : mergeTopKeys(keys, 8),
        };
      });
      const algorithm = svc.balancer.algorithm;
      try {
        for (const c of this.hotspots.observe(name, { now: at, hashed: HASHED.has(algorithm), boundedLoad: algorithm === 'bounded-load', backends })) {
          if (c.kind === 'raised') this.log.warn({ signal: c.signal }, `hot spot: ${name}/${c.signal.backend} (${c.signal.cause}): ${c.signal.detail.text}`);
          else this.log.info({ service: name, backend: c.backend, activeMs: c.activeMs }, `hot spot cleared: ${name}/${c.backend}`);
        }
      } catch (e) {
        this.log.debug({ err: (e as Error).message }, 'hot spot window skipped');
      }
      if (svc.hotspot.mitigate !== 'off' && this.o.mitigate !== undefined) {
        const m = this.hotspots.mitigation(name);
        const key = JSON.stringify(m);
        if (this.applied.get(name) !== key) { this.applied.set(name, key); this.o.mitigate(name, m); this.log.warn({ service: name, mitigation: m }, `hot-spot mitigation for ${name}`); }
      }
      this.windows.set(name, { start: at, base: new Map([...seen.backends].map(([k, b]) => [k, b.traffic])), keys: new Map() });
    }
    for (const name of [...this.windows.keys()]) if (!(name in config.services)) { this.windows.delete(name); this.hotspots.remove(name); }
  }

  private autoscale(view: NodeView, at: number, config: Config): void {
    const a = config.autoscaling;
    if (!a.enabled) { this.scaling = null; return; }
    const key = JSON.stringify(a);
    if (this.scaling === null || key !== this.scalingKey) {
      this.scaling = new ScalingEvaluator(policyFromConfig(a));
      this.actuator = createActuator(actuatorConfigFromConfig(a));
      this.scalingKey = key;
    }
    if (at - this.lastSample < a.sampleInterval) return;
    this.lastSample = at;
    const maxConnections = config.listeners.reduce((s, l) => s + l.maxConnections, 0);
    const own = view.load(maxConnections, availableParallelism(), totalmem());
    if (own === undefined) return;
    const self: NodeLoad = { id: this.o.nodeId, ...own };
    const evaluate = (others: NodeLoad[]) => {
      const d = this.scaling?.observe({ now: at, nodes: [self, ...others.filter((n) => n.id !== self.id)] });
      if (d === undefined) return;
      const actuated = this.o.mayActuate?.() ?? true;
      const entry: Decision & { result?: ActuationResult; actuated: boolean } = { ...d, actuated };
      this.decisions.unshift(entry);
      this.decisions.length = Math.min(this.decisions.length, 20);
      // Counted apart from the list above, which keeps only the last 20: a counter never falls.
      const k = `${d.action}\t${d.trigger}`;
      this.decisionCounts[k] = (this.decisionCounts[k] ?? 0) + 1;
      this.log.warn({ decision: d, actuated }, `auto-scaling: ${d.action} (${d.reason})`);
      if (actuated && this.actuator !== null) {
        void this.actuator.run(d).then((r) => {
          entry.result = r;
          this.log[r.ok ? 'info' : 'error']({ result: r }, `auto-scaling actuator: ${r.ok ? 'done' : 'failed'}`);
        });
      }
    };
    if (this.o.fleet === undefined) { evaluate([]); return; }
    void this.o.fleet().then(evaluate, () => evaluate([]));
  }

  /** For the admin API, the dashboard and metrics. */
  snapshot(): Record<string, unknown> {
    return {
      hotspots: this.hotspots.signals(),
      spikes: this.spikes.snapshot(),
      scaling: this.scaling === null ? null : { ...this.scaling.state(), decisions: this.decisions },
    };
  }

  /** Series for /metrics (gauges unless `type` says otherwise). */
  metrics(): { name: string; help: string; type?: 'counter' | 'gauge'; values: { labels: Record<string, string | number>; value: number }[] }[] {
    const hs = this.hotspots.signals();
    const state = this.scaling?.state();
    return [
      ...this.spikes.metrics(),
      { name: 'switchyard_hotspot_active', help: 'Active hot-spot signals (1 per backend), by cause',
        values: hs.map((s) => ({ labels: { service: s.service, backend: s.backend, cause: s.cause }, value: 1 })) },
      { name: 'switchyard_autoscaling_decisions_total', help: 'Auto-scaling decisions since start, by action and trigger', type: 'counter',
        values: Object.entries(this.decisionCounts)
          .map(([k, v]) => ({ labels: { action: k.split('\t')[0], trigger: k.split('\t')[1] }, value: v })) },
      { name: 'switchyard_autoscaling_baseline_p99_seconds', help: 'Learned p99 baseline of the latency trigger',
        values: state?.baselineP99Ms === undefined ? [] : [{ labels: {}, value: state.baselineP99Ms / 1000 }] },
    ];
  }
}
