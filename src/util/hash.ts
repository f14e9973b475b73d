/**
 * Fast, allocation-free 32-bit string hashing for the balancing hot path.
 *
 * Algorithm: MurmurHash3 x86_32 (Austin Appleby, public domain), computed exactly over the UTF-8
 * encoding of the string. The UTF-8 bytes are produced on the fly from the UTF-16 code units, so
 * no Buffer or TextEncoder output is allocated; a lone surrogate is encoded as U+FFFD (EF BF BD),
 * which is what `Buffer.from(s, 'utf8')` and `TextEncoder` do. Results therefore match any standard
 * murmur3_32 implementation run on `Buffer.from(s, 'utf8')` (see hash.test.ts for vectors).
 *
 * The byte feeder keeps its state in module-level variables: JS is single-threaded and the
 * functions below never re-enter, so this is safe and avoids allocating a state object per call.
 *
 * Not a cryptographic hash: do not use it where an attacker choosing keys matters beyond load
 * spreading (hash flooding of a consistent-hash balancer only concentrates that attacker's own
 * traffic).
 */

const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;

/** Seed of the second, independent hash (`hash32b`), used e.g. for Maglev's skip. */
export const SECOND_SEED = 0x9747b28c;

// Streaming state of the current murmur3 computation.
let stH = 0;
let stK = 0;
let stLen = 0;

function putByte(b: number): void {
  stK |= b << ((stLen & 3) << 3);
  stLen++;
  if ((stLen & 3) === 0) {
    let k = Math.imul(stK, C1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, C2);
    let h = stH ^ k;
    h = (h << 13) | (h >>> 19);
    stH = (Math.imul(h, 5) + 0xe6546b64) | 0;
    stK = 0;
  }
}

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
 * O(length), no allocation.
 */
export function murmur3(s: string, seed = 0): number {
  stH = seed | 0;
  stK = 0;
  stLen = 0;
  const n = s.length;
  for (let i = 0; i < n; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) {
      putByte(c);
      continue;
    }
    if (c < 0x800) {
      putByte(0xc0 | (c >> 6));
      putByte(0x80 | (c & 0x3f));
      continue;
    }
    if (c >= 0xd800 && c <= 0xdfff) {
      const d = i + 1 < n ? s.charCodeAt(i + 1) : 0;
      if (c <= 0xdbff && d >= 0xdc00 && d <= 0xdfff) {
        const cp = ((c - 0xd800) << 10) + (d - 0xdc00) + 0x10000;
        i++;
        putByte(0xf0 | (cp >> 18));
        putByte(0x80 | ((cp >> 12) & 0x3f));
        putByte(0x80 | ((cp >> 6) & 0x3f));
        putByte(0x80 | (cp & 0x3f));
        continue;
      }
      c = 0xfffd; // lone surrogate
    }
    putByte(0xe0 | (c >> 12));
    putByte(0x80 | ((c >> 6) & 0x3f));
    putByte(0x80 | (c & 0x3f));
  }
  let h = stH;
  if ((stLen & 3) !== 0) {
    let k = Math.imul(stK, C1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, C2);
    h ^= k;
  }
  return mix32(h ^ stLen);
}

/** The primary 32-bit string hash (murmur3, seed 0). */
export function hash32(s: string): number {
  return murmur3(s, 0);
}

/**
 * A second 32-bit string hash, independent of `hash32` for practical purposes (murmur3 with
 * seed `SECOND_SEED`). Maglev derives offset from `hash32` and skip from `hash32b`.
 */
export function hash32b(s: string): number {
  return murmur3(s, SECOND_SEED);
}
