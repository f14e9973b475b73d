/**
 * A set of objects with one member per connection or request: an array in which each member
 * keeps its own index (in the field named `key`), so add and delete are O(1) and allocate
 * nothing; delete moves the last member into the hole.
 *
 * Why not a Set: V8 rebuilds a Set's hash table every few hundred add/delete pairs. Once the set
 * has lived long enough for its table to be in the old generation, every rebuilt table is
 * allocated there too, and the table it replaces stays in old space, still pointing at the
 * members it held, until the next full GC. Young-generation GCs take those pointers as live, so
 * every connection that happened to be a member at a rebuild survives and is promoted — and
 * whatever it points to with it. On the L4 relay (`bench/l4.mjs`'s conn scenario) 45% of the
 * bytes allocated per connection survived scavenges; with this list, none. `bench/set-churn.mjs`
 * shows it alone: 2M objects through an old Set cost 1.4 s of scavenges and 28 full GCs, through
 * a SlotList 17 ms and none (a WeakSet does not pin them, but costs 8× a SlotList per add/delete).
 */
export class SlotList<K extends string, T extends Record<K, number>> {
  private readonly members: T[] = [];

  /** Members must start with `member[key] === -1` (not in any list of this key). */
  constructor(private readonly key: K) {}

  get size(): number {
    return this.members.length;
  }

  has(member: T): boolean {
    const i = member[this.key];
    return i >= 0 && this.members[i] === member;
  }

  /** Adds `member` unless it is already in. */
  add(member: T): void {
    if (this.has(member)) return;
    (member as Record<K, number>)[this.key] = this.members.length;
    this.members.push(member);
  }

  /** Removes `member` if it is in; the last member takes its place. */
  delete(member: T): void {
    if (!this.has(member)) return;
    const i = member[this.key];
    const last = this.members.pop()!;
    if (last !== member) {
      this.members[i] = last;
      (last as Record<K, number>)[this.key] = i;
    }
    (member as Record<K, number>)[this.key] = -1;
  }

  /**
   * Calls `f` on every member, `f` may add and delete members (itself or others): members added
   * meanwhile may or may not be visited, every member present throughout is visited at least
   * once, and one moved by a delete may be visited twice (so `f` must be harmless to repeat).
   */
  forEach(f: (member: T) => void): void {
    // Backwards: a delete moves the last member into the hole, and the last member is either
    // already visited or about to be.
    for (let i = this.members.length - 1; i >= 0; i--) {
      if (i < this.members.length) f(this.members[i]!);
    }
  }

  /** The members now, as a new array (for a loop that closes them). */
  toArray(): T[] {
    return this.members.slice();
  }
}
