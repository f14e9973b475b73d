import { z } from 'zod';
import { parseDuration } from './duration.js';
import { TIMER_MAX_MS } from '../util/clock.js';

/*
 * Per-service resilience settings. Defaults are the design chapter's numbers
 * (../shared/design/scalability-and-reliability.md): health checks every 5 s with 3 failures,
 * circuit breaker 50% / 20 requests / 30 s / 5 trials; passive outlier detection as Envoy does.
 */

/** The bounds of every duration field, keyed by its input schema (tests walk the config schema with it). */
export const durationBounds = z.registry<{ maxMs: number; zeroAllowed: boolean }>();

/**
 * A duration field with a default, parsed into milliseconds. Every duration has an upper bound
 * `max` (Node's timers overflow past TIMER_MAX_MS into a 1 ms delay, and a per-field maximum
 * catches a unit mistake such as `1000h`). `0` is rejected unless `zero` says what it means for
 * the field: a timeout of 0 meant "no timeout" to node:http and undici but "expire at once" to
 * the fast engine, so a field takes 0 only where it has one meaning everywhere ("off").
 */
export const duration = (def: string, max: string, zero?: 'off') => {
  const maxMs = parseDuration(max);
  if (maxMs === undefined || maxMs > TIMER_MAX_MS) throw new Error(`duration max ${max} is above Node's timer limit`);
  const input = z.union([z.number().nonnegative(), z.string()])
    .describe('a duration: milliseconds as a number, or a string like "250ms", "5s", "1m"');
  durationBounds.add(input, { maxMs, zeroAllowed: zero !== undefined });
  return input.default(def).transform((v, ctx) => {
    const ms = parseDuration(v);
    if (ms === undefined) {
      ctx.addIssue({ code: 'custom', message: `invalid duration "${v}" (use e.g. 250ms, 5s, 1m)` });
      return z.NEVER;
    }
    if (ms > maxMs) ctx.addIssue({ code: 'custom', message: `must be at most ${max}, got ${typeof v === 'number' ? `${v} ms` : v}` });
    else if (ms === 0 && zero === undefined) ctx.addIssue({ code: 'custom', message: 'must be more than 0' });
    return ms;
  });
};

/** `200`, `"200-399"` → [lo, hi]. */
const statusRange = z.union([
  z.number().int().min(100).max(599).transform((n) => [n, n] as [number, number]),
  z.string().regex(/^\d{3}-\d{3}$/, 'a status or a range like "200-399"')
    .transform((s) => s.split('-').map(Number) as [number, number]),
]);

export const HealthCheckSchema = z.strictObject({
  type: z.enum(['http', 'tcp']).default('http'),
  interval: duration('5s', '1h').refine((ms) => ms >= 10, 'interval must be at least 10ms').describe('time between checks of one backend (jittered ±10%, first check at a random offset)'),
  timeout: duration('2s', '1m'),
  unhealthyThreshold: z.number().int().min(1).default(3),
  healthyThreshold: z.number().int().min(1).default(2),
  method: z.string().regex(/^[A-Z]+$/).default('GET'),
  path: z.string().startsWith('/').default('/'),
  expectedStatuses: z.array(statusRange).min(1).prefault(['200-399']),
  bodyContains: z.string().optional(),
  host: z.string().optional().describe('Host header of the check (default: the backend address)'),
}).describe('active health checks, run once per node by the primary');

export const OutlierSchema = z.strictObject({
  enabled: z.boolean().default(true),
  consecutiveFailures: z.number().int().min(1).default(5).describe('5xx or gateway failures in a row that eject a backend'),
  baseEjectionTime: duration('30s', '1h').describe('ejection lasts this × the number of times the backend was ejected'),
  maxEjectionTime: duration('300s', '24h'),
  maxEjectionPercent: z.number().min(0).max(100).default(50).describe('never eject more than this share of the pool'),
  successRateThreshold: z.number().min(0).max(100).default(0)
    .describe('percent; eject a backend whose success rate over `interval` falls below it (0 = off)'),
  successRateRequestVolume: z.number().int().min(1).default(100).describe('requests in the interval before the success rate counts'),
  interval: duration('10s', '1h').describe('success-rate window'),
}).describe('passive outlier detection from live traffic');

export const BreakerSchema = z.strictObject({
  enabled: z.boolean().default(true),
  errorThresholdPercentage: z.number().min(1).max(100).default(50),
  requestVolumeThreshold: z.number().int().min(1).default(20),
  sleepWindow: duration('30s', '1h'),
  halfOpenRequests: z.number().int().min(1).default(5),
  window: duration('10s', '1h').refine((ms) => ms >= 10, 'window must be at least 10ms').describe('rolling window the error percentage is computed over'),
}).describe('circuit breaker per backend; an open breaker takes the backend out of picking');

