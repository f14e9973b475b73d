import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hash32, hash32b, mix32, murmur3, SECOND_SEED } from './hash.js';
import { seededRandom } from './random.js';

/** Straightforward byte-array murmur3_32 used as an independent reference (allocates; tests only). */
function referenceMurmur3(bytes: Uint8Array, seed: number): number {
  let h = seed >>> 0;
  const nblocks = bytes.length >> 2;
  for (let b = 0; b < nblocks; b++) {
    const o = b * 4;
    let k = bytes[o] | (bytes[o + 1] << 8) | (bytes[o + 2] << 16) | (bytes[o + 3] << 24);
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  const tail = nblocks * 4;
  const rem = bytes.length & 3;
  if (rem > 0) {
    let k = 0;
    if (rem === 3) k ^= bytes[tail + 2] << 16;
    if (rem >= 2) k ^= bytes[tail + 1] << 8;
    k ^= bytes[tail];
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    h ^= k;
  }
  h ^= bytes.length;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

test('murmur3 matches published MurmurHash3_x86_32 vectors', () => {
  const vectors: Array<[string, number, number]> = [
    ['', 0, 0],
    ['', 1, 0x514e28b7],
    ['', 0xffffffff, 0x81f16f39],
    ['\0\0\0\0', 0, 0x2362f9de],
    ['a', 0x9747b28c, 0x7fa09ea6],
    ['aa', 0x9747b28c, 0x5d211726],
    ['aaa', 0x9747b28c, 0x283e0130],
    ['aaaa', 0x9747b28c, 0x5a97808a],
    ['ab', 0x9747b28c, 0x74875592],
    ['abc', 0x9747b28c, 0xc84a62dd],
    ['abcd', 0x9747b28c, 0xf0478627],
    ['Hello, world!', 0x9747b28c, 0x24884cba],
    ['ππππππππ', 0x9747b28c, 0xd58063c1],
    ['The quick brown fox jumps over the lazy dog', 0x9747b28c, 0x2fa826cd],
    ['test', 0, 0xba6bd213],
    ['Hello, world!', 0, 0xc0363e43],
    ['The quick brown fox jumps over the lazy dog', 0, 0x2e4ff723],
  ];
  for (const [s, seed, want] of vectors) {
    assert.equal(murmur3(s, seed), want, `murmur3(${JSON.stringify(s)}, 0x${seed.toString(16)})`);
  }
});

test('murmur3 equals a byte-array reference over Buffer UTF-8, incl. astral chars and lone surrogates', () => {
  const rnd = seededRandom(7);
  const alphabet = ['a', 'Z', '0', '-', ':', '[', 'é', 'ß', 'π', '€', '中', '😀', '\ud800', '\udfff', '\u07ff', '\u0800'];
  for (let t = 0; t < 2000; t++) {
    let s = '';
    const len = Math.floor(rnd() * 24);
    for (let i = 0; i < len; i++) s += alphabet[Math.floor(rnd() * alphabet.length)];
    const bytes = Buffer.from(s, 'utf8');
    const seed = Math.floor(rnd() * 4294967296);
    assert.equal(murmur3(s, seed), referenceMurmur3(bytes, seed), JSON.stringify(s));
  }
});

test('hash32 / hash32b are the two seeds and differ', () => {
  assert.equal(hash32('10.0.0.1:80'), murmur3('10.0.0.1:80', 0));
  assert.equal(hash32b('10.0.0.1:80'), murmur3('10.0.0.1:80', SECOND_SEED));
  let same = 0;
  for (let i = 0; i < 1000; i++) if (hash32(`k${i}`) === hash32b(`k${i}`)) same++;
  assert.equal(same, 0);
});

test('hash32 spreads keys evenly over 16 buckets (chi-square sanity check)', () => {
  const buckets = new Array<number>(16).fill(0);
  const n = 160_000;
  for (let i = 0; i < n; i++) buckets[hash32(`10.0.${i >> 8}.${i & 255}:8080`) >>> 28]++;
  const e = n / 16;
  let chi = 0;
  for (const b of buckets) chi += ((b - e) * (b - e)) / e;
  assert.ok(chi < 37.7, `chi-square ${chi} (15 dof, p=0.001 critical value 37.7)`);
});

test('mix32 is murmur3 fmix32 (unsigned result)', () => {
  assert.equal(mix32(0), 0);
  // murmur3 of the empty string with seed s is fmix32(s ^ 0) = mix32(s).
  assert.equal(mix32(1), murmur3('', 1));
  assert.equal(mix32(0xffffffff), murmur3('', 0xffffffff));
  assert.ok(mix32(-1) >= 0);
});
