import { newVerdict, type Verdict } from '../../ratelimit/gcra.js';
import type { KeySource } from '../../ratelimit/limit-key.js';
import type { KeyState } from '../../ratelimit/limiter.js';
import { refusalFields } from '../../ratelimit/fields.js';
import type { RoutedRequest } from '../proxy.js';
import type { AdmissionFilter, Refusal } from './admission.js';

/** Scratch per limit position (checks are synchronous: one request at a time per worker). */
const verdicts: Verdict[] = [];
const states: KeyState[] = [];
const source: KeySource = { clientIp: '', headers: [], route: '' };

/**
 * Request rate limits (issue 18): every limit of the route (and its service) decides the request
 * by its key; nothing is consumed unless all enforcing limits pass, so a request one limit
 * refuses costs the others nothing. Over any: 429 with the fields of the limit that asks the
 * longest wait. Shadow limits never refuse; what they would refuse is counted.
 */
export const rateLimitFilter: AdmissionFilter = {
  name: 'rate-limit',
  applies: (r) => r.rateLimits.length > 0,
  check(r: RoutedRequest): Refusal | null {
    const limits = r.rateLimits;
    if (limits.length === 0) return null;
    const now = performance.now();
    source.clientIp = r.clientIp;
    source.headers = r.headers;
    source.route = r.route;
    let worst = -1;
    for (let i = 0; i < limits.length; i++) {
      const l = limits[i];
      const v = verdicts[i] ??= newVerdict();
      states[i] = l.check(l.settings.key(source), now, v);
      if (!v.allowed && l.mode === 'enforce' && (worst === -1 || v.retryAfterMs > verdicts[worst].retryAfterMs)) worst = i;
    }
    for (let i = 0; i < limits.length; i++) {
      const l = limits[i];
      const c = l.counters;
      if (!verdicts[i].allowed) {
        if (l.mode === 'shadow') c.shadowLimited++; else c.limited++;
      } else if (worst === -1) {
        l.commit(states[i]);
        c.allowed++;
      }
    }
    if (worst === -1) return null;
    const s = limits[worst].settings;
    return { code: 'SWY_RATE_LIMITED', detail: `rate limit ${s.name} exceeded`, headers: refusalFields(s, verdicts[worst]) };
  },
};
