import { routerBirdConfig, nodeBirdConfig, type BgpTimers } from './bird-config.js';
import type { LabBird, NetnsLab } from './netns.js';

/*
 * The anycast topology on a NetnsLab (docs/anycast.md, "The lab"):
 *
 *   <p>-c  c0 10.10.0.2/24 ──veth── rc 10.10.0.1/24  <p>-r  router, AS 65000, BIRD, ECMP (L4 hash)
 *   <p>-r  n<i> 10.20.<i>.1/24 ──veth── eth0 10.20.<i>.2/24  <p>-n<i>  node i, AS 65100, BIRD, VIP on lo
 *
 * The router accepts any node of 10.20.0.0/16 (dynamic BGP), so nodes can be added while it
 * runs. What runs on a node besides BIRD (Switchyard, backends) is the caller's.
 */

export const ROUTER_AS = 65000;
export const NODE_AS = 65100;

/**
 * The lab's BGP/BFD timers: BFD 100 ms × 3, connect delay 1 s, error wait 1–5 s, connect retry
 * 2 s (BIRD's defaults take a minute or two to bring back a node that was cut off).
 */
export const LAB_TIMERS: BgpTimers = { bfd: { intervalMs: 100, multiplier: 3 }, connectDelayS: 1, errorWaitS: [1, 5], connectRetryS: 2 };

export interface AnycastLabOptions {
  /** The anycast VIP (IPv4 /32). Default 198.51.100.10/32. */
  vip?: string;
  timers?: BgpTimers;
  /** Also a client namespace behind the router. */
  client?: boolean;
  /** The router's BIRD installs the ECMP route (default); false leaves the FIB to another agent (e.g. resilient nexthop groups). */
  routerKernel?: boolean;
}

/** One node of the lab. */
export interface LabNode { index: number; ns: string; address: string; routerIf: string; bird: LabBird; protocol: string }

/** Builds and drives the router and nodes of an anycast lab. */
export class AnycastLab {
  readonly vip: string;
  readonly timers: BgpTimers;
  router!: { ns: string; bird: LabBird };
  client: string | undefined;
  readonly nodes = new Map<number, LabNode>();

  constructor(readonly lab: NetnsLab, private readonly o: AnycastLabOptions = {}) {
    this.vip = o.vip ?? '198.51.100.10/32';
    this.timers = o.timers ?? LAB_TIMERS;
  }

  /** The VIP's address (without the prefix length). */
  get vipAddress(): string { return this.vip.split('/')[0]; }

  /** Creates the router (and client) namespaces and starts the router's BIRD. */
  async up(): Promise<void> {
    const ns = await this.lab.addNamespace('r');
    await this.lab.sysctl(ns, 'net.ipv4.ip_forward', 1);
    await this.lab.sysctl(ns, 'net.ipv4.fib_multipath_hash_policy', 1); // L4: each TCP flow hashed on its ports too
    if (this.o.client) {
      this.client = await this.lab.addNamespace('c');
      await this.lab.veth({ ns: this.client, name: 'c0', address: '10.10.0.2/24' }, { ns, name: 'rc', address: '10.10.0.1/24' });
      await this.lab.ip(this.client, ['route', 'add', 'default', 'via', '10.10.0.1']);
    }
    const bird = await this.lab.startBird(ns, 'router', routerBirdConfig({
      routerId: '10.10.0.1', localAs: ROUTER_AS, neighborRange: '10.20.0.0/16', peerAs: NODE_AS, bfdInterfaces: 'n*',
      kernel: this.o.routerKernel, logFile: `${this.lab.dir}/router.log`, ...this.timers,
    }));
    this.router = { ns, bird };
  }

  /** Adds node `index` (1–250): namespace, link to the router, VIP on lo, its BIRD (VIP protocol disabled until enabled). */
  async addNode(index: number, protocol = 'vip'): Promise<LabNode> {
    if (!Number.isInteger(index) || index < 1 || index > 250) throw new Error(`node index ${index}: 1-250`);
    const ns = await this.lab.addNamespace(`n${index}`);
    const address = `10.20.${index}.2`;
    const routerIf = `n${index}`;
    await this.lab.veth({ ns: this.router.ns, name: routerIf, address: `10.20.${index}.1/24` }, { ns, name: 'eth0', address: `${address}/24` });
    await this.lab.ip(ns, ['addr', 'add', this.vip, 'dev', 'lo']);
    await this.lab.ip(ns, ['route', 'add', 'default', 'via', `10.20.${index}.1`]);
    const bird = await this.lab.startBird(ns, `n${index}`, nodeBirdConfig({
      routerId: address, localAddress: address, localAs: NODE_AS, neighbor: `10.20.${index}.1`, peerAs: ROUTER_AS, iface: 'eth0',
      vips: [this.vip], protocol, logFile: `${this.lab.dir}/n${index}-bird.log`, ...this.timers,
    }));
    const node = { index, ns, address, routerIf, bird, protocol };
    this.nodes.set(index, node);
    return node;
  }

  /** The router's nexthop interfaces for the VIP (`n1`, `n2`, …), sorted. */
  nexthops(): Promise<string[]> {
    return this.lab.nexthops(this.router.ns, this.vipAddress);
  }
}
