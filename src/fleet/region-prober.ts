import { request } from 'node:http';
import { connect } from 'node:net';
import type { Etcd3, Lease } from 'etcd3';
import type { Logger } from 'pino';
import type { DnsConfig } from '../config/dns-schema.js';
import { regionOfZone, type ProbeReport } from './region-verdict.js';

export const probesPrefix = (prefix: string) => `${prefix}/region-probes/`;

/** Whether `address:port` answers within `timeoutMs`: a TCP connect, or with `path` an HTTP GET answered 2xx/3xx. */
export function probeVip(address: string, port: number, path: string | undefined, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    if (path === undefined) {
      const s = connect({ host: address, port, timeout: timeoutMs });
      const done = (ok: boolean) => { s.destroy(); resolve(ok); };
      s.once('connect', () => done(true)).once('timeout', () => done(false)).once('error', () => done(false));
      return;
    }
    const req = request({ host: address, port, path, method: 'GET', timeout: timeoutMs, agent: false, headers: { 'user-agent': 'switchyard-region-probe' } }, (res) => {
      res.resume();
      resolve(res.statusCode !== undefined && res.statusCode < 400);
    });
    req.once('timeout', () => req.destroy()).once('error', () => resolve(false));
    req.end();
  });
}

/**
 * This node's prober: every `dns.health.probeInterval` it probes the VIPs of every other region
 * that has a `probe`, and writes what it saw to `PREFIX/region-probes/<node>` under a lease (a
 * dead prober's report disappears; a stuck one stops moving its `seq` and readers drop it).
 */
export class RegionProber {
  private timer: NodeJS.Timeout | undefined;
  private lease: Lease | null = null;
  private seq = 0;
  private stopped = false;

  constructor(private readonly client: Etcd3, private readonly prefix: string, private readonly node: string, private readonly zone: string,
    private readonly dns: () => DnsConfig | undefined, private readonly log: Logger, private readonly leaseTtlS: number) {}

  start(): void {
    const round = () => {
      const dns = this.dns();
      void (dns === undefined ? Promise.resolve() : this.round(dns)).finally(() => {
        if (!this.stopped) { this.timer = setTimeout(round, this.dns()?.health.probeInterval ?? 1000); this.timer.unref(); }
      });
    };
    round();
  }

  private async round(dns: DnsConfig): Promise<void> {
    const own = regionOfZone(dns, this.zone) ?? '';
    const targets = Object.entries(dns.regions).filter(([name, r]) => name !== own && r.probe !== undefined);
    if (targets.length === 0) return;
    const up: Record<string, boolean> = {};
    await Promise.all(targets.map(async ([name, r]) => {
      const results = await Promise.all(r.vips.map((v) => probeVip(v.address, r.probe!.port, r.probe!.path, dns.health.probeTimeout)));
      up[name] = results.some(Boolean);
    }));
    const report: ProbeReport = { node: this.node, region: own, seq: ++this.seq, up };
    try {
      this.lease ??= this.client.lease(this.leaseTtlS, { autoKeepAlive: true });
      await this.lease.put(`${probesPrefix(this.prefix)}${this.node}`).value(JSON.stringify(report));
    } catch (e) {
      const lease = this.lease;
      this.lease = null;
      lease?.release();
      this.log.warn({ err: (e as Error).message }, 'region prober: publishing failed');
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    try { await this.lease?.revoke(); } catch { /* expires with its TTL */ }
  }
}
