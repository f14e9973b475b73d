/*
 * The hot path of the responder: an A/AAAA answer for the question's own name, written straight
 * from the query's header and question bytes (the name as the client spelled it, answers pointing
 * back to it) instead of through dns-packet's generic encoder, which costs ~20 times more. Every
 * other response goes through dns-packet.
 */

/** Where the question section of a query ends, or -1 when its name is compressed or cut (use the generic encoder). */
export function questionEnd(query: Buffer): number {
  let o = 12;
  while (o < query.length) {
    const len = query[o];
    if (len === 0) return o + 5 <= query.length ? o + 5 : -1;
    if ((len & 0xc0) !== 0) return -1;
    o += len + 1;
  }
  return -1;
}

/** The OPT record of a response: our UDP size, the extended rcode and the ECS option echoed with its scope. */
export interface OptSpec {
  udpPayloadSize: number;
  ecs?: { family: number; sourcePrefixLength: number; scopePrefixLength: number; address: Uint8Array };
}

/**
 * A response to `query` (whose question ends at `qEnd`) with `flags` (QR added), one answer per
 * address — all of record `type` (1 = A, 28 = AAAA) at the question's name — and the OPT record
 * when `opt` is given.
 */
export function encodeAnswers(query: Buffer, qEnd: number, flags: number, type: 1 | 28, ttl: number, addresses: readonly Uint8Array[], opt?: OptSpec): Buffer {
  const ecsLen = opt?.ecs === undefined ? 0 : 8 + Math.ceil(opt.ecs.sourcePrefixLength / 8);
  let size = qEnd;
  for (const a of addresses) size += 12 + a.length;
  if (opt !== undefined) size += 11 + ecsLen;
  const out = Buffer.allocUnsafe(size);
  query.copy(out, 0, 0, qEnd);
  out.writeUInt16BE((flags | 0x8000) & 0xffff, 2);
  out.writeUInt16BE(1, 4);
  out.writeUInt16BE(addresses.length, 6);
  out.writeUInt16BE(0, 8);
  out.writeUInt16BE(opt === undefined ? 0 : 1, 10);
  let o = qEnd;
  for (const a of addresses) {
    out[o] = 0xc0; out[o + 1] = 12; // the name: a pointer to the question's
    out.writeUInt16BE(type, o + 2);
    out.writeUInt16BE(1, o + 4); // IN
    out.writeUInt32BE(ttl, o + 6);
    out.writeUInt16BE(a.length, o + 10);
    out.set(a, o + 12);
    o += 12 + a.length;
  }
  if (opt !== undefined) {
    out[o] = 0; // root name
    out.writeUInt16BE(41, o + 1); // OPT
    out.writeUInt16BE(opt.udpPayloadSize, o + 3);
    out.writeUInt32BE(0, o + 5); // extended rcode 0, version 0, flags 0
    out.writeUInt16BE(ecsLen, o + 9);
    o += 11;
    const e = opt.ecs;
    if (e !== undefined) {
      const n = ecsLen - 8;
      out.writeUInt16BE(8, o);
      out.writeUInt16BE(4 + n, o + 2);
      out.writeUInt16BE(e.family, o + 4);
      out[o + 6] = e.sourcePrefixLength;
      out[o + 7] = e.scopePrefixLength;
      out.fill(0, o + 8, o + 8 + n);
      out.set(e.address.subarray(0, n), o + 8);
    }
  }
  return out;
}
