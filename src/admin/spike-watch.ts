import type { Logger } from 'pino';
import type { Config } from '../config/schema.js';
import { SpikeDetector, type Spike, type SpikeChange, type SpikeOptions } from '../defence/spike-detector.js';
import { mergeTopKeys } from '../hotspot/top-keys.js';
import type { NodeView } from './node-view.js';
import type { AuditEntry } from './audit-log.js';

/*
 * Runs spike detection (defence/spike-detector.ts) on each collection of the node's stats: per
 * route (its request counter, with the top client prefixes the workers sampled) and per client
 * prefix (the sampled counts summed over routes, for the prefixes that made a route's top list).
 * Logs what it raises and clears, and — with `spikes.mitigate.enabled` — blocks the top client
 * prefixes of a spiking route for a bounded time through the node's temporary blocks, lifting
 * them when the spike ends (each step audited). Prefix spikes are reported only.
 */

/** What the watch may do to the node (absent: report only). */
export interface SpikeActions {
  block(cidr: string, ttlMs: number, reason: string): Promise<boolean>;
  /** Lifts a block this watch placed (false: gone already, or replaced by someone else's). */
  unblock(cidr: string): Promise<boolean>;
  audit?(e: AuditEntry): void;
}

/** Client prefixes given a baseline at most; the least recently seen beyond this are forgotten. */
const MAX_PREFIXES = 1024;

const optionsOf = (s: Config['spikes']): SpikeOptions => ({
  windowMs: s.window, factor: s.factor, clearFactor: s.clearFactor, minRate: s.minRate, timeConstantMs: s.baselineTimeConstant, warmupMs: s.warmup,
});

type Parts = Map<string, { key: string; count: number }[]>;

export class SpikeWatch {
  private routes: SpikeDetector | null = null;
  private prefixes: SpikeDetector | null = null;
  /** Per prefix: requests counted so far (from the sampled top lists), in least recently seen order. */
  private readonly prefixTotals = new Map<string, number>();
  /** Spikes raised since start, by kind and key (metrics). */
  private readonly raised = new Map<string, number>();
  /** Prefixes this watch blocked, by route. */
  private readonly mitigations = new Map<string, string[]>();
  /** The last collection's heaviest client prefixes per route, as request rates. */
  private top: Record<string, { prefix: string; rps: number }[]> = {};
  private lastAt: number | undefined;

  constructor(private readonly log: Logger, private readonly actions?: SpikeActions) {}

  /** After each collection (at: epoch ms). */
  onCollected(view: NodeView, at: number, config: Config): void {
    const s = config.spikes;
    if (!s.enabled) { this.routes = this.prefixes = null; this.prefixTotals.clear(); return; }
    if (this.routes === null || this.prefixes === null) {
      this.routes = new SpikeDetector(optionsOf(s), 'route');
      this.prefixes = new SpikeDetector(optionsOf(s), 'prefix', true);
    } else { this.routes.configure(optionsOf(s)); this.prefixes.configure(optionsOf(s)); }
    const last = view.latest;
    if (last === undefined) return;
    const totals = new Map<string, number>();
    for (const l of Object.values(last.counters.listeners)) for (const [route, n] of Object.entries(l.routes)) totals.set(route, (totals.get(route) ?? 0) + n);
    const byRoute: Parts = new Map([...last.prefixes].map(([route, lists]) => [route, mergeTopKeys(lists, 16)]));
    const seconds = this.lastAt === undefined ? 1 : Math.max(0.1, (at - this.lastAt) / 1000);
    this.lastAt = at;
    this.top = Object.fromEntries([...byRoute].map(([route, list]) => [route, list.slice(0, 5).map((p) => ({ prefix: p.key, rps: Math.round((p.count / seconds) * 10) / 10 }))]));
    const changes = [...this.routes.observe(at, totals, byRoute), ...this.prefixes.observe(at, this.countPrefixes(byRoute), byPrefix(byRoute))];
    for (const c of changes) this.report(c, s);
  }

