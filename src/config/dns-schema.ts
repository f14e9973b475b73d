import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { z } from 'zod';
import { duration } from './resilience-schema.js';
import { parseCidr } from '../util/cidr-table.js';

/*
 * The `dns` block: the zone a `protocol: dns` listener answers (GeoDNS, see docs/regions.md).
 * Names under the zone answer A/AAAA with the VIPs of the best healthy region for the client
 * (client subnet → region, then the region's fallback order); the zone's SOA and NS come from here.
 */

const label = /^(?!-)[a-z0-9_-]{1,63}(?<!-)$/;
/** A host name, lower-cased, without the trailing dot. */
const hostName = z.string().transform((s, ctx) => {
  const n = s.trim().toLowerCase().replace(/\.$/, '');
  if (n.length === 0 || n.length > 253 || !n.split('.').every((l) => label.test(l))) {
    ctx.addIssue({ code: 'custom', message: `expected a DNS name like example.com, got "${s}"` });
    return z.NEVER;
  }
  return n;
});
const ipAddress = z.string().refine((s) => isIP(s) !== 0, { message: 'expected an IPv4 or IPv6 address' });
const regionName = z.string().regex(/^[A-Za-z0-9_.-]+$/, 'region names use letters, digits, _ . -');
const cidr = z.string().refine((s) => parseCidr(s) !== undefined, { message: 'expected a CIDR like 10.0.0.0/8 or 2001:db8::/32' });

/** Lines of `CIDR REGION` (blank lines and `#` comments skipped); throws naming the first bad line. */
export function parseSubnetFile(text: string): { cidr: string; region: string }[] {
  const out: { cidr: string; region: string }[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/#.*/, '').trim();
    if (line === '') return;
    const [c, region, ...rest] = line.split(/[\s,]+/);
    if (region === undefined || rest.length > 0 || parseCidr(c) === undefined || !/^[A-Za-z0-9_.-]+$/.test(region)) {
      throw new Error(`line ${i + 1}: expected "CIDR REGION", got "${raw.trim().slice(0, 80)}"`);
    }
    out.push({ cidr: c, region });
  });
  return out;
}

const RegionSchema = z.strictObject({
  vips: z.array(z.union([ipAddress.transform((address) => ({ address, weight: 1 })), z.strictObject({
    address: ipAddress,
    weight: z.number().int().min(1).max(10_000).default(1),
  })])).min(1).describe('the region\'s (anycast) VIPs answered for A (IPv4) and AAAA (IPv6); an entry is an address or {address, weight}: answers are ordered by weighted random draw'),
  fallback: z.array(regionName).default([])
    .describe('regions to answer, in order, for this region\'s clients while it is down'),
  zones: z.array(z.string().min(1)).default([])
    .describe('fleet zones (`--zone`) whose nodes make up the region: its health needs one of them ready'),
  probe: z.strictObject({
    port: z.number().int().min(1).max(65535),
    path: z.string().startsWith('/').optional().describe('HTTP GET this path (2xx/3xx = up); absent: a TCP connect'),
  }).optional().describe('how nodes of other regions probe this region\'s VIPs (absent: membership alone decides)'),
});

