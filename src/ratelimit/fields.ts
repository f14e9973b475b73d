import type { Verdict } from './gcra.js';
import type { LimitSettings } from './limiter.js';

/*
 * The response fields of a refusal, in the syntax of the IETF draft "RateLimit header fields for
 * HTTP" (draft-ietf-httpapi-ratelimit-headers-10): Structured Field lists whose members are the
 * policy name as an sf-string with parameters —
 *   RateLimit-Policy: "per-ip";q=100;w=60    (quota q per window of w seconds)
 *   RateLimit: "per-ip";r=0;t=3              (r units remaining, t seconds until they are available)
 * — plus Retry-After (RFC 9110, delay-seconds). Limit names are restricted by the schema to
 * characters that need no escaping in an sf-string.
 */

/** Whole seconds, at least 1: a client told 0 would retry at once. */
const seconds = (ms: number) => Math.max(1, Math.ceil(ms / 1000));

/**
 * The policy as quota per whole-second window: a period under a second, or not a whole number
 * of seconds, is restated over the nearest whole-second window with the quota scaled (floored).
 */
export function policyField(s: LimitSettings): string {
  const w = Math.max(1, Math.round(s.shape.periodMs / 1000));
  const q = Math.max(1, Math.floor((s.shape.rate * w * 1000) / s.shape.periodMs));
  return `"${s.name}";q=${q};w=${w}`;
}

/** Retry-After, RateLimit-Policy and RateLimit of a refusal by the limit `s` (flat name/value). */
export function refusalFields(s: LimitSettings, v: Verdict): string[] {
  const t = seconds(v.retryAfterMs);
  return ['retry-after', String(t), 'ratelimit-policy', policyField(s), 'ratelimit', `"${s.name}";r=${v.remaining};t=${t}`];
}
