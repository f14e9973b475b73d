import type { Endpoint, LoadObserver } from '../endpoint.js';
import type { Balancer, BalancerFactory, BalancerOptions, PickContext } from './types.js';
import { attachObserver, captureWeights, detachObserver, emptyBalancer } from './common.js';

/**
 * Weighted least connections over an indexed binary min-heap.
 *
 * Order: endpoint a comes before b when (inFlight_a + 1) / w_a < (inFlight_b + 1) / w_b, compared
 * exactly as (inFlight_a + 1) * w_b < (inFlight_b + 1) * w_a (no division, so equal ratios tie
 * exactly). The "+1" makes weights matter when idle: with nothing in flight the heaviest endpoint
 * is preferred, and an endpoint of weight 2 takes its second request when one of weight 1 takes
 * its first. Ties are broken by `stamp`: the endpoint picked longest ago wins, so tied endpoints
 * are used in rotation (initial stamps are random in [0, 1) from opts.random, so the first
 * rotation order differs between proxies; every pick then stamps the chosen endpoint with an
 * increasing counter).
 *
 * State:
 * - `heap[k]`: endpoint index at heap slot k (slot 0 is the minimum); `slot[i]`: heap slot of
 *   endpoint i, so that an endpoint whose load moved can be re-sifted in O(log n).
 * - `weights[i]`: build-time weights (Endpoint.weight is mutable across reloads; the heap order
 *   must not change behind our back). inFlight is read live from the endpoint.
 * - `indexOf`: Endpoint -> index, for the observer callback.
 * - The balancer is the endpoints' LoadObserver (set at build): Endpoint.begin()/end() call
 *   onLoadChange, which re-sifts that endpoint. The heap is only correct while we are the
 *   observer; `close()` detaches from the endpoints still pointing at us (a newer balancer may
 *   already have taken some over, and keeps them). A closed or superseded balancer still returns
 *   endpoints, just not necessarily the least loaded.
 * - pick(): the root, whose stamp is then bumped and re-sifted (so a caller that picks without
 *   calling begin() still rotates among ties). No allocation.
 */
class LeastConnections implements Balancer, LoadObserver {
  readonly algorithm = 'least-connections';
  private readonly endpoints: readonly Endpoint[];
  private readonly weights: Float64Array;
  private readonly heap: Uint32Array;
  private readonly slot: Uint32Array;
  private readonly stamp: Float64Array;
  private readonly indexOf = new Map<Endpoint, number>();
  private counter = 1;

  constructor(endpoints: readonly Endpoint[], opts: BalancerOptions) {
    const n = endpoints.length;
    this.endpoints = endpoints.slice();
    this.weights = captureWeights(this.algorithm, endpoints);
    this.heap = new Uint32Array(n);
    this.slot = new Uint32Array(n);
    this.stamp = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      this.indexOf.set(this.endpoints[i], i);
      this.heap[i] = i;
      this.slot[i] = i;
      this.stamp[i] = opts.random();
    }
    for (let k = (n >> 1) - 1; k >= 0; k--) this.siftDown(k);
    attachObserver(this.endpoints, this);
  }

  pick(_ctx: PickContext): Endpoint | undefined {
    const i = this.heap[0];
    this.stamp[i] = this.counter++;
    this.siftDown(0);
    return this.endpoints[i];
  }

  onLoadChange(ep: Endpoint, delta: number): void {
    const i = this.indexOf.get(ep);
    if (i === undefined) return;
    if (delta > 0) this.siftDown(this.slot[i]);
    else this.siftUp(this.slot[i]);
  }

  close(): void {
    detachObserver(this.endpoints, this);
  }

  /** True if endpoint a should be picked before endpoint b. */
  private less(a: number, b: number): boolean {
    const la = (this.endpoints[a].inFlight + 1) * this.weights[b];
    const lb = (this.endpoints[b].inFlight + 1) * this.weights[a];
    return la !== lb ? la < lb : this.stamp[a] < this.stamp[b];
  }

  private siftUp(k: number): void {
    const heap = this.heap;
    const i = heap[k];
    while (k > 0) {
      const p = (k - 1) >> 1;
      const j = heap[p];
      if (!this.less(i, j)) break;
      heap[k] = j;
      this.slot[j] = k;
      k = p;
    }
    heap[k] = i;
    this.slot[i] = k;
  }

  private siftDown(k: number): void {
    const heap = this.heap;
    const n = heap.length;
    const i = heap[k];
    for (;;) {
      let c = 2 * k + 1;
      if (c >= n) break;
      if (c + 1 < n && this.less(heap[c + 1], heap[c])) c++;
      const j = heap[c];
      if (!this.less(j, i)) break;
      heap[k] = j;
      this.slot[j] = k;
      k = c;
    }
    heap[k] = i;
    this.slot[i] = k;
  }

  /** Test hook: true if every parent orders before-or-equal its children. O(n). */
  checkHeap(): boolean {
    for (let k = 1; k < this.heap.length; k++) {
      if (this.less(this.heap[k], this.heap[(k - 1) >> 1])) return false;
    }
    return true;
  }
}

/**
 * `least-connections`: the endpoint with the smallest (inFlight + 1) / weight; ties rotate.
 * Inputs: the usable endpoints (weights captured at build, inFlight read live); `opts.random`
 * draws the initial tie order (n draws at build). Becomes every endpoint's `observer` (replacing
 * any previous one); call close() when the balancer is replaced.
 * Throws: Error if a weight is not a finite number > 0. Empty list: picks return undefined.
 * Complexity: build O(n); pick O(log n); each begin()/end() O(log n) via the observer hook;
 * no allocation in pick or in the observer callback.
 */
export const leastConnections: BalancerFactory = (endpoints, opts) =>
  endpoints.length === 0 ? emptyBalancer('least-connections') : new LeastConnections(endpoints, opts);
