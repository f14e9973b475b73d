import { z } from 'zod';
import { duration } from './resilience-schema.js';
import { redisUrlProblem } from './redis-url.js';
import { secret, url } from './secrets.js';

/*
 * Request rate limits (`rateLimits` on routes and services) and the node-wide `rateLimiting`
 * block (key cap, fleet sync). See docs/config.md, "Rate limits".
 */

const headerName = z.string().regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, 'a header name token').max(256);

const KeySchema = z.discriminatedUnion('by', [
  z.strictObject({
    by: z.literal('client-ip'),
    ipv4Prefix: z.number().int().min(0).max(32).default(32).describe('count IPv4 clients per network of this prefix length (24: per /24)'),
    ipv6Prefix: z.number().int().min(0).max(128).default(128).describe('count IPv6 clients per network of this prefix length (64: per /64)'),
  }),
  z.strictObject({ by: z.literal('header'), name: headerName }),
  z.strictObject({ by: z.literal('cookie'), name: z.string().min(1).max(256) }),
  z.strictObject({ by: z.literal('identity'), header: headerName.describe('the header an authenticating front sets (e.g. x-user-id)') }),
  z.strictObject({ by: z.literal('route') }),
  z.strictObject({ by: z.literal('global') }),
]).describe('what is counted: client-ip (optionally its /24, /64 network), a header, a cookie, an identity header, the route, or global; a request without the header/cookie is counted by its client address');

export const RateLimitSchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'letters, digits, _ . - (at most 64)')
    .describe('names the limit in metrics, the admin API and the RateLimit-Policy field'),
  rate: z.number().positive().max(1_000_000).describe('requests allowed per `period`'),
  period: duration('1s', '24h').refine((ms) => ms >= 1, 'period must be at least 1ms').describe('the time `rate` is counted over'),
  burst: z.number().int().min(1).max(1_000_000).optional()
    .describe('requests a key may send at once (default: rate rounded up); the long-run rate stays `rate` per `period`'),
  key: KeySchema.prefault({ by: 'client-ip' }),
  mode: z.enum(['enforce', 'shadow']).default('enforce')
    .describe('enforce: over the limit is answered 429; shadow: forwarded anyway and only counted (try a limit in production)'),
  scope: z.enum(['local', 'fleet']).default('local')
    .describe('local: each node enforces the limit on its own (divided across its workers); fleet: one budget for every node, shared through Redis'),
}).transform((l) => ({ ...l, burst: l.burst ?? Math.ceil(l.rate) }));

/** The limits of one route or service, names unique. */
export const RateLimitsSchema = z.array(RateLimitSchema).max(16).default([]).superRefine((list, ctx) => {
  const seen = new Set<string>();
  list.forEach((l, i) => {
    if (seen.has(l.name)) ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `duplicate rate limit name "${l.name}"` });
    seen.add(l.name);
  });
}).describe('request rate limits; every one must pass (over any: 429 with Retry-After and RateLimit fields)');

export const RateLimitingSchema = z.strictObject({
  maxKeys: z.number().int().min(1).max(10_000_000).default(100_000)
    .describe('keys each limit keeps per worker (least recently used dropped first): bounds memory against clients rotating keys'),
  redis: secret(z.string().superRefine((s, ctx) => {
    const p = redisUrlProblem(s);
    if (p !== undefined) ctx.addIssue({ code: 'custom', message: p });
  }), url).optional().describe('Redis for fleet limits (default: tlsSessionCache.redis)'),
  keyPrefix: z.string().min(1).default('switchyard:rl:').describe('Redis key prefix of fleet limit buckets'),
  syncInterval: duration('100ms', '10s').refine((ms) => ms >= 10, 'syncInterval must be at least 10ms')
    .describe('how often each worker settles its fleet limits with Redis (never per request)'),
}).describe('node-wide rate-limit settings');

export type RateLimitConfig = z.output<typeof RateLimitSchema>;
export type RateLimitingConfig = z.output<typeof RateLimitingSchema>;
