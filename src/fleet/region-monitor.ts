import type { Etcd3 } from 'etcd3';
import type { Logger } from 'pino';
import type { DnsConfig } from '../config/dns-schema.js';
import type { Clock } from '../util/clock.js';
import { listNodes } from './membership.js';
import { RegionDamper } from './region-damper.js';
import { probesPrefix } from './region-prober.js';
import { regionVerdicts, type ProbeReport, type RegionVerdict } from './region-verdict.js';

/** One region as the monitor last judged it. */
export interface RegionStatus extends RegionVerdict { name: string; state: 'up' | 'down' }

/**
 * Region health for the GeoDNS answers of this node: polls the fleet's member list and probe
 * reports in etcd every `pollMs`, judges each region (region-verdict.ts), damps flaps
 * (region-damper.ts) and reports the set of regions down whenever it changes. When etcd cannot
 * be read, the last set stays in force.
 */
export class RegionMonitor {
  private timer: NodeJS.Timeout | undefined;
  private readonly dampers = new Map<string, RegionDamper>();
  /** Probe report key → its last seq and when (our clock) it last moved. */
  private readonly seen = new Map<string, { seq: number; at: number }>();
  private down: string[] = [];
  private statuses: RegionStatus[] = [];
  private failing = false;
  private busy = false;

  constructor(private readonly client: Etcd3, private readonly prefix: string, private readonly dns: () => DnsConfig | undefined,
    private readonly clock: Clock, private readonly log: Logger, private readonly onDown: (down: string[]) => void, private readonly pollMs = 250) {}

  start(): void {
    this.timer = setInterval(() => { if (!this.busy) void this.poll(); }, this.pollMs);
    this.timer.unref();
  }

  /** The last judgement of every region. */
  status(): readonly RegionStatus[] { return this.statuses; }

  private async poll(): Promise<void> {
    const dns = this.dns();
    if (dns === undefined) return;
    this.busy = true;
    try {
      const [nodes, probes] = await Promise.all([listNodes(this.client, this.prefix), this.client.getAll().prefix(probesPrefix(this.prefix)).strings()]);
      if (this.failing) this.log.info('region health: etcd answers again');
      this.failing = false;
      this.judge(dns, nodes, this.fresh(dns, probes));
    } catch (e) {
      if (!this.failing) this.log.warn({ err: (e as Error).message }, 'region health: cannot read the fleet; keeping the last regions down');
      this.failing = true;
    } finally {
      this.busy = false;
    }
  }

  /** The reports whose seq moved within `staleAfter` (by our clock: no trust in the prober's). */
  private fresh(dns: DnsConfig, raw: Record<string, string>): ProbeReport[] {
    const now = this.clock.now();
    const out: ProbeReport[] = [];
    for (const key of this.seen.keys()) if (!(key in raw)) this.seen.delete(key);
    for (const [key, text] of Object.entries(raw)) {
      let r: ProbeReport;
      try { r = JSON.parse(text) as ProbeReport; } catch { continue; }
      const last = this.seen.get(key);
      if (last === undefined || last.seq !== r.seq) this.seen.set(key, { seq: r.seq, at: now });
      if (now - this.seen.get(key)!.at <= dns.health.staleAfter) out.push(r);
    }
    return out;
  }

  private judge(dns: DnsConfig, nodes: Parameters<typeof regionVerdicts>[1], fresh: ProbeReport[]): void {
    const verdicts = regionVerdicts(dns, nodes, fresh);
    // Dampers survive reloads unless the region or its hold-down settings changed.
    const keyOf = (name: string) => `${name}\t${dns.health.holdDown}\t${dns.health.maxHoldDown}`;
    const keys = new Set([...verdicts.keys()].map(keyOf));
    for (const k of this.dampers.keys()) if (!keys.has(k)) this.dampers.delete(k);
    this.statuses = [...verdicts].map(([name, v]) => {
      let d = this.dampers.get(keyOf(name));
      if (d === undefined) { d = new RegionDamper(this.clock, dns.health.holdDown, dns.health.maxHoldDown); this.dampers.set(keyOf(name), d); }
      return { name, ...v, state: d.update(v.up) };
    });
    const down = this.statuses.filter((s) => s.state === 'down').map((s) => s.name).sort();
    if (down.join() === this.down.join()) return;
    for (const s of this.statuses) {
      const was = this.down.includes(s.name) ? 'down' : 'up';
      if (was !== s.state) this.log.warn({ region: s.name, state: s.state, reason: s.reason, votesDown: s.votesDown, readyNodes: s.readyNodes }, `region ${s.name} is ${s.state}`);
    }
    this.down = down;
    this.onDown(down);
  }

  stop(): void { clearInterval(this.timer); }
}
