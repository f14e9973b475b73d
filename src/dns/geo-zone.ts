import { isIP } from 'node:net';
import type { DnsConfig } from '../config/dns-schema.js';
import { addressBytes, CidrTable } from '../util/cidr-table.js';
import type { Random } from '../util/random.js';

/** What a name in the zone is. */
export type NameKind = 'apex' | 'geo' | 'glue' | 'unknown' | 'outside';

/** The region chosen for a client, and how many leading bits of its address decided it (ECS scope). */
export interface RegionChoice { region: string; scope: number; failedOpen: boolean }

/** A VIP with its wire form (the responder's fast path copies the bytes). */
export interface Vip { address: string; weight: number; bytes: Uint8Array }

/**
 * A `dns` block compiled for answering: which names it holds, the client subnet table, each
 * region's fallback order and VIPs by family. Built once per config (see `geoZoneOf`); pure apart
 * from the injected randomness of weighted answer order.
 */
export class GeoZone {
  readonly zone: string;
  private readonly geo: Set<string>;
  private readonly wildcards: string[];
  private readonly glue = new Map<string, string[]>();
  private readonly table = new CidrTable<string>();
  private readonly vips = new Map<string, { 4: Vip[]; 6: Vip[] }>();

  constructor(readonly config: DnsConfig, private readonly random: Random) {
    this.zone = config.zone;
    const abs = (n: string) => (n === '@' ? this.zone : `${n.toLowerCase()}.${this.zone}`);
    this.geo = new Set(config.names.filter((n) => !n.startsWith('*.')).map(abs));
    this.wildcards = config.names.filter((n) => n.startsWith('*.')).map((n) => `.${abs(n.slice(2))}`);
    for (const ns of config.nameservers) if (this.inZone(ns.name)) this.glue.set(ns.name, ns.addresses);
    for (const s of config.clientSubnets) this.table.add(s.cidr, s.region);
    for (const [name, r] of Object.entries(config.regions)) {
      const vips = r.vips.map((v) => ({ ...v, bytes: addressBytes(v.address)! }));
      this.vips.set(name, { 4: vips.filter((v) => isIP(v.address) === 4), 6: vips.filter((v) => isIP(v.address) === 6) });
    }
  }

  /** True for the apex and every name below it. */
  inZone(name: string): boolean {
    return name === this.zone || name.endsWith(`.${this.zone}`);
  }

  /** `name` lower-cased, without a trailing dot. */
  kind(name: string): NameKind {
    if (!this.inZone(name)) return 'outside';
    if (this.geo.has(name)) return 'geo';
    if (this.glue.has(name)) return 'glue';
    if (this.wildcards.some((w) => name.endsWith(w))) return 'geo';
    return name === this.zone ? 'apex' : 'unknown';
  }

  /** Glue addresses of an in-zone name server. */
  glueOf(name: string): readonly string[] { return this.glue.get(name) ?? []; }

  /**
   * The client's region (longest subnet match, else `defaultRegion`), then the first of it and
   * its fallbacks that is not down. When all are down the client's own region is answered
   * (failing open: an answer that may work beats none).
   */
  choose(client: Uint8Array, sourcePrefix: number, down: ReadonlySet<string>): RegionChoice {
    const m = this.table.lookup(client, sourcePrefix);
    const home = m.value ?? this.config.defaultRegion;
    for (const r of [home, ...this.config.regions[home].fallback]) {
      if (!down.has(r)) return { region: r, scope: m.scope, failedOpen: false };
    }
    return { region: home, scope: m.scope, failedOpen: true };
  }

  /** Up to `maxAnswers` VIPs of `region` of one family, ordered by a weighted random draw. */
  addresses(region: string, family: 4 | 6): Vip[] {
    const pool = [...(this.vips.get(region)?.[family] ?? [])];
    const out: Vip[] = [];
    let total = pool.reduce((s, v) => s + v.weight, 0);
    while (pool.length > 0 && out.length < this.config.maxAnswers) {
      let x = this.random() * total;
      let i = 0;
      while (i < pool.length - 1 && x >= pool[i].weight) { x -= pool[i].weight; i++; }
      out.push(pool[i]);
      total -= pool[i].weight;
      pool.splice(i, 1);
    }
    return out;
  }
}

const compiled = new WeakMap<DnsConfig, GeoZone>();

/** The compiled zone of a config's `dns` block (cached per block: a reload compiles once). */
export function geoZoneOf(config: DnsConfig, random: Random): GeoZone {
  let z = compiled.get(config);
  if (z === undefined) { z = new GeoZone(config, random); compiled.set(config, z); }
  return z;
}
