import { z } from 'zod';
import { parseCidr } from '../util/cidr.js';
import { duration } from './resilience-schema.js';

/*
 * The abuse defences that act on connections and on the traffic picture (issue 18, items 3–5):
 * allow/deny lists and temporary blocks by CIDR, per-client connection limits, spike detection.
 * Request rate limits (429) are route/service filters and live elsewhere.
 */

const cidr = z.string().superRefine((s, ctx) => {
  const c = parseCidr(s);
  if (typeof c === 'string') ctx.addIssue({ code: 'custom', message: c });
});

const cidrList = z.array(cidr).max(100_000);

/** Allow/deny rules: on a listener, and globally (both apply; the most specific rule wins). */
export const AccessRulesSchema = z.strictObject({
  allow: cidrList.default([]).describe('CIDR prefixes admitted; when any is given, addresses no rule covers are refused'),
  deny: cidrList.default([]).describe('CIDR prefixes refused at accept (the most specific matching rule wins; a deny wins a tie)'),
});

export const ClientLimitsSchema = z.strictObject({
  maxConnections: z.number().int().positive().optional()
    .describe('open connections one client (key: its address, or prefix) may hold on this listener; more are closed at accept (split across workers)'),
  connectionRate: z.number().positive().max(1_000_000).optional()
    .describe('new connections per second one client may open on this listener; more are closed at accept (split across workers)'),
  connectionBurst: z.number().int().positive().optional()
    .describe('connections a client may open at once before connectionRate applies (default: connectionRate, at least 1)'),
  ipv4Prefix: z.number().int().min(8).max(32).default(32)
    .describe('IPv4 clients are counted per prefix of this length (32: per address; 24: per /24)'),
  ipv6Prefix: z.number().int().min(16).max(128).default(64)
    .describe('IPv6 clients are counted per prefix of this length (64: per /64, what one subscriber usually holds)'),
  maxTracked: z.number().int().min(100).max(10_000_000).default(65_536)
    .describe('client keys remembered per listener and worker; idle ones past this are forgotten (bounds memory under address rotation)'),
}).describe('per-client connection limits, checked at accept before any byte is read');

/** The global `access` block: rules for every listener, and the admin API's temporary blocks. */
export const GlobalAccessSchema = AccessRulesSchema.extend({
  temporaryBlocks: z.strictObject({
    max: z.number().int().min(1).max(100_000).default(1000)
      .describe('temporary blocks in force at once (admin API and spike mitigation); adding one more is refused'),
    maxTtl: duration('24h', '168h').describe('longest lifetime of one temporary block'),
  }).prefault({}),
}).describe('allow/deny lists for every listener, checked at accept; hot-reloaded');

export const SpikesSchema = z.strictObject({
  enabled: z.boolean().default(true)
    .describe('watch each route\'s request rate against its learned baseline and report spikes (signals, metrics, dashboard)'),
  window: duration('10s', '10m').refine((ms) => ms >= 500, 'window must be at least 500ms')
    .describe('request rates are judged per window of this length'),
  factor: z.number().gt(1).max(1000).default(4)
    .describe('a route spikes when its rate is at least this × its baseline (and at least minRate)'),
  clearFactor: z.number().gt(0).max(1000).default(2)
    .describe('a spike ends once the rate is below this × the baseline (or below minRate / 2): lower than factor, so it does not flap'),
  minRate: z.number().positive().default(20)
    .describe('requests per second below which a route never spikes (quiet routes are noisy)'),
  baselineTimeConstant: duration('1h', '168h').describe('how slowly the baseline follows traffic (exponential moving average time constant)'),
  warmup: duration('10m', '24h', 'off').describe('traffic learned before a route\'s baseline is trusted'),
  ipv4Prefix: z.number().int().min(8).max(32).default(24).describe('client prefix length for the top-offender list (IPv4)'),
  ipv6Prefix: z.number().int().min(16).max(128).default(64).describe('client prefix length for the top-offender list (IPv6)'),
  sampleEvery: z.number().int().min(1).max(1_000_000).default(8)
    .describe('count the client prefix of 1 request in this many (bounds the per-request cost; counts are scaled back)'),
  mitigate: z.strictObject({
    enabled: z.boolean().default(false).describe('temporarily block the top client prefixes of a spiking route (audited, lifted when the spike ends)'),
    minShare: z.number().gt(0).max(1).default(0.25).describe('a prefix is blocked only when it sent at least this share of the route\'s requests'),
    maxPrefixes: z.number().int().min(1).max(100).default(3).describe('prefixes blocked per spike at most'),
    duration: duration('10m', '24h').describe('longest a mitigation block lasts (it is lifted earlier when the spike ends)'),
  }).prefault({}),
}).describe('spike detection: a route\'s request rate far above its learned baseline, with the client prefixes sending it');

export type ClientLimitsConfig = z.output<typeof ClientLimitsSchema>;
export type SpikesConfig = z.output<typeof SpikesSchema>;
