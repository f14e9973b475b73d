/** A source of uniform numbers in [0, 1); injected so tests are deterministic. */
export type Random = () => number;

/** Production randomness. */
export const systemRandom: Random = Math.random;

/**
 * Seeded generator (mulberry32): fast, 32-bit state, good enough for load spreading and
 * simulation tests. Not for anything security-related.
 */
export function seededRandom(seed: number): Random {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
