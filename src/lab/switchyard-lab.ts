import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { NetnsLab, waitFor, type LabProcess } from './netns.js';
import { AnycastLab, VIP } from './anycast-lab.js';
import { LAB_AGENT, startLabBackends, startProber, type Prober } from './probe.js';

/*
 * The whole anycast lab with real Switchyard nodes (what `switchyard lab anycast up|demo` runs):
 * client and router namespaces (BIRD, ECMP, BFD 100 ms × 3), N node namespaces each with its own
 * BIRD, two demo backends on its loopback and a Switchyard process announcing the VIP through its
 * BIRD; optionally `switchyard route-agent` on the router (resilient nexthop group). Nodes may be
 * built as standby (BIRD and backends, no Switchyard: never announced) to be started later.
 */

const CLI = fileURLToPath(new URL('../cli/main.js', import.meta.url));
export const LAB_PORT = 8080;
export const LAB_ADMIN = '127.0.0.1:9901';
export const AGENT_GROUP_ID = 10000;

/** Timings of a lab node's anycast block (short, so scenarios take seconds). */
export const LAB_ANYCAST = { holdDown: '1s', goAwayBeforeWithdraw: '1s', withdrawWait: '1s', pollInterval: '500ms' };

/** A lab node's Switchyard config: the VIP announced while ≥ 50 % of its two backends are healthy (tcp checks every 100 ms); `timings` override LAB_ANYCAST. */
export function labNodeConfig(birdSocket: string, timings: Partial<typeof LAB_ANYCAST> = {}): Record<string, unknown> {
  return {
    workers: 1,
    logLevel: 'warn',
    listeners: [{ name: 'web', address: `0.0.0.0:${LAB_PORT}` }],
    routes: [{ service: 'app' }],
    services: {
      app: {
        backends: [{ address: '127.0.0.1:9001' }, { address: '127.0.0.1:9002' }],
        // A refused connect fails at once; the long timeout only spares a loaded machine false alarms (flaps).
        healthCheck: { type: 'tcp', interval: '100ms', timeout: '500ms', unhealthyThreshold: 2, healthyThreshold: 2 },
      },
    },
    shutdown: { drainTimeout: '5s' },
    admin: { address: LAB_ADMIN },
    anycast: { vips: [`${VIP}/32`], bird: { socket: birdSocket, protocols: ['vip'] }, policy: [{ service: 'app', minHealthy: 0.5 }], ...LAB_ANYCAST, ...timings },
  };
}

/** A `lab-agent load` summary. */
export interface LoadResult { ok: number; failed: number; errors: Record<string, number>; closes: number }

export interface SwitchyardLabOptions {
  /** Nodes running Switchyard from the start (1..nodes). */
  nodes: number;
  /** Further nodes built without Switchyard (nodes+1..nodes+standby), for scale-out. */
  standby?: number;
  /** Start the route agent on the router. */
  resilient?: boolean;
  /** Namespace prefix (default: random). */
  prefix?: string;
}

/** A running lab; `destroy()` stops everything by PID and deletes every namespace. */
export class SwitchyardLab {
  readonly sy = new Map<number, LabProcess>();
  readonly backends = new Map<number, LabProcess>();
  readonly probes = new Map<number, Prober>();
  agent: LabProcess | undefined;

  private constructor(readonly lab: NetnsLab, readonly ac: AnycastLab) {}

  /** Builds the lab; on a failure everything built so far is removed before rejecting. */
  static async build(o: SwitchyardLabOptions): Promise<SwitchyardLab> {
    const lab = NetnsLab.create(o.prefix);
    const s = new SwitchyardLab(lab, new AnycastLab(lab, { client: true }));
    try {
      await s.ac.up();
      for (let i = 1; i <= o.nodes + (o.standby ?? 0); i++) {
        const n = await s.ac.addNode(i);
        await s.startBackends(i);
        s.probes.set(i, startProber(lab, n.ns, `probe-n${i}`));
        if (i <= o.nodes) s.startSwitchyard(i);
      }
      if (o.resilient) await s.startAgent();
      await s.waitRoute(o.nodes, 60_000);
    } catch (e) {
      await lab.destroy();
      throw e;
    }
    return s;
  }

  /** Starts (again) node `i`'s demo backends on 127.0.0.1:9001-9002 in its namespace. */
  async startBackends(i: number): Promise<void> {
    this.backends.set(i, await startLabBackends(this.lab, this.ac.node(i).ns, `backends-n${i}-${Date.now()}`, [9001, 9002]));
  }

