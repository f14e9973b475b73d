// Why the fast engines keep their per-connection sets in a SlotList (src/util/slot-list.ts) and
// not in a Set or WeakSet: connection-like objects (a small graph each, 64 alive at a time) go
// through a long-lived set, one add and one delete per object, and the script reports the GC
// work that costs, each kind in a fresh process. With a Set or WeakSet, dead objects pinned by
// the set's discarded hash tables survive young-generation GCs and are promoted (old space
// grows, full GCs follow); with a SlotList they die young.
//
//   npm run build && node bench/set-churn.mjs [--objects 2000000]   (--help for the flags)
import { spawnSync } from 'node:child_process';
import { PerformanceObserver, constants } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { getHeapSpaceStatistics } from 'node:v8';
import path from 'node:path';
import { parseSpec, specUsage } from './lib/args.mjs';

const SPEC = {
  objects: { env: 'CHURN_OBJECTS', def: '2000000', help: 'objects through each set (after a 200,000-object warm-up)' },
  kind: { env: 'CHURN_KIND', def: '', help: 'Set, WeakSet or SlotList: measure that one in this process (default: each in a fresh process)' },
};
const opts = parseSpec(process.argv.slice(2), SPEC, specUsage('bench/set-churn.mjs', SPEC));
const objects = Number(opts.objects);
if (!Number.isInteger(objects) || objects < 1) throw new Error('--objects must be a positive integer');
const kind = opts.kind || null;
if (kind !== null && !['Set', 'WeakSet', 'SlotList'].includes(kind)) throw new Error('--kind must be Set, WeakSet or SlotList');
const LIVE = 64;
const oldSpaceUsed = () => getHeapSpaceStatistics().find((s) => s.space_name === 'old_space').space_used_size;

if (kind === null) {
  const self = fileURLToPath(import.meta.url);
  console.log(`${objects.toLocaleString('en-US')} objects through a long-lived set, ${LIVE} alive at a time; one fresh process per kind\n`);
  console.log('| set | wall ms | scavenges | scavenge ms | full GCs | full GC ms | old space growth MB |');
  console.log('| --- | --- | --- | --- | --- | --- | --- |');
  for (const k of ['Set', 'WeakSet', 'SlotList', 'Set', 'WeakSet', 'SlotList']) {
    const r = spawnSync(process.execPath, ['--expose-gc', self, '--kind', k, '--objects', String(objects)], { encoding: 'utf8', timeout: 120_000 });
    if (r.status !== 0) { console.error(r.stderr); process.exit(1); }
    console.log(r.stdout.trim());
  }
} else {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
  const { SlotList } = await import(pathToFileURL(path.join(root, 'dist/src/util/slot-list.js')).href);
  const set = kind === 'Set' ? new Set() : kind === 'WeakSet' ? new WeakSet() : new SlotList('slot');
  const ring = new Array(LIVE).fill(null);
  // A stand-in for a connection: a few objects pointing at each other.
  const make = (i) => { const c = { slot: -1, id: i, a: null, b: null }; c.a = { owner: c, bytes: [i, i, i, i] }; c.b = { owner: c, peer: c.a }; return c; };
  const step = (i) => {
    const j = i % LIVE;
    if (ring[j] !== null) set.delete(ring[j]);
    const c = make(i);
    set.add(c);
    ring[j] = c;
  };
  for (let i = 0; i < 200_000; i++) step(i);
  globalThis.gc(); globalThis.gc(); // the set (and its table) is old now, as in a server that has run a while
  const gcs = { minor: 0, minorMs: 0, major: 0, majorMs: 0 };
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      if (e.detail.kind === constants.NODE_PERFORMANCE_GC_MINOR) { gcs.minor++; gcs.minorMs += e.duration; } else { gcs.major++; gcs.majorMs += e.duration; }
    }
  });
  obs.observe({ entryTypes: ['gc'] });
  const old0 = oldSpaceUsed();
  const t0 = performance.now();
  for (let i = 0; i < objects; i++) step(i);
  const wall = performance.now() - t0;
  const old1 = oldSpaceUsed();
  await new Promise((r) => setTimeout(r, 50)); // GC entries arrive a few turns later
  obs.disconnect();
  console.log(`| ${kind} | ${wall.toFixed(0)} | ${gcs.minor} | ${gcs.minorMs.toFixed(0)} | ${gcs.major} | ${gcs.majorMs.toFixed(0)} | ${((old1 - old0) / 1e6).toFixed(1)} |`);
}