export const RetrySchema = z.strictObject({
  enabled: z.boolean().default(true),
  connectRetries: z.number().int().min(0).max(10).default(2)
    .describe('connection refused / connect timeout: retried at once on another backend'),
  statusRetries: z.number().int().min(0).max(10).default(1)
    .describe('502/503/504 answers and resets after the request was sent: idempotent requests only'),
  timeoutRetries: z.number().int().min(0).max(10).default(1)
    .describe('upstream timeout: idempotent requests only, with the per-try timeout multiplied by timeoutGrowth'),
  timeoutGrowth: z.number().min(1).max(10).default(2),
  retryOn: z.array(z.number().int().min(500).max(599)).default([502, 503, 504]),
  baseDelay: duration('100ms', '1m', 'off').describe('backoff: base × 2^attempt, capped at maxDelay, plus up to 10% jitter'),
  maxDelay: duration('5s', '5m', 'off'),
  perTryTimeout: duration('0ms', '1h', 'off')
    .describe('response timeout of one try (a timeout retry gets this × timeoutGrowth, at most timeouts.request); 0 = timeouts.request'),
  budgetPercent: z.number().min(0).max(100).default(20).describe('retries and hedges at most this share of the requests over budgetWindow…'),
  budgetMinPerSecond: z.number().min(0).max(100_000).default(10).describe('…but always allow this many per second'),
  budgetWindow: duration('10s', '10m').refine((ms) => ms >= 100, 'budgetWindow must be at least 100ms')
    .describe('how long a request\'s deposit and a retry\'s withdrawal count'),
  budgetMinConcurrent: z.unknown().optional().superRefine((v, ctx) => {
    if (v !== undefined) ctx.addIssue({ code: 'custom', message: 'budgetMinConcurrent was replaced by budgetMinPerSecond (the retry budget is a token bucket now; see docs/config.md)' });
  }),
  maxBufferedBody: z.number().int().min(0).max(16 << 20).default(64 * 1024)
    .describe('request bodies up to this size are buffered so they can be replayed; larger ones are not retried'),
}).describe('retries per the design: each retry picks again and skips backends already tried');

export const HedgingSchema = z.strictObject({
  enabled: z.boolean().default(false),
  percentile: z.number().min(50).max(99.9).default(99).describe('the service latency percentile the delay is learned from'),
  factor: z.number().min(1).max(10).default(1.5).describe('hedge once a request waited percentile × factor'),
  minDelay: duration('10ms', '1m').describe('never hedge earlier than this'),
  maxDelay: duration('1s', '1m').describe('always hedge by then (also the delay until enough latencies are known)'),
}).refine((h) => h.minDelay <= h.maxDelay, { message: 'minDelay must not exceed maxDelay', path: ['minDelay'] })
  .describe('tail-tolerant requests: a backup request to another backend for an idempotent bodiless request that waits too long; first answer wins');

export const BulkheadSchema = z.strictObject({
  maxConcurrent: z.number().int().min(0).default(0)
    .describe('requests in flight to this service per node (0 = no limit); divided across workers'),
  maxQueued: z.number().int().min(0).default(0).describe('requests that may wait for a slot (per node)'),
  queueTimeout: duration('1s', '5m').describe('longest wait in the queue'),
}).describe('isolates this service: overflow gets a fast 503 with Retry-After instead of piling up');

export const DegradationSchema = z.strictObject({
  panicThreshold: z.number().min(0).max(100).default(0)
    .describe('percent; when fewer backends than this are usable, spread over all of them anyway (fail-open). 0 = off'),
  staleCache: z.boolean().default(false)
    .describe('keep the last good GET responses; serve them (with Age and Warning) when no backend can answer'),
  staleMaxAge: duration('24h', '168h', 'off').describe('oldest stale response that may be served'),
  errorPage: z.strictObject({
    status: z.number().int().min(400).max(599).default(503),
    contentType: z.string().default('text/html; charset=utf-8'),
    body: z.string(),
  }).optional().describe('answer when no backend can answer and no stale response exists'),
}).describe('what a service does when its backends cannot answer');

export type DegradationConfig = z.output<typeof DegradationSchema>;
export type HedgingConfig = z.output<typeof HedgingSchema>;
export type BulkheadConfig = z.output<typeof BulkheadSchema>;
export type RetryConfig = z.output<typeof RetrySchema>;
export type HealthCheckConfig = z.output<typeof HealthCheckSchema>;
export type OutlierConfig = z.output<typeof OutlierSchema>;
export type BreakerConfig = z.output<typeof BreakerSchema>;