  /** Adds this collection's prefix counts to the running totals; returns them (bounded). */
  private countPrefixes(byRoute: Parts): Map<string, number> {
    for (const list of byRoute.values()) {
      for (const { key, count } of list) {
        const n = (this.prefixTotals.get(key) ?? 0) + count;
        this.prefixTotals.delete(key); // re-inserted: most recently seen last
        this.prefixTotals.set(key, n);
      }
    }
    for (const key of this.prefixTotals.keys()) {
      if (this.prefixTotals.size <= MAX_PREFIXES) break;
      this.prefixTotals.delete(key);
    }
    return this.prefixTotals;
  }

  private report(c: SpikeChange, s: Config['spikes']): void {
    const { kind, key } = c.spike;
    if (c.change === 'raised') {
      this.raised.set(`${kind}\t${key}`, (this.raised.get(`${kind}\t${key}`) ?? 0) + 1);
      this.log.warn({ spike: c.spike }, `traffic spike: ${c.spike.text}`);
      if (kind === 'route' && s.mitigate.enabled) void this.mitigate(c.spike, s.mitigate);
      return;
    }
    this.log.info({ kind, key, activeMs: c.activeMs, peakRatio: c.spike.peakRatio }, `traffic spike over: ${kind} ${key} after ${Math.round(c.activeMs / 1000)} s`);
    if (kind === 'route') void this.lift(key);
  }

  private async mitigate(spike: Spike, m: Config['spikes']['mitigate']): Promise<void> {
    if (this.actions === undefined) return;
    const chosen = spike.top.filter((p) => p.share >= m.minShare).slice(0, m.maxPrefixes);
    const done: string[] = [];
    for (const p of chosen) {
      const ok = await this.actions.block(p.key, m.duration, `spike on route ${spike.key}: ${Math.round(p.share * 100)}% of ${spike.rate} req/s`);
      this.actions.audit?.({ action: 'spike-block', client: 'switchyard (spike mitigation)', target: p.key, result: ok ? 'ok' : 'failed', detail: spike.text });
      if (ok) done.push(p.key);
    }
    if (done.length > 0) {
      this.mitigations.set(spike.key, done);
      this.log.warn({ route: spike.key, blocked: done, forMs: m.duration }, `spike mitigation: blocked ${done.join(', ')}`);
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

  private active(): Spike[] {
    return [...(this.routes?.active() ?? []), ...(this.prefixes?.active() ?? [])];
  }

  /**
   * For the admin API and the dashboard: the spikes in force (routes first), the prefixes blocked
   * per route, and each route's top client prefixes in the last collection (sampled estimates).
   */
  snapshot(): { active: Spike[]; mitigations: Record<string, string[]>; topPrefixes: Record<string, { prefix: string; rps: number }[]> } {
    return { active: this.active(), mitigations: Object.fromEntries(this.mitigations), topPrefixes: this.top };
  }

  /** Gauges and counters for /metrics. */
  metrics(): { name: string; help: string; type?: 'counter'; values: { labels: Record<string, string | number>; value: number }[] }[] {
    const active = this.active();
    return [
      { name: 'switchyard_spike_active', help: 'Spikes in force: a route or client prefix whose request rate is far above its learned baseline (1 each)',
        values: active.map((s) => ({ labels: { kind: s.kind, key: s.key }, value: 1 })) },
      { name: 'switchyard_spike_ratio', help: 'Request rate of a spiking route or prefix as a multiple of its baseline (latest window)',
        values: active.map((s) => ({ labels: { kind: s.kind, key: s.key }, value: s.ratio })) },
      { name: 'switchyard_spikes_total', help: 'Spikes raised since start, by kind (route, prefix) and key', type: 'counter',
        values: [...this.raised].map(([k, v]) => ({ labels: { kind: k.split('\t')[0], key: k.split('\t')[1] }, value: v })) },
    ];
  }
}

/** The routes' top prefixes turned around: per prefix, the routes it sent requests to. */
function byPrefix(byRoute: Parts): Parts {
  const out: Parts = new Map();
  for (const [route, list] of byRoute) {
    for (const { key, count } of list) {
      let l = out.get(key);
      if (l === undefined) { l = []; out.set(key, l); }
      l.push({ key: route, count });
    }
  }
  return out;
}
