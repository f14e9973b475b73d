import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as dns from 'dns-packet';
import { DnsSchema } from '../config/dns-schema.js';
import { seededRandom } from '../util/random.js';
import { GeoZone } from './geo-zone.js';
import { respond, type QueryContext } from './responder.js';

const zone = new GeoZone(DnsSchema.parse({
  zone: 'geo.example.test',
  names: ['www', '@'],
  nameservers: [{ name: 'ns1.geo.example.test', addresses: ['192.0.2.53'] }, { name: 'ns.other.test' }],
  regions: {
    eu: { vips: ['10.0.1.1', { address: '10.0.1.2', weight: 3 }, '2001:db8:1::1'], fallback: ['us'] },
    us: { vips: ['10.0.2.1'], fallback: ['eu'] },
    big: { vips: Array.from({ length: 60 }, (_, i) => `10.9.0.${i + 1}`) },
  },
  defaultRegion: 'eu',
  maxAnswers: 64,
  clientSubnets: [{ cidr: '198.51.100.0/24', region: 'us' }, { cidr: '203.0.113.0/24', region: 'big' }],
}), seededRandom(1));

const udp: QueryContext = { transport: 'udp', source: '127.0.0.1', maxUdpPayload: 1232 };
const ask = (q: dns.Packet, down: string[] = [], ctx = udp) => {
  const r = respond(dns.encode({ id: 7, type: 'query', flags: dns.RECURSION_DESIRED, ...q }), zone, new Set(down), ctx)!;
  return { ...r, packet: dns.decode(r.wire) };
};
const a = (name: string, extra: Partial<dns.Packet> = {}) => ({ questions: [{ type: 'A' as const, name }], ...extra });
const ecs = (ip: string, sourcePrefixLength: number, udpPayloadSize = 4096) => ({
  additionals: [{ type: 'OPT', name: '.', udpPayloadSize, options: [{ code: 'CLIENT_SUBNET', ip, sourcePrefixLength }] } as unknown as dns.Answer],
});
const addrs = (p: dns.Packet) => (p.answers ?? []).map((x) => (x as { data: unknown }).data as string).sort();
const rcodeOf = (p: dns.Packet) => (p as { rcode?: string }).rcode;
const optOf = (p: dns.Packet) => (p.additionals ?? []).find((x) => x.type === 'OPT') as unknown as { options: { scopePrefixLength: number; sourcePrefixLength: number }[] } | undefined;

test('A by the source address, and by ECS when present (scope echoed)', () => {
  const plain = ask(a('www.geo.example.test'));
  assert.deepEqual(addrs(plain.packet), ['10.0.1.1', '10.0.1.2']);
  assert.equal((plain.packet.answers![0] as { ttl?: number }).ttl, 30);
  assert.ok(plain.packet.flags! & dns.AUTHORITATIVE_ANSWER);
  assert.equal(optOf(plain.packet), undefined);
  const viaUs = ask(a('WWW.geo.example.test.', ecs('198.51.100.0', 24)));
  assert.deepEqual(addrs(viaUs.packet), ['10.0.2.1']);
  assert.equal(viaUs.packet.questions![0].name, 'WWW.geo.example.test', 'the question comes back as asked');
  assert.deepEqual(optOf(viaUs.packet)!.options.map((o) => [o.sourcePrefixLength, o.scopePrefixLength]), [[24, 24]]);
  const bySource = ask(a('www.geo.example.test'), [], { ...udp, source: '198.51.100.9' });
  assert.deepEqual(addrs(bySource.packet), ['10.0.2.1']);
});

test('a down region answers its fallback; all down fails open to the home region', () => {
  assert.deepEqual(addrs(ask(a('www.geo.example.test', ecs('198.51.100.0', 24)), ['us']).packet), ['10.0.1.1', '10.0.1.2']);
  assert.deepEqual(addrs(ask(a('www.geo.example.test', ecs('198.51.100.0', 24)), ['us', 'eu']).packet), ['10.0.2.1']);
});

test('AAAA, SOA, NS with glue, NXDOMAIN and NODATA carry the SOA, REFUSED outside the zone', () => {
  assert.deepEqual(addrs(ask({ questions: [{ type: 'AAAA', name: 'www.geo.example.test' }] }).packet), ['2001:db8:1::1']);
  const soa = ask({ questions: [{ type: 'SOA', name: 'geo.example.test' }] }).packet;
  assert.equal(((soa.answers![0] as { data: unknown }).data as dns.SoaData).mname, 'ns1.geo.example.test');
  const ns = ask({ questions: [{ type: 'NS', name: 'geo.example.test' }] }).packet;
  assert.deepEqual(ns.answers!.map((x) => (x as { data: unknown }).data).sort(), ['ns.other.test', 'ns1.geo.example.test']);
  assert.deepEqual(ns.additionals!.map((x) => (x as { data: unknown }).data), ['192.0.2.53']);
  const nx = ask(a('nope.geo.example.test'));
  assert.equal(rcodeOf(nx.packet), 'NXDOMAIN');
  assert.equal(nx.packet.authorities![0].type, 'SOA');
  const nodata = ask({ questions: [{ type: 'MX', name: 'www.geo.example.test' }] });
  assert.equal(rcodeOf(nodata.packet), 'NOERROR');
  assert.equal(nodata.packet.answers!.length, 0);
  const out = ask(a('example.com'));
  assert.equal(rcodeOf(out.packet), 'REFUSED');
  assert.equal(out.packet.flags! & dns.AUTHORITATIVE_ANSWER, 0);
  assert.equal(rcodeOf(ask({ questions: [{ type: 'AXFR', name: 'geo.example.test' }] }).packet), 'REFUSED');
});

