import type { Etcd3, Campaign } from 'etcd3';
import type { Logger } from 'pino';
import type { HealthMap } from '../upstream/health/source.js';
import { describeEtcdError } from '../util/etcd-errors.js';

/** The health document a zone's primary checker keeps under `PREFIX/health/<zone>` (JSON). */
export interface HealthDocument {
  checker: string;
  /** Publisher's clock, for people; consumers judge freshness by their own receive time. */
  at: string;
  states: HealthMap;
}

export const healthKey = (prefix: string, zone: string) => `${prefix}/health/${zone}`;
export const electionName = (prefix: string, zone: string) => `${prefix}/checkers/${zone}`;

/**
 * A checker node's part in the zone's election: every checker runs its own active checks (so a
 * secondary is warm), but only the elected primary publishes. It re-publishes every
 * `heartbeatMs` so LB nodes can tell a live checker from a dead one. When the primary dies its
 * election lease expires after `ttlS` and the next checker in line takes over.
 */
export class HealthPublisher {
  private campaign: Campaign | null = null;
  private leader = false;
  private heartbeat: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly client: Etcd3,
    private readonly prefix: string,
    private readonly zone: string,
    private readonly id: string,
    private readonly states: () => HealthMap,
    private readonly log: Logger,
    private readonly ttlS = 5,
    private readonly heartbeatMs = 1000,
  ) {}

  /** `primary` while elected, `standby` while waiting in line. */
  get role(): 'primary' | 'standby' { return this.leader ? 'primary' : 'standby'; }

  start(): void {
    if (this.stopped) return;
    const campaign = this.client.election(electionName(this.prefix, this.zone), this.ttlS).campaign(this.id);
    this.campaign = campaign;
    campaign.on('elected', () => {
      this.leader = true;
      this.log.info({ zone: this.zone, checker: this.id }, 'health checker: elected primary for the zone; publishing');
      void this.publish();
      this.heartbeat = setInterval(() => void this.publish(), this.heartbeatMs);
      this.heartbeat.unref();
    });
    campaign.on('error', (err: Error) => {
      this.demote();
      if (this.stopped) return;
      this.log.warn({ zone: this.zone, err: describeEtcdError(err) }, 'health checker: campaign failed; campaigning again');
      setTimeout(() => this.start(), 1000).unref();
    });
  }

  private demote(): void {
    this.leader = false;
    clearInterval(this.heartbeat);
    this.campaign = null;
  }

  /** A state changed: publish at once when primary. */
  changed(): void {
    if (this.leader) void this.publish();
  }

  private async publish(): Promise<void> {
    const doc: HealthDocument = { checker: this.id, at: new Date().toISOString(), states: this.states() };
    try {
      await this.client.put(healthKey(this.prefix, this.zone)).value(JSON.stringify(doc));
    } catch (e) {
      this.log.warn({ err: describeEtcdError(e) }, 'health checker: publishing failed');
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    const c = this.campaign;
    this.demote();
    try { await c?.resign(); } catch { /* the lease expires anyway */ }
  }
}
