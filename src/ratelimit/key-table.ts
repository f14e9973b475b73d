/**
 * The state of a limit's keys, bounded: at most `cap` keys, least recently used evicted first,
 * so a client rotating keys (addresses, header values) cannot grow memory past the cap — it
 * can only evict other keys' state (which then starts over with a full burst: the cost of the
 * bound, visible as `evicted`). Map insertion order is the recency list: a hit moves the key to
 * the end. O(1) per operation.
 */
export class KeyTable<V> {
  private readonly map = new Map<string, V>();
  /** Keys dropped to stay within the cap (not those `sweep` removed). */
  evicted = 0;

  constructor(readonly cap: number) {
    if (!(Number.isInteger(cap) && cap >= 1)) throw new RangeError(`cap must be an integer >= 1, got ${cap}`);
  }

  get size(): number { return this.map.size; }

  /** The value of `key`, created by `make` when absent; marks it most recently used. */
  touch(key: string, make: () => V): V {
    const m = this.map;
    let v = m.get(key);
    if (v !== undefined) {
      m.delete(key);
      m.set(key, v);
      return v;
    }
    if (m.size >= this.cap) {
      m.delete(m.keys().next().value!);
      this.evicted++;
    }
    v = make();
    m.set(key, v);
    return v;
  }

  get(key: string): V | undefined { return this.map.get(key); }

  /** Removes the keys `done` says are finished (e.g. a GCRA key whose TAT is past). */
  sweep(done: (v: V, key: string) => boolean): void {
    for (const [k, v] of this.map) if (done(v, k)) this.map.delete(k);
  }

  entries(): IterableIterator<[string, V]> { return this.map.entries(); }
}
