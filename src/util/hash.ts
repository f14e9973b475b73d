/**
 * Fast, allocation-free 32-bit string hashing for the balancing hot path.
 *
 * Algorithm: MurmurHash3 x86_32 (Austin Appleby, public domain), computed exactly over the UTF-8
 * encoding of the string. The UTF-8 bytes are produced on the fly from the UTF-16 code units, so
 * no Buffer or TextEncoder output is allocated; a lone surrogate is encoded as U+FFFD (EF BF BD),
 * which is what `Buffer.from(s, 'utf8')` and `TextEncoder` do. Results therefore match any standard
 * murmur3_32 implementation run on `Buffer.from(s, 'utf8')` (see hash.test.ts for vectors).
 *
 * All state lives in locals: in optimised code they stay in registers, so hashing allocates
 * nothing (module-level `let` state would be boxed as heap numbers on every write of a value
 * outside the small-integer range).
 *
 * Not a cryptographic hash: do not use it where an attacker choosing keys matters beyond load
 * spreading (hash flooding of a consistent-hash balancer only concentrates that attacker's own
 * traffic).
 */

const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;

/** Seed of the second, independent hash (`hash32b`), used e.g. for Maglev's skip. */
export const SECOND_SEED = 0x9747b28c;

/** murmur3's finaliser: a bijective avalanche of a 32-bit integer. Returns an unsigned 32-bit value. */
export function mix32(x: number): number {
  let h = x | 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * MurmurHash3 x86_32 of the UTF-8 bytes of `s` with `seed`. Returns an unsigned 32-bit integer.
 * O(length).
 */
export function murmur3(s: string, seed = 0): number {
  return murmur3i(s, seed) >>> 0;
}

/**
 * The same hash as `murmur3`, returned as a signed int32 (`murmur3i(s, k) >>> 0 === murmur3(s, k)`).
 * Hot-path variant: on 64-bit Node (no pointer compression) every int32 is a small integer, so
 * returning it from a call that is not inlined allocates nothing, whereas an unsigned value of
 * 2^31 or more is returned as a boxed heap number. O(length), no allocation.
 */
export function murmur3i(s: string, seed = 0): number {
  let h = seed | 0;
  let k = 0; // pending bytes of the current 4-byte block, little-endian
  let len = 0; // UTF-8 bytes consumed so far
  const n = s.length;
  for (let i = 0; i < n; i++) {
    let c = s.charCodeAt(i);
    // enc: this code point's UTF-8 bytes, first byte in the low 8 bits; nb: how many.
    let enc: number;
    let nb: number;
    if (c < 0x80) {
      enc = c;
      nb = 1;
    } else if (c < 0x800) {
      enc = (0xc0 | (c >> 6)) | ((0x80 | (c & 0x3f)) << 8);
      nb = 2;
    } else {
      if (c >= 0xd800 && c <= 0xdfff) {
        const d = i + 1 < n ? s.charCodeAt(i + 1) : 0;
        if (c <= 0xdbff && d >= 0xdc00 && d <= 0xdfff) {
          const cp = ((c - 0xd800) << 10) + (d - 0xdc00) + 0x10000;
          i++;
          enc = (0xf0 | (cp >> 18)) | ((0x80 | ((cp >> 12) & 0x3f)) << 8) | ((0x80 | ((cp >> 6) & 0x3f)) << 16) | ((0x80 | (cp & 0x3f)) << 24);
          nb = 4;
        } else {
          c = 0xfffd; // lone surrogate
          enc = (0xe0 | (c >> 12)) | ((0x80 | ((c >> 6) & 0x3f)) << 8) | ((0x80 | (c & 0x3f)) << 16);
          nb = 3;
        }
      } else {
        enc = (0xe0 | (c >> 12)) | ((0x80 | ((c >> 6) & 0x3f)) << 8) | ((0x80 | (c & 0x3f)) << 16);
        nb = 3;
      }
    }
    for (let j = 0; j < nb; j++) {
      k |= ((enc >>> (j << 3)) & 0xff) << ((len & 3) << 3);
      len++;
      if ((len & 3) === 0) {
        k = Math.imul(k, C1);
        k = (k << 15) | (k >>> 17);
        k = Math.imul(k, C2);
        h ^= k;
        h = (h << 13) | (h >>> 19);
        h = (Math.imul(h, 5) + 0xe6546b64) | 0;
        k = 0;
      }
    }
  }
  if ((len & 3) !== 0) {
    k = Math.imul(k, C1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, C2);
    h ^= k;
  }
  h ^= len;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/** The primary 32-bit string hash (murmur3, seed 0), unsigned. */
export function hash32(s: string): number {
  return murmur3i(s, 0) >>> 0;
}

/** `hash32` as a signed int32 (hot path, see murmur3i). */
export function hash32i(s: string): number {
  return murmur3i(s, 0);
}

/**
 * A second 32-bit string hash, independent of `hash32` for practical purposes (murmur3 with
 * seed `SECOND_SEED`). Maglev derives offset from `hash32` and skip from `hash32b`.
 */
export function hash32b(s: string): number {
  return murmur3i(s, SECOND_SEED) >>> 0;
}
