import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SlotList } from './slot-list.js';

interface Item { id: number; slot: number }
const item = (id: number): Item => ({ id, slot: -1 });
const ids = (l: SlotList<'slot', Item>) => l.toArray().map((m) => m.id).sort((a, b) => a - b);

test('add, has, delete: a set, each member holding its index', () => {
  const l = new SlotList<'slot', Item>('slot');
  const [a, b, c] = [item(1), item(2), item(3)];
  l.add(a); l.add(b); l.add(c);
  l.add(b); // already in: no second entry
  assert.equal(l.size, 3);
  assert.ok(l.has(a) && l.has(b) && l.has(c));
  l.delete(a); // the last member (c) moves into a's place
  assert.equal(l.size, 2);
  assert.equal(a.slot, -1);
  assert.ok(!l.has(a));
  assert.deepEqual(ids(l), [2, 3]);
  assert.equal(l.toArray()[c.slot], c);
  l.delete(a); // not in: nothing happens
  assert.equal(l.size, 2);
  l.delete(c); l.delete(b);
  assert.equal(l.size, 0);
  l.add(a); // members can come back
  assert.deepEqual(ids(l), [1]);
});

test('a member of another list with the same key is not taken for a member of this one', () => {
  const one = new SlotList<'slot', Item>('slot');
  const two = new SlotList<'slot', Item>('slot');
  const [a, b] = [item(1), item(2)];
  one.add(a);
  two.add(b);
  // b.slot is 0, a valid index here, but b is not in `one`
  assert.ok(!one.has(b));
  one.delete(b);
  assert.equal(one.size, 1);
  assert.ok(one.has(a));
});

test('forEach visits every member present throughout, while the callback deletes and adds', () => {
  for (let n = 1; n <= 40; n++) {
    const l = new SlotList<'slot', Item>('slot');
    const all = Array.from({ length: n }, (_, i) => item(i));
    for (const m of all) l.add(m);
    const deleted = new Set<number>();
    const visited = new Set<number>();
    const added: Item[] = [];
    l.forEach((m) => {
      visited.add(m.id);
      if (m.id >= 10_000) return; // a newcomer: may be visited, nothing more
      // delete itself (every third), and another member (every fifth), and add a newcomer (every seventh)
      if (m.id % 3 === 0) { l.delete(m); deleted.add(m.id); }
      if (m.id % 5 === 0) {
        const other = all[(m.id * 7 + 3) % n]!;
        if (other !== m && !visited.has(other.id)) { l.delete(other); deleted.add(other.id); }
      }
      if (m.id % 7 === 0) { const x = item(10_000 + m.id); added.push(x); l.add(x); }
    });
    for (const m of all) {
      if (!deleted.has(m.id)) assert.ok(visited.has(m.id), `n=${n}: member ${m.id} present throughout was not visited`);
    }
    const expected = [...all, ...added].filter((m) => !deleted.has(m.id)).map((m) => m.id).sort((a, b) => a - b);
    assert.deepEqual(ids(l), expected, `n=${n}`);
    for (const m of l.toArray()) assert.equal(l.toArray()[m.slot], m);
  }
});