  /** Starts (again) Switchyard on node `i`; it announces the VIP once ready for the hold-down. */
  startSwitchyard(i: number): LabProcess {
    const n = this.ac.node(i);
    const file = join(this.lab.dir, `switchyard-n${i}.yaml`);
    writeFileSync(file, stringify(labNodeConfig(n.bird.socket)));
    const p = this.lab.spawn(n.ns, `switchyard-n${i}-${Date.now()}`, process.execPath, [CLI, 'start', '-c', file]);
    this.sy.set(i, p);
    return p;
  }

  /** Starts `switchyard route-agent` on the router; resolves once its group carries the current route. */
  async startAgent(): Promise<void> {
    const p = this.lab.spawn(this.ac.router.ns, `route-agent-${Date.now()}`, process.execPath,
      [CLI, 'route-agent', '--prefix', `${VIP}/32`, '--group-id', String(AGENT_GROUP_ID), '--log-level', 'warn'], { ...process.env, SWITCHYARD_LOG_PRETTY: '0' });
    this.agent = p;
    await waitFor(async () => p.proc.exitCode === null && (await this.ac.routeDevs('bird')).join() === (await this.ac.routeDevs('250')).join(), 20_000, 50, `the route agent's group: ${p.output()}`);
  }

  /** Stops the route agent (it hands the VIP back to BIRD's multipath route). */
  async stopAgent(): Promise<void> {
    await this.agent?.stop();
    this.agent = undefined;
  }

  /** The interfaces of the route that forwards the VIP: the agent's group while it runs, else BIRD's multipath route. */
  route(): Promise<string[]> {
    return this.ac.routeDevs(this.agent !== undefined ? '250' : 'bird');
  }

  /** Waits until the forwarding route has `count` nexthops; resolves with the time waited (ms). */
  waitRoute(count: number, timeoutMs = 30_000): Promise<number> {
    let have: string[] = [];
    return waitFor(async () => { have = await this.route(); return have.length === count; }, timeoutMs, 10, `${count} nexthops (have ${have.join(',')})`);
  }

  /** Waits until node `i` is (or is not) a nexthop of the forwarding route; resolves with the time waited (ms). */
  waitNode(i: number, present: boolean, timeoutMs = 30_000): Promise<number> {
    return waitFor(async () => (await this.route()).includes(`n${i}`) === present, timeoutMs, 5, `n${i} ${present ? 'in' : 'out of'} the route`);
  }

  /** Node `i`'s own count of answered requests (sum of switchyard_requests_total), from its /metrics (3 tries: a loaded machine times some out); rejects when it does not answer. */
  async requests(i: number): Promise<number> {
    let last = '';
    for (let attempt = 0; attempt < 3; attempt++) {
      const a = await this.probes.get(i)!.get(`http://${LAB_ADMIN}/metrics`, 3000);
      if (a.status === 200 && a.body !== undefined) {
        return [...a.body.matchAll(/^switchyard_requests_total\{[^}]*\} (\d+)/gm)].reduce((sum, m) => sum + Number(m[1]), 0);
      }
      last = a.error ?? `HTTP ${a.status}`;
    }
    throw new Error(`n${i} /metrics did not answer: ${last}`);
  }

  /**
   * Starts a client load through the VIP (lab-agent `load`): `conns` loops, kept-alive or a new
   * connection per request, `pauseMs` between requests; ends after `maxSeconds` or `stopLoad()`.
   */
  load(name: string, conns: number, mode: 'keepalive' | 'new', pauseMs = 0, maxSeconds = 30): LabProcess {
    return this.lab.spawn(this.ac.client!, `load-${name}-${Date.now()}`, process.execPath,
      [LAB_AGENT, 'load', `http://${VIP}:${LAB_PORT}/`, String(conns), String(maxSeconds), mode, String(pauseMs)]);
  }

  /** Ends a load early (SIGTERM) and returns its summary. */
  async stopLoad(p: LabProcess): Promise<LoadResult> {
    await p.stop('SIGTERM', 10_000);
    const line = p.output().trim().split('\n').pop() ?? '';
    try { return JSON.parse(line) as LoadResult; } catch { throw new Error(`load ${p.name} printed no summary: ${p.output().slice(-500)}`); }
  }

  destroy(): Promise<void> { return this.lab.destroy(); }
}