export const DnsSchema = z.strictObject({
  zone: hostName.describe('the zone answered (e.g. geo.example.com); names outside it get REFUSED'),
  ttl: duration('30s', '24h').describe('TTL of the answers (and the negative-caching TTL in the SOA)'),
  names: z.array(z.string().regex(/^(@|(\*\.)?[a-z0-9_.-]+)$/i, 'a name relative to the zone, or @ for the apex')).min(1)
    .describe('names answered with the VIPs of the client\'s best healthy region (relative to the zone; @ = the apex); other names in the zone get NXDOMAIN'),
  nameservers: z.array(z.strictObject({
    name: hostName,
    addresses: z.array(ipAddress).default([]).describe('glue: answered for the name when it lies inside the zone'),
  })).min(1).describe('the NS records of the zone (every Switchyard node serving it)'),
  soa: z.strictObject({
    contact: hostName.optional().describe('the SOA RNAME (hostmaster.example.com); default hostmaster.<zone>'),
    serial: z.number().int().min(1).max(4_294_967_295).default(1).describe('bump it when the zone changes for a secondary provider'),
    refresh: duration('1h', '168h'), retry: duration('15m', '168h'), expire: duration('168h', '576h'),
  }).prefault({}),
  regions: z.record(regionName, RegionSchema).refine((r) => Object.keys(r).length > 0, 'give at least one region'),
  defaultRegion: regionName.describe('the region of clients no subnet matches'),
  clientSubnets: z.array(z.strictObject({ cidr, region: regionName })).default([])
    .describe('client subnet → region; the longest matching prefix wins'),
  clientSubnetsFile: z.string().min(1).optional()
    .describe('more subnets from a file of "CIDR REGION" lines (e.g. a GeoIP export), read when the config loads'),
  maxAnswers: z.number().int().min(1).max(64).default(8).describe('addresses in one answer at most'),
  limits: z.strictObject({
    maxUdpPayload: z.number().int().min(512).max(4096).default(1232)
      .describe('largest UDP response (EDNS clients may ask for less; non-EDNS get 512); larger ones are truncated (TC) so the client retries over TCP'),
    maxQuerySize: z.number().int().min(64).max(4096).default(512).describe('larger queries are dropped'),
    queriesPerSecond: z.number().int().min(1).max(1_000_000).default(200)
      .describe('per source address (IPv6 per /56), split across workers; excess queries are dropped'),
    burst: z.number().int().min(1).max(1_000_000).default(400).describe('queries a source may send at once before the rate applies'),
    maxSources: z.number().int().min(16).max(10_000_000).default(100_000)
      .describe('sources tracked for the rate at once (memory bound); past it the least recently seen are forgotten'),
    tcpIdle: duration('10s', '5m').describe('an idle TCP connection is closed after this long'),
  }).prefault({}),
  health: z.strictObject({
    quorum: z.number().int().min(1).max(16).default(2)
      .describe('probers in other regions that must see a region\'s VIP down before it counts as down'),
    probeInterval: duration('500ms', '1m'),
    probeTimeout: duration('500ms', '30s'),
    staleAfter: duration('3s', '5m').describe('a prober silent this long is not counted'),
    holdDown: duration('10s', '1h', 'off').describe('flap damping: a region is answered again only after being healthy this long'),
    maxHoldDown: duration('5m', '24h', 'off').describe('repeated flaps double the hold-down up to this'),
  }).prefault({}).describe('region health from the fleet (nodes with --store)'),
}).transform((d, ctx) => {
  if (d.clientSubnetsFile === undefined) return d;
  try {
    return { ...d, clientSubnets: [...d.clientSubnets, ...parseSubnetFile(readFileSync(d.clientSubnetsFile, 'utf8'))] };
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    ctx.addIssue({ code: 'custom', path: ['clientSubnetsFile'], message: err.code !== undefined ? `cannot read file: ${err.code}` : err.message });
    return z.NEVER;
  }
}).superRefine((d, ctx) => {
  const known = (r: string, path: (string | number)[]) => {
    if (!(r in d.regions)) ctx.addIssue({ code: 'custom', path, message: `unknown region "${r}"` });
  };
  known(d.defaultRegion, ['defaultRegion']);
  for (const [name, r] of Object.entries(d.regions)) r.fallback.forEach((f, i) => known(f, ['regions', name, 'fallback', i]));
  d.clientSubnets.forEach((s, i) => known(s.region, ['clientSubnets', i, 'region']));
}).describe('the GeoDNS zone answered by `protocol: dns` listeners (docs/regions.md)');

/** The validated block: durations in milliseconds, subnets from the file merged in. */
export type DnsConfig = z.output<typeof DnsSchema>;
export type RegionConfig = DnsConfig['regions'][string];
