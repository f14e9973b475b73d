import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mergeTopKeys, TopKeys } from './top-keys.js';
import { seededRandom, type Random } from '../util/random.js';
import { fewestGcs } from '../util/gc-check.js';

/** A Zipf(s) sampler over ranks 0..n-1 (rank 0 most frequent), by inverse CDF. */
function zipf(n: number, s: number, random: Random): () => number {
  const cdf = new Float64Array(n);
  let sum = 0;
  for (let i = 0; i < n; i++) cdf[i] = sum += 1 / Math.pow(i + 1, s);
  return () => {
    const u = random() * sum;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cdf[mid] < u) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

/** `count` keys of a Zipf(1.1) stream over 10 000 distinct keys, and their true counts. */
function zipfStream(count: number, seed: number): { stream: string[]; truth: Map<string, number> } {
  const names = Array.from({ length: 10_000 }, (_, i) => `user-${(i * 7919) % 10_007}`);
  const next = zipf(names.length, 1.1, seededRandom(seed));
  const stream: string[] = [];
  const truth = new Map<string, number>();
  for (let i = 0; i < count; i++) {
    const k = names[next()];
    stream.push(k);
    truth.set(k, (truth.get(k) ?? 0) + 1);
  }
  return { stream, truth };
}

function trueTop(truth: Map<string, number>, n: number): string[] {
  return [...truth].sort((a, b) => b[1] - a[1]).slice(0, n).map(([k]) => k);
}

test('top-keys: Zipf(1.1) stream, 200k keys over 10k distinct: the true top 3 are reported in order, counts within the error bound', () => {
  const { stream, truth } = zipfStream(200_000, 1);
  const tk = new TopKeys({ capacity: 64 });
  for (const k of stream) tk.add(k);
  const top = tk.top(3);
  assert.deepEqual(top.map((t) => t.key), trueTop(truth, 3));
  for (const t of tk.top(64)) {
    const real = truth.get(t.key) ?? 0;
    assert.ok(t.count - t.error <= real && real <= t.count, `${t.key}: true ${real}, estimate ${t.count} − ${t.error}`);
    assert.ok(t.error <= stream.length / 64);
  }
  assert.equal(tk.total, 200_000);
  assert.ok(Math.abs(top[0].share - truth.get(top[0].key)! / 200_000) < 0.01);
});

test('top-keys: memory is bounded — 1M distinct keys keep at most `capacity` counters; every key above total/capacity is kept', () => {
  const tk = new TopKeys({ capacity: 64 });
  const heavy = ['h1', 'h2', 'h3'];
  for (let i = 0; i < 1_000_000; i++) tk.add(i % 10 < 1 ? heavy[i % 3] : `k${i}`); // each heavy ~3.3% > 1/64
  assert.equal(tk.size, 64);
  const keys = tk.top(64).map((t) => t.key);
  assert.equal(new Set(keys).size, 64, 'no key counted twice');
  for (const h of heavy) assert.ok(keys.includes(h), `${h} kept`);
});

test('top-keys: table stays consistent under constant eviction (small capacity, colliding buckets): no duplicates, counters sum to the total', () => {
  for (const cap of [1, 2, 3, 8]) {
    const tk = new TopKeys({ capacity: cap });
    const rnd = seededRandom(cap);
    const truth = new Map<string, number>();
    for (let i = 0; i < 50_000; i++) {
      const k = `k${Math.floor(rnd() * rnd() * 40)}`; // skewed, 40 keys
      truth.set(k, (truth.get(k) ?? 0) + 1);
      tk.add(k);
      if (i % 997 === 0) {
        const all = tk.top(cap);
        assert.equal(new Set(all.map((t) => t.key)).size, all.length, `capacity ${cap}: duplicate key at ${i}`);
        assert.equal(all.reduce((s, t) => s + t.count, 0), i + 1, `capacity ${cap}: Space-Saving counters sum to the stream length`);
        for (const t of all) assert.ok((truth.get(t.key) ?? 0) <= t.count);
      }
    }
  }
});

test('top-keys: sampleEvery 10 keeps the true top 3 with counts scaled back (within 10%)', () => {
  const { stream, truth } = zipfStream(200_000, 2);
  const tk = new TopKeys({ capacity: 64, sampleEvery: 10, random: seededRandom(5) });
  for (const k of stream) tk.add(k);
  const top = tk.top(3);
  assert.deepEqual(top.map((t) => t.key), trueTop(truth, 3));
  for (const t of top) {
    const real = truth.get(t.key)!;
    assert.ok(Math.abs(t.count - real) / real < 0.1, `${t.key}: ${t.count} vs ${real}`);
  }
  assert.ok(Math.abs(tk.total - 200_000) / 200_000 < 0.05, `total ${tk.total}`);
});

test('top-keys: sampling is not aliased by periodic traffic (A,B,A,B… with sampleEvery 2)', () => {
  const tk = new TopKeys({ sampleEvery: 2, random: seededRandom(9) });
  for (let i = 0; i < 100_000; i++) tk.add(i % 2 === 0 ? 'A' : 'B');
  const [a, b] = tk.top(2);
  assert.ok(Math.abs(a.share - 0.5) < 0.02 && Math.abs(b.share - 0.5) < 0.02, `${a.key} ${a.share}, ${b.key} ${b.share}`);
});

test('top-keys: reset starts a new window; decay scales counts and keeps shares', () => {
  const tk = new TopKeys({ capacity: 4 });
  for (let i = 0; i < 30; i++) tk.add(i < 20 ? 'x' : 'y');
  tk.decay(0.5);
  assert.deepEqual(tk.top(2).map((t) => [t.key, t.count, Number(t.share.toFixed(3))]), [['x', 10, 0.667], ['y', 5, 0.333]]);
  assert.equal(tk.total, 15);
  tk.reset();
  assert.deepEqual(tk.top(5), []);
  assert.equal(tk.total, 0);
  tk.add('z');
  assert.deepEqual(tk.top(5).map((t) => [t.key, t.count, t.share]), [['z', 1, 1]]);
  assert.throws(() => tk.decay(0), RangeError);
  assert.throws(() => new TopKeys({ capacity: 0 }), RangeError);
  assert.throws(() => new TopKeys({ sampleEvery: 1.5 }), RangeError);
});

test('top-keys: mergeTopKeys sums lists (workers or backends) by key', () => {
  assert.deepEqual(mergeTopKeys([[{ key: 'a', count: 5 }, { key: 'b', count: 4 }], [{ key: 'b', count: 3 }, { key: 'c', count: 1 }]], 2),
    [{ key: 'b', count: 7 }, { key: 'a', count: 5 }]);
});

test('top-keys: add allocates nothing once optimised (hits, misses with eviction, and sampling)', async () => {
  const keys = Array.from({ length: 4096 }, (_, i) => `client-${i}`);
  for (const sampleEvery of [1, 8]) {
    const tk = new TopKeys({ capacity: 64, sampleEvery, random: () => 0.371 });
    const round = (n: number) => {
      for (let i = 0; i < n; i++) tk.add(keys[(i & 7) === 0 ? i & 4095 : i & 15]);
    };
    assert.equal(await fewestGcs(round), 0, `sampleEvery ${sampleEvery}: every round of 1M adds triggered GC`);
  }
});
