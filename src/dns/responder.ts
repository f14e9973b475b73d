import type * as dns from 'dns-packet';
import type { Answer, Packet, Question } from 'dns-packet';
import { addressBytes } from '../util/cidr-table.js';
import type { GeoZone } from './geo-zone.js';
import { encodeAnswers, questionEnd } from './fast-answer.js';
import { lazyModule } from '../util/lazy-module.js';

/** Loaded by the first query: a node without DNS listeners never needs it. */
const dnsPacket = lazyModule<typeof dns>('dns-packet');

/*
 * One DNS query in, one response out (or none): the wire format through dns-packet, every
 * malformed query answered FORMERR when its header can be read (else dropped), never a throw.
 * Pure: the zone, the regions that are down and the transport come in as arguments.
 */

const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;
/** BADVERS (16) is split: 0 in the header, 1 in the OPT record's extended rcode. */
const BADVERS_EXT = 1;
const QR = 1 << 15;

/** What a response was, for counters and tests. */
export type Outcome = 'answer' | 'nodata' | 'nxdomain' | 'refused' | 'formerr' | 'notimp' | 'badvers' | 'truncated';

/** A response to send, or null (drop: not even a header to answer). */
export interface Response { wire: Buffer; outcome: Outcome; region?: string }

/** How the query came: its transport, the sender's address, and the UDP cap of the `dns.limits`. */
export interface QueryContext { transport: 'udp' | 'tcp'; source: string; maxUdpPayload: number }

/** ECS option as dns-packet reads it. */
interface Ecs { code: number; family: number; sourcePrefixLength: number; scopePrefixLength: number; ip: string }

/**
 * The response to `query` from `zone` (regions in `down` are skipped), or null when the bytes
 * are no query at all (shorter than a header, or a response: never answered, so two servers
 * cannot be made to ping-pong).
 */
export function respond(query: Buffer, zone: GeoZone, down: ReadonlySet<string>, ctx: QueryContext): Response | null {
  if (query.length < 12 || (query.readUInt16BE(2) & QR) !== 0) return null;
  const id = query.readUInt16BE(0);
  const opcodeFlags = query.readUInt16BE(2) & 0x7900; // opcode + RD
  const fail = (rcode: number, outcome: Outcome): Response => ({
    wire: dnsPacket().encode({ id, type: 'response', flags: opcodeFlags | rcode, questions: [] }), outcome,
  });
  // One question, no answers: anything else is not a query we serve (and decoding huge counts is skipped).
  if (query.readUInt16BE(4) !== 1 || query.readUInt16BE(6) !== 0 || query.readUInt16BE(8) !== 0 || query.readUInt16BE(10) > 2) return fail(RCODE.FORMERR, 'formerr');
  let packet: Packet;
  try { packet = dnsPacket().decode(query); } catch { return fail(RCODE.FORMERR, 'formerr'); }
  const q = packet.questions![0];
  const opts = (packet.additionals ?? []).filter((a) => a.type === 'OPT') as dns.OptAnswer[];
  if (opts.length > 1) return fail(RCODE.FORMERR, 'formerr');
  const opt = opts[0];
  const ecs = opt?.options?.find((o) => o.code === 8) as Ecs | undefined;
  if (ecs !== undefined && !ecsValid(ecs)) return fail(RCODE.FORMERR, 'formerr');
  const r = new Reply(query, packet, q, zone, opt, ecs);
  if (((packet.flags ?? 0) >> 11) & 0xf) return r.finish(RCODE.NOTIMP, 'notimp', ctx);
  if (opt !== undefined && (opt as { ednsVersion?: number }).ednsVersion !== 0) return r.finish(RCODE.NOERROR, 'badvers', ctx, BADVERS_EXT);
  return r.answer(down, ctx);
}

/** RFC 7871 §7.1.1: a known family, a source prefix within it, scope 0 in queries. */
function ecsValid(e: Ecs): boolean {
  const max = e.family === 1 ? 32 : e.family === 2 ? 128 : -1;
  return e.sourcePrefixLength <= max && e.scopePrefixLength === 0 && typeof e.ip === 'string';
}

/** A response under construction. */
class Reply {
  private readonly answers: Answer[] = [];
  private readonly authorities: Answer[] = [];
  private readonly additionals: Answer[] = [];
  private aa = false;
  private scope = 0;
  private region: string | undefined;
  /** Set when the response is only A/AAAA records at the question's name: written by the fast path. */
  private fast: { type: 1 | 28; ttl: number; addresses: Uint8Array[] } | undefined;

  constructor(private readonly raw: Buffer, private readonly query: Packet, private readonly q: Question, private readonly zone: GeoZone,
    private readonly opt: dns.OptAnswer | undefined, private readonly ecs: Ecs | undefined) {}