test('a UDP answer larger than the client takes is truncated (TC); TCP gets it whole', () => {
  const q = a('www.geo.example.test', ecs('203.0.113.0', 24, 512));
  const small = ask(q);
  assert.equal(small.outcome, 'truncated');
  assert.ok(small.packet.flags! & dns.TRUNCATED_RESPONSE);
  assert.equal(small.packet.answers!.length, 0);
  assert.ok(small.wire.length <= 512);
  assert.equal(ask(q, [], { ...udp, transport: 'tcp' }).packet.answers!.length, 60);
  // Without EDNS the cap is 512 whatever the client could take.
  assert.equal(ask(a('www.geo.example.test'), [], { ...udp, source: '203.0.113.5' }).outcome, 'truncated');
});

test('weights order answers: the heavier VIP comes first about its share of the time', () => {
  let first = 0;
  for (let i = 0; i < 2000; i++) if ((ask(a('www.geo.example.test')).packet.answers![0] as { data: unknown }).data === '10.0.1.2') first++;
  assert.ok(first > 1350 && first < 1650, `10.0.1.2 first ${first}/2000 (expected ~1500)`);
});

test('malformed queries get FORMERR or nothing, never a throw', () => {
  const good = dns.encode({ id: 9, type: 'query', questions: [{ type: 'A', name: 'www.geo.example.test' }] });
  const rcode = (buf: Buffer) => { const r = respond(buf, zone, new Set(), udp); return r === null ? null : rcodeOf(dns.decode(r.wire)); };
  assert.equal(rcode(good.subarray(0, 11)), null, 'shorter than a header: dropped');
  assert.equal(rcode(good.subarray(0, good.length - 3)), 'FORMERR', 'truncated question');
  const resp = Buffer.from(good); resp[2] |= 0x80;
  assert.equal(rcode(resp), null, 'a response is never answered');
  const loop = Buffer.concat([good.subarray(0, 12), Buffer.from([0xc0, 12, 0, 1, 0, 1])]);
  assert.equal(rcode(loop), 'FORMERR', 'a pointer to itself (compression loop)');
  const forward = Buffer.concat([good.subarray(0, 12), Buffer.from([0xc0, 40, 0, 1, 0, 1])]);
  assert.equal(rcode(forward), 'FORMERR', 'a pointer past the end');
  const huge = Buffer.from(good); huge.writeUInt16BE(65535, 4); huge.writeUInt16BE(65535, 6);
  assert.equal(rcode(huge), 'FORMERR', 'huge counts');
  const none = Buffer.from(good); none.writeUInt16BE(0, 4);
  assert.equal(rcode(none), 'FORMERR', 'no question');
  const badEcs = ask(a('www.geo.example.test', ecs('10.0.0.0', 24)));
  assert.equal(rcodeOf(badEcs.packet), 'NOERROR');
  const wire = dns.encode({ id: 1, type: 'query', ...a('www.geo.example.test', ecs('10.0.0.0', 24)) });
  const at = wire.indexOf(Buffer.from([0, 8, 0, 7, 0, 1, 24, 0])); // ECS: code 8, length 7, family 1, /24, scope 0
  assert.ok(at > 0);
  wire[at + 6] = 40;
  assert.equal(rcode(wire), 'FORMERR', 'ECS source prefix longer than IPv4');
  for (let i = 0; i < 2000; i++) {
    const junk = Buffer.from(good);
    for (let k = 0; k < 4; k++) junk[12 + Math.floor(Math.random() * (junk.length - 12))] = Math.floor(Math.random() * 256);
    respond(junk, zone, new Set(), udp); // must not throw
  }
});

test('EDNS version 1 gets BADVERS; a non-QUERY opcode NOTIMP', () => {
  const q = dns.encode({ id: 3, type: 'query', questions: [{ type: 'A', name: 'www.geo.example.test' }], additionals: [{ type: 'OPT', name: '.', udpPayloadSize: 4096, ednsVersion: 1 } as unknown as dns.Answer] });
  const r = respond(q, zone, new Set(), udp)!;
  assert.equal(r.outcome, 'badvers');
  assert.equal((dns.decode(r.wire).additionals![0] as unknown as { extendedRcode: number }).extendedRcode, 1);
  const notify = dns.encode({ id: 4, type: 'query', flags: 4 << 11, questions: [{ type: 'SOA', name: 'geo.example.test' }] });
  assert.equal(rcodeOf(dns.decode(respond(notify, zone, new Set(), udp)!.wire)), 'NOTIMP');
});
