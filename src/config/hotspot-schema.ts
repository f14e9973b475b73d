import { z } from 'zod';
import { duration } from './resilience-schema.js';

/*
 * Per-service `hotspot` block (design chapter, "Hot Spot Mitigation"). Detection is on by
 * default and only reports (signals in the admin API, dashboard and metrics); changing how a
 * service balances is opt-in through `mitigate`. Finer thresholds (slow factor, key coverage,
 * weight floor...) keep the detector's documented defaults (DEFAULT_HOTSPOT) and are not config.
 */

export const HotspotSchema = z.strictObject({
  enabled: z.boolean().default(true)
    .describe('watch this service for hot spots (report only, unless `mitigate` is set)'),
  skew: z.number().gt(1).max(100).default(2)
    .describe('a backend is hot when its share of requests exceeds this × its share of the weights'),
  for: duration('1m', '1h', 'off')
    .describe('how long a backend must stay skewed (or slow: p99 over 2× its peers\' median) before it is reported'),
  window: duration('10s', '10m').refine((ms) => ms >= 100, 'window must be at least 100ms')
    .describe('traffic is summed and judged per window of this length'),
  mitigate: z.enum(['off', 'bounded-load', 'reduce-weight']).default('off')
    .describe('automatic action: off (report only); bounded-load (hashed services spill a hot key\'s overflow to the next backends); reduce-weight (halve a slow backend\'s weight each window down to 10%, restored gradually)'),
  sampleEvery: z.number().int().min(1).max(1_000_000).default(1)
    .describe('count the hash key of 1 request in this many (bounds the per-request cost; counts are scaled back)'),
}).describe('hot-spot detection: a backend taking far more than its weight share, or far slower than its peers');

/** The validated block: durations in milliseconds. */
export type HotspotConfig = z.output<typeof HotspotSchema>;
