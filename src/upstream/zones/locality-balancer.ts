import type { Endpoint } from '../endpoint.js';
import type { Balancer, PickContext } from '../balancers/types.js';
import { pickHash } from '../balancers/common.js';
import { mix32 } from '../../util/hash.js';
import type { Random } from '../../util/random.js';
import type { LocalityPlan } from './locality.js';

/** Salt so that the subset choice of a key is independent of its position on the subset's ring. */
const SUBSET_SALT = 0x5bd1e995;

/**
 * A balancer over a locality plan: one inner balancer per subset (a zone of a priority level, or
 * a whole level), chosen per request with the plan's shares, then asked for the endpoint.
 * Keyed requests choose the subset by a salted hash of their key, so a key stays in its zone and
 * each zone's ring is built only from that zone's backends: a health change elsewhere does not
 * move the key. Each endpoint sits in at most one subset, so load-tracking inner balancers never
 * share an endpoint's observer.
 */
export class LocalityBalancer implements Balancer {
  readonly algorithm: string;
  /** Cumulative shares of the subsets, the last one 1. */
  private readonly cumulative: Float64Array;
  private readonly parts: readonly Balancer[];

  /** `build(endpoints)` makes the inner balancer of one subset (the configured algorithm over it). */
  constructor(algorithm: string, plan: LocalityPlan, endpoints: readonly Endpoint[], build: (subset: Endpoint[]) => Balancer, private readonly random: Random) {
    this.algorithm = algorithm;
    const parts: Balancer[] = [];
    const shares: number[] = [];
    for (const p of plan.priorities) {
      for (const s of p.subsets) {
        if (s.members.length === 0 || p.load * s.share <= 0) continue;
        parts.push(build(s.members.map((i) => endpoints[i])));
        shares.push(p.load * s.share);
      }
    }
    const total = shares.reduce((a, b) => a + b, 0);
    this.cumulative = new Float64Array(shares.length);
    let acc = 0;
    shares.forEach((x, i) => { acc += x / total; this.cumulative[i] = acc; });
    if (shares.length > 0) this.cumulative[shares.length - 1] = 1;
    this.parts = parts;
  }

  /** Hot path: no allocation; one random draw (or hash) when there is more than one subset. */
  pick(ctx: PickContext): Endpoint | undefined {
    const n = this.parts.length;
    if (n === 0) return undefined;
    if (n === 1) return this.parts[0].pick(ctx);
    const u = ctx.hashKey === undefined ? this.random() : (mix32(pickHash(ctx.hashKey, ctx.attempt) ^ SUBSET_SALT) >>> 0) / 4294967296;
    for (let i = 0; i < n - 1; i++) if (u < this.cumulative[i]) return this.parts[i].pick(ctx);
    return this.parts[n - 1].pick(ctx);
  }

  close(): void {
    for (const p of this.parts) p.close?.();
  }
}