  answer(down: ReadonlySet<string>, ctx: QueryContext): Response {
    const name = this.q.name.toLowerCase().replace(/\.$/, '');
    const kind = this.zone.kind(name);
    if (kind === 'outside' || this.q.class !== 'IN' || this.q.type === 'AXFR' || this.q.type === 'IXFR') return this.finish(RCODE.REFUSED, 'refused', ctx);
    this.aa = true;
    const ttl = Math.round(this.zone.config.ttl / 1000);
    if (kind === 'unknown') { this.authorities.push(this.soa()); return this.finish(RCODE.NXDOMAIN, 'nxdomain', ctx); }
    const type = this.q.type as string;
    if (kind === 'apex' || name === this.zone.zone) {
      if (type === 'SOA' || type === 'ANY') this.answers.push(this.soa());
      if (type === 'NS' || type === 'ANY') {
        for (const ns of this.zone.config.nameservers) this.answers.push({ name: this.q.name, type: 'NS', ttl, data: ns.name });
        for (const ns of this.zone.config.nameservers) this.glue(ns.name, ttl, this.additionals);
      }
    }
    if (kind === 'glue' && (type === 'A' || type === 'AAAA')) this.glue(name, ttl, this.answers, type);
    if (kind === 'geo' && (type === 'A' || type === 'AAAA' || type === 'ANY')) this.geo(ctx, down, type === 'ANY' ? 'A' : type, ttl);
    if (this.answers.length > 0) return this.finish(RCODE.NOERROR, 'answer', ctx);
    this.authorities.push(this.soa());
    return this.finish(RCODE.NOERROR, 'nodata', ctx);
  }

  private geo(ctx: QueryContext, down: ReadonlySet<string>, type: 'A' | 'AAAA', ttl: number): void {
    const useEcs = this.ecs !== undefined && this.ecs.sourcePrefixLength > 0;
    const client = (useEcs ? addressBytes(this.ecs!.ip) : undefined) ?? addressBytes(ctx.source) ?? new Uint8Array(4);
    const width = client.length * 8;
    const source = useEcs ? Math.min(this.ecs!.sourcePrefixLength, width) : width;
    const choice = this.zone.choose(client, source, down);
    this.region = choice.region;
    this.scope = choice.scope;
    const vips = this.zone.addresses(choice.region, type === 'A' ? 4 : 6);
    for (const v of vips) this.answers.push({ name: this.q.name, type, ttl, data: v.address });
    if (this.answers.length === vips.length) this.fast = { type: type === 'A' ? 1 : 28, ttl, addresses: vips.map((v) => v.bytes) };
  }

  private glue(name: string, ttl: number, into: Answer[], only?: 'A' | 'AAAA'): void {
    for (const a of this.zone.glueOf(name)) {
      const type = a.includes(':') ? 'AAAA' : 'A';
      if (only === undefined || only === type) into.push({ name, type, ttl, data: a });
    }
  }

  private soa(): Answer {
    const c = this.zone.config;
    const s = (ms: number) => Math.round(ms / 1000);
    return {
      name: this.zone.zone, type: 'SOA', ttl: s(c.ttl),
      data: {
        mname: c.nameservers[0].name, rname: c.soa.contact ?? `hostmaster.${this.zone.zone}`, serial: c.soa.serial,
        refresh: s(c.soa.refresh), retry: s(c.soa.retry), expire: s(c.soa.expire), minimum: s(c.ttl),
      },
    };
  }

  /** Encodes the response; over UDP one larger than the client may take goes out truncated (TC, question only). */
  finish(rcode: number, outcome: Outcome, ctx: QueryContext, extendedRcode = 0): Response {
    const flags = ((this.query.flags ?? 0) & 0x7900) | (this.aa ? dnsPacket().AUTHORITATIVE_ANSWER : 0) | rcode;
    const additionals = [...this.additionals];
    if (this.opt !== undefined) {
      // A fresh option: the decoded one carries its raw bytes, which dns-packet would copy as they came.
      const e = this.ecs;
      const options = e === undefined ? [] : [{ code: 8, family: e.family, sourcePrefixLength: e.sourcePrefixLength, scopePrefixLength: this.scope, ip: e.ip }];
      additionals.push({ name: '.', type: 'OPT', udpPayloadSize: ctx.maxUdpPayload, extendedRcode, ednsVersion: 0, flags: 0, options } as unknown as Answer);
    }
    const base = { id: this.query.id, type: 'response' as const, questions: [this.q] };
    const wire = this.encodeFast(flags, ctx) ?? dnsPacket().encode({ ...base, flags, answers: this.answers, authorities: this.authorities, additionals });
    const region = this.region;
    if (ctx.transport === 'tcp' || wire.length <= this.udpLimit(ctx)) return { wire, outcome, region };
    const opt = additionals.filter((a) => a.type === 'OPT');
    return { wire: dnsPacket().encode({ ...base, flags: flags | dnsPacket().TRUNCATED_RESPONSE, additionals: opt }), outcome: 'truncated', region };
  }

  /** The fast path's wire form (fast-answer.ts), or undefined when the response has more than its answers. */
  private encodeFast(flags: number, ctx: QueryContext): Buffer | undefined {
    const f = this.fast;
    const qEnd = questionEnd(this.raw);
    if (f === undefined || qEnd < 0 || this.authorities.length > 0 || this.additionals.length > 0) return undefined;
    const e = this.ecs;
    const ecs = e === undefined ? undefined : { family: e.family, sourcePrefixLength: e.sourcePrefixLength, scopePrefixLength: this.scope, address: addressBytes(e.ip) ?? new Uint8Array(16) };
    return encodeAnswers(this.raw, qEnd, flags, f.type, f.ttl, f.addresses, this.opt === undefined ? undefined : { udpPayloadSize: ctx.maxUdpPayload, ecs });
  }

  /** RFC 6891: what the client advertised (at least 512), at most our own cap; 512 without EDNS. */
  private udpLimit(ctx: QueryContext): number {
    if (this.opt === undefined) return 512;
    const asked = (this.opt as { udpPayloadSize?: number }).udpPayloadSize ?? 512;
    return Math.min(ctx.maxUdpPayload, Math.max(512, asked));
  }
}
