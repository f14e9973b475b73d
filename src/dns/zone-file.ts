import { isIP } from 'node:net';
import type { DnsConfig } from '../config/dns-schema.js';

/**
 * The zone as a standard master file (RFC 1035 §5) for a secondary provider: SOA, NS and glue,
 * and every GeoDNS name with the VIPs of `region` (default: `defaultRegion`) — a secondary
 * cannot pick by client, so it serves one region's answers, the ones to fall back on.
 * Throws on an unknown region.
 */
export function zoneFile(dns: DnsConfig, region = dns.defaultRegion): string {
  const r = dns.regions[region];
  if (r === undefined) throw new Error(`unknown region "${region}" (regions: ${Object.keys(dns.regions).join(', ')})`);
  const s = (ms: number) => Math.round(ms / 1000);
  const fq = (n: string) => `${n}.`;
  const lines = [
    `; ${dns.zone}: exported by switchyard (GeoDNS names answer region ${region})`,
    `$ORIGIN ${fq(dns.zone)}`,
    `$TTL ${s(dns.ttl)}`,
    `@ IN SOA ${fq(dns.nameservers[0].name)} ${fq(dns.soa.contact ?? `hostmaster.${dns.zone}`)} ( ${dns.soa.serial} ${s(dns.soa.refresh)} ${s(dns.soa.retry)} ${s(dns.soa.expire)} ${s(dns.ttl)} )`,
    ...dns.nameservers.map((ns) => `@ IN NS ${fq(ns.name)}`),
  ];
  const inZone = (n: string) => n === dns.zone || n.endsWith(`.${dns.zone}`);
  const type = (a: string) => (isIP(a) === 6 ? 'AAAA' : 'A');
  for (const ns of dns.nameservers) if (inZone(ns.name)) for (const a of ns.addresses) lines.push(`${fq(ns.name)} IN ${type(a)} ${a}`);
  for (const name of dns.names) {
    for (const v of r.vips.slice(0, dns.maxAnswers)) lines.push(`${name} IN ${type(v.address)} ${v.address}`);
  }
  return `${lines.join('\n')}\n`;
}
