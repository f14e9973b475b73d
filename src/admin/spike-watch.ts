import type { Logger } from 'pino';
import type { Config } from '../config/schema.js';
import { SpikeDetector, type RouteSpike, type SpikeOptions } from '../defence/spike-detector.js';
import { mergeTopKeys } from '../hotspot/top-keys.js';
import type { NodeView } from './node-view.js';
import type { AuditEntry } from './audit-log.js';

/*
 * Runs spike detection (defence/spike-detector.ts) on each collection of the node's stats, logs
 * what it raises and clears, and — with `spikes.mitigate.enabled` — blocks the top client
 * prefixes of a spiking route for a bounded time through the node's temporary blocks, lifting
 * them when the spike ends (each step audited).
 */

/** What the watch may do to the node (absent: report only). */
export interface SpikeActions {
  block(cidr: string, ttlMs: number, reason: string): Promise<boolean>;
  /** Lifts a block this watch placed (false: gone already, or replaced by someone else's). */
  unblock(cidr: string): Promise<boolean>;
  audit?(e: AuditEntry): void;
}

const optionsOf = (s: Config['spikes']): SpikeOptions => ({
  windowMs: s.window, factor: s.factor, clearFactor: s.clearFactor, minRate: s.minRate, timeConstantMs: s.baselineTimeConstant, warmupMs: s.warmup,
});

export class SpikeWatch {
  private detector: SpikeDetector | null = null;
  /** Spikes raised since start, by route (metrics). */
  private readonly raised = new Map<string, number>();
  /** Prefixes this watch blocked, by route. */
  private readonly mitigations = new Map<string, string[]>();

  constructor(private readonly log: Logger, private readonly actions?: SpikeActions) {}

  /** After each collection (at: epoch ms). */
  onCollected(view: NodeView, at: number, config: Config): void {
    const s = config.spikes;
    if (!s.enabled) { this.detector = null; return; }
    if (this.detector === null) this.detector = new SpikeDetector(optionsOf(s)); else this.detector.configure(optionsOf(s));
    const last = view.latest;
    if (last === undefined) return;
    const totals = new Map<string, number>();
    for (const l of Object.values(last.counters.listeners)) for (const [route, n] of Object.entries(l.routes)) totals.set(route, (totals.get(route) ?? 0) + n);
    const prefixes = new Map([...last.prefixes].map(([route, lists]) => [route, mergeTopKeys(lists, 16)]));
    for (const c of this.detector.observe(at, totals, prefixes)) {
      if (c.kind === 'raised') {
        this.raised.set(c.spike.route, (this.raised.get(c.spike.route) ?? 0) + 1);
        this.log.warn({ spike: c.spike }, `traffic spike: ${c.spike.text}`);
        if (s.mitigate.enabled) void this.mitigate(c.spike, s.mitigate);
      } else {
        this.log.info({ route: c.spike.route, activeMs: c.activeMs, peakRatio: c.spike.peakRatio }, `traffic spike over: route ${c.spike.route} after ${Math.round(c.activeMs / 1000)} s`);
        void this.lift(c.spike.route);
      }
    }
  }

  private async mitigate(spike: RouteSpike, m: Config['spikes']['mitigate']): Promise<void> {
    if (this.actions === undefined) return;
    const chosen = spike.topPrefixes.filter((p) => p.share >= m.minShare).slice(0, m.maxPrefixes);
    const done: string[] = [];
    for (const p of chosen) {
      const ok = await this.actions.block(p.prefix, m.duration, `spike on route ${spike.route}: ${Math.round(p.share * 100)}% of ${spike.rate} req/s`);
      this.actions.audit?.({ action: 'spike-block', client: 'switchyard (spike mitigation)', target: p.prefix, result: ok ? 'ok' : 'failed', detail: spike.text });
      if (ok) done.push(p.prefix);
    }
    if (done.length > 0) {
      this.mitigations.set(spike.route, done);
      this.log.warn({ route: spike.route, blocked: done, forMs: m.duration }, `spike mitigation: blocked ${done.join(', ')}`);
    }
  }

  private async lift(route: string): Promise<void> {
    const blocked = this.mitigations.get(route);
    if (blocked === undefined || this.actions === undefined) return;
    this.mitigations.delete(route);
    for (const cidr of blocked) {
      const ok = await this.actions.unblock(cidr);
      this.actions.audit?.({ action: 'spike-unblock', client: 'switchyard (spike mitigation)', target: cidr, result: ok ? 'ok' : 'failed', detail: ok ? `spike on route ${route} over` : 'block already gone' });
    }
    this.log.info({ route, lifted: blocked }, `spike mitigation lifted: ${blocked.join(', ')}`);
  }

  /** For the admin API and the dashboard. */
  snapshot(): { active: RouteSpike[]; mitigations: Record<string, string[]> } {
    return { active: this.detector?.active() ?? [], mitigations: Object.fromEntries(this.mitigations) };
  }

  /** Gauges and counters for /metrics. */
  metrics(): { name: string; help: string; values: { labels: Record<string, string | number>; value: number }[] }[] {
    const active = this.detector?.active() ?? [];
    return [
      { name: 'switchyard_spike_active', help: 'Routes whose request rate is in a spike against their learned baseline (1 per route)',
        values: active.map((s) => ({ labels: { route: s.route }, value: 1 })) },
      { name: 'switchyard_spike_ratio', help: 'Request rate of a spiking route as a multiple of its baseline (latest window)',
        values: active.map((s) => ({ labels: { route: s.route }, value: s.ratio })) },
      { name: 'switchyard_spikes_total', help: 'Spikes raised since start, by route',
        values: [...this.raised].map(([route, v]) => ({ labels: { route }, value: v })) },
    ];
  }
}
