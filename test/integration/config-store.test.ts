// engine-independent: this file sets its own engines or starts no data plane, so the suite runs it once (package.json "test").
/*
 * EtcdConfigStore against real etcd: one member for most tests (each test under its own key
 * prefix), a fresh member for restore, and a 3-member cluster for the leader kill. Timings are
 * printed as test diagnostics.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Etcd3 } from 'etcd3';
import { CorruptRecordError, EtcdConfigStore, StoreError, type ConfigRecord } from '../../src/store/config-store.js';
import { parseConfigText, validateConfig } from '../../src/config/load.js';
import { ConfigError } from '../../src/util/errors.js';
import { startEtcd, startEtcdCluster, type EtcdHandle } from '../support/etcd.js';

const who = { author: 'test', host: 'ci' };
const validate = (text: string): void => { validateConfig(parseConfigText(text, 'pushed.yaml'), 'pushed.yaml'); };
const push = { ...who, validate };

/** A valid config whose backend list depends on `n` (n + 1 backends, so versions differ by lines). */
function configText(n: number): string {
  const backends = Array.from({ length: n + 1 }, (_, i) => `      - address: 127.0.0.1:${9000 + i}`).join('\n');
  return `listeners:\n  - name: web\n    address: 127.0.0.1:8080\n    protocol: http\nroutes:\n  - service: demo\nservices:\n  demo:\n    backends:\n${backends}\n`;
}

let prefixes = 0;
const freshPrefix = (): string => `/swy-test/${process.pid}-${++prefixes}`;

/** Resolves with the first value `pred` accepts among those pushed to `list`, or rejects after `ms`. */
function waitFor<T>(list: T[], pred: (v: T) => boolean, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const tick = (): void => {
      const hit = list.find(pred);
      if (hit !== undefined) resolve(hit);
      else if (Date.now() - t0 > ms) reject(new Error(`nothing matched within ${ms} ms; saw ${list.length} items`));
      else setTimeout(tick, 10);
    };
    tick();
  });
}

/** Retries `fn` until it resolves or `ms` passes; resolves with its value and the time taken. */
async function retryUntil<T>(fn: () => Promise<T>, ms: number): Promise<{ value: T; ms: number }> {
  const t0 = performance.now();
  for (;;) {
    try { return { value: await fn(), ms: performance.now() - t0 }; } catch (e) {
      if (performance.now() - t0 > ms) throw e;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

describe('EtcdConfigStore on one etcd member', () => {
  let etcd: EtcdHandle;
  let raw: Etcd3;
  const stores: EtcdConfigStore[] = [];
  const open = (prefix: string, opts: Partial<ConstructorParameters<typeof EtcdConfigStore>[0]> = {}): EtcdConfigStore => {
    const s = new EtcdConfigStore({ hosts: etcd.endpoints, prefix, ...opts });
    stores.push(s);
    return s;
  };

  before(async () => {
    etcd = await startEtcd();
    raw = new Etcd3({ hosts: etcd.endpoints.map((h) => `http://${h}`) });
  });
  after(async () => {
    await Promise.all(stores.map((s) => s.close()));
    raw.close();
    await etcd.stop();
  });

  test('push validates first: an invalid document never reaches etcd', async () => {
    const prefix = freshPrefix();
    const store = open(prefix);
    await assert.rejects(store.push('listeners: [oops', push), (e: unknown) => e instanceof ConfigError && e.errors.length > 0);
    await assert.rejects(store.push(configText(1), { ...who, validate: () => { throw new ConfigError('x', ['(root): nope']); } }), ConfigError);
    assert.equal(await store.current(), null);
    assert.equal((await raw.getAll().prefix(prefix).keys()).length, 0);
  });

  test('versions start at 1 and increase; current is the newest push with its metadata', async () => {
    const prefix = freshPrefix();
    const store = open(prefix);
    assert.deepEqual(await store.push(configText(1), { ...push, message: 'first' }), { version: 1 });
    assert.deepEqual(await store.push(configText(2), push), { version: 2 });
    const cur = await store.current();
    assert.ok(cur !== null);
    assert.equal(cur.version, 2);
    assert.equal(cur.text, configText(2));
    assert.equal(cur.author, 'test');
    assert.equal(cur.host, 'ci');
    assert.match(cur.checksum, /^[0-9a-f]{64}$/);
    assert.ok(!Number.isNaN(Date.parse(cur.time)));
    const keys = await raw.getAll().prefix(`${prefix}/`).keys();
    assert.deepEqual(keys.sort(), [`${prefix}/config/current`, `${prefix}/config/history/0000000001`, `${prefix}/config/history/0000000002`]);
    assert.equal(JSON.parse((await raw.get(`${prefix}/config/history/0000000001`).string())!).message, 'first');
  });

  test('concurrent pushes from two store instances all land with distinct versions', async () => {
    const prefix = freshPrefix();
    const a = open(prefix);
    const b = open(prefix);
    // Each round starts one push on each store at the same moment, so both read the same head.
    const va: number[] = [];
    const vb: number[] = [];
    for (let i = 0; i < 5; i++) {
      const [ra, rb] = await Promise.all([a.push(configText(i), push), b.push(configText(10 + i), push)]);
      va.push(ra.version);
      vb.push(rb.version);
    }
    const all = [...va, ...vb].sort((x, y) => x - y);
    assert.deepEqual(all, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    const hist = await a.history();
    assert.equal(hist.length, 10);
    // Each history entry holds the text the pusher that got that version sent.
    for (const [i, v] of va.entries()) assert.equal(hist.find((h) => h.version === v)!.record!.text, configText(i));
    for (const [i, v] of vb.entries()) assert.equal(hist.find((h) => h.version === v)!.record!.text, configText(10 + i));
    assert.equal((await a.current())!.version, 10);
  });

  test('history is newest first with line diff summaries and honours limit', async () => {
    const store = open(freshPrefix());
    await store.push(configText(0), push); // 13 lines
    await store.push(configText(2), push); // +2 backends
    await store.push(configText(1), push); // -1 backend
    const hist = await store.history();
    assert.deepEqual(hist.map((h) => h.version), [3, 2, 1]);
    assert.deepEqual(hist.map((h) => h.summary), ['+0 -1 lines', '+2 -0 lines', '+10 -0 lines']);
    const two = await store.history({ limit: 2 });
    assert.deepEqual(two.map((h) => [h.version, h.summary]), [[3, '+0 -1 lines'], [2, '+2 -0 lines']]);
  });

  test('rollback pushes an older text again as a new version and still validates', async () => {
    const store = open(freshPrefix());
    await store.push(configText(1), push);
    await store.push(configText(2), push);
    await store.push(configText(3), push);
    assert.deepEqual(await store.rollback(undefined, push), { version: 4 }); // default: the version before current
    let cur = (await store.current())!;
    assert.equal(cur.text, configText(2));
    assert.equal(cur.rollbackOf, 2);
    assert.deepEqual(await store.rollback(1, { ...push, message: 'back to the start' }), { version: 5 });
    cur = (await store.current())!;
    assert.equal(cur.text, configText(1));
    assert.equal(cur.rollbackOf, 1);
    assert.equal(cur.message, 'back to the start');
    await assert.rejects(store.rollback(3, { ...who, validate: () => { throw new ConfigError('x', ['(root): no longer valid']); } }), ConfigError);
    await assert.rejects(store.rollback(42, push), (e: unknown) => e instanceof StoreError && e.code === 'SWY_STORE_NOT_FOUND');
    assert.equal((await store.current())!.version, 5);
  });

  test('prune deletes entries past retention but keeps current and the newest 10', async () => {
    const day = 24 * 3600 * 1000;
    const t = Date.parse('2026-01-31T00:00:00Z');
    let clock = t - 40 * day;
    const store = open(freshPrefix(), { now: () => new Date(clock) });
    for (let v = 1; v <= 15; v++) {
      clock = v === 4 ? t - day : t - 40 * day + v; // v4 is recent, every other version is 40 days old
      await store.push(configText(v), push);
    }
    const { deleted } = await store.prune(30 * day, t);
    assert.deepEqual(deleted, [1, 2, 3, 5]);
    assert.deepEqual((await store.history()).map((h) => h.version), [15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 4]);
    assert.equal((await store.current())!.version, 15);
    const hist = await store.history();
    assert.equal(hist.find((h) => h.version === 6)!.summary, 'previous version pruned');
    assert.deepEqual((await store.prune(30 * day, t)).deleted, []);
  });

  test('watch delivers current at start, then each push', async (t) => {
    const store = open(freshPrefix());
    await store.push(configText(1), push);
    const seen: ConfigRecord[] = [];
    const errors: Error[] = [];
    const stop = await store.watch((r) => seen.push(r), (e) => errors.push(e));
    await waitFor(seen, (r) => r.version === 1, 2000);
    const latencies: string[] = [];
    for (let v = 2; v <= 6; v++) {
      const t0 = performance.now();
      let delivered = 0;
      const n = seen.length;
      const poll = setInterval(() => { if (delivered === 0 && seen.length > n) delivered = performance.now(); }, 1);
      await store.push(configText(v), push);
      const committed = performance.now();
      await waitFor(seen, (r) => r.version === v, 2000);
      clearInterval(poll);
      latencies.push(`${(committed - t0).toFixed(1)}/${((delivered || performance.now()) - t0).toFixed(1)}`);
    }
    await stop();
    assert.deepEqual(seen.map((r) => r.version), [1, 2, 3, 4, 5, 6]);
    assert.deepEqual(errors, []);
    t.diagnostic(`push resolved / watch delivered, ms after push() began: ${latencies.join(', ')}`);
  });

  test('corrupt records: CorruptRecordError from current(), an error through watch, recovery by a good push', async () => {
    const prefix = freshPrefix();
    const store = open(prefix);
    await store.push(configText(1), push);
    const seen: ConfigRecord[] = [];
    const errors: Error[] = [];
    const stop = await store.watch((r) => seen.push(r), (e) => errors.push(e));
    await waitFor(seen, (r) => r.version === 1, 2000);

    await raw.put(`${prefix}/config/current`).value('{"version": 2, "text": "trunc');
    await assert.rejects(store.current(), (e: unknown) => e instanceof CorruptRecordError && /not JSON/.test(e.message) && e.code === 'SWY_STORE_CORRUPT');
    await waitFor(errors, (e) => e instanceof CorruptRecordError, 2000);

    const good = JSON.parse((await raw.get(`${prefix}/config/history/0000000001`).string())!) as Record<string, unknown>;
    await raw.put(`${prefix}/config/current`).value(JSON.stringify({ ...good, text: `${good.text as string}# tampered\n` }));
    await assert.rejects(store.current(), (e: unknown) => e instanceof CorruptRecordError && /checksum mismatch/.test(e.message));
    await raw.put(`${prefix}/config/current`).value(JSON.stringify({ ...good, author: undefined }));
    await assert.rejects(store.current(), (e: unknown) => e instanceof CorruptRecordError && /"author" is missing/.test(e.message));
    await waitFor(errors, (e) => e instanceof CorruptRecordError && /"author"/.test(e.message), 2000);
    assert.deepEqual(seen.map((r) => r.version), [1]); // nothing corrupt was delivered as a record

    // A corrupt history entry is listed, not thrown; the next push repairs current.
    await raw.put(`${prefix}/config/history/0000000001`).value('not json');
    assert.deepEqual((await store.history()).map((h) => [h.version, h.corrupt instanceof CorruptRecordError]), [[1, true]]);
    assert.deepEqual(await store.push(configText(2), push), { version: 2 });
    await waitFor(seen, (r) => r.version === 2, 2000);
    assert.equal((await store.current())!.version, 2);
    await stop();
  });

  test('backup writes a snapshot and the history; restore refills a wiped store', async (t) => {
    const prefix = freshPrefix();
    const store = open(prefix);
    for (let v = 1; v <= 4; v++) await store.push(configText(v), { ...push, message: `v${v}` });
    await store.rollback(2, push);
    const dir = mkdtempSync(join(tmpdir(), 'swy-backup-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const t0 = performance.now();
    const b = await store.backup(dir);
    t.diagnostic(`backup took ${(performance.now() - t0).toFixed(0)} ms, snapshot ${statSync(b.snapshot).size} bytes`);
    assert.deepEqual(b.versions, [1, 2, 3, 4, 5]);
    assert.ok(statSync(b.snapshot).size > 0);
    const status = await new Promise<string>((resolve, reject) => execFile('etcdctl', ['snapshot', 'status', b.snapshot, '-w', 'json'],
      { env: { ...process.env, ETCDCTL_API: '3' }, timeout: 10_000 }, (err, out) => (err ? reject(err) : resolve(out))));
    assert.ok((JSON.parse(status) as { totalKey: number }).totalKey >= 6);
    const file = JSON.parse(readFileSync(join(dir, 'config-history.json'), 'utf8')) as { records: ConfigRecord[] };
    assert.deepEqual(file.records.map((r) => r.version), [1, 2, 3, 4, 5]);
    const before = await store.history();

    // A wiped store: delete everything under the prefix, restore, compare.
    await raw.delete().prefix(`${prefix}/`);
    assert.equal(await store.current(), null);
    assert.deepEqual(await store.restore(dir, { author: 'ops', host: 'restore-box' }), { version: 5, restored: 5 });
    assert.deepEqual(await store.history(), before);
    const cur = (await store.current())!;
    assert.equal(cur.version, 5);
    assert.equal(cur.rollbackOf, 2);
    assert.equal(JSON.parse((await raw.get(`${prefix}/config/last-restore`).string())!).author, 'ops');
    await assert.rejects(store.restore(dir, who), (e: unknown) => e instanceof StoreError && e.code === 'SWY_STORE_NOT_EMPTY');
    assert.deepEqual(await store.push(configText(9), push), { version: 6 });

    // restore() into a brand-new etcd, and the full disaster path: etcdctl snapshot restore.
    const fresh = await startEtcd();
    const fromSnap = await startEtcd({ snapshot: b.snapshot });
    t.after(async () => { await fresh.stop(); await fromSnap.stop(); });
    const s2 = open(prefix, { hosts: fresh.endpoints });
    assert.deepEqual(await s2.restore(dir, who), { version: 5, restored: 5 });
    assert.deepEqual(await s2.history(), before);
    const s3 = open(prefix, { hosts: fromSnap.endpoints });
    assert.deepEqual(await s3.history(), before);
    assert.deepEqual(await s3.current(), cur);
  });

  test('watch reports a corrupt current at start, a throwing onRecord and a deleted current through onError', async () => {
    const prefix = freshPrefix();
    const store = open(prefix);
    await raw.put(`${prefix}/config/current`).value('garbage');
    const seen: ConfigRecord[] = [];
    const errors: Error[] = [];
    const stop = await store.watch((r) => { seen.push(r); if (r.version === 1) throw new Error('apply failed'); }, (e) => errors.push(e));
    await waitFor(errors, (e) => e instanceof CorruptRecordError, 2000);
    await store.push(configText(1), push);
    await waitFor(errors, (e) => e.message === 'apply failed', 2000);
    await raw.delete().key(`${prefix}/config/current`);
    await waitFor(errors, (e) => e instanceof StoreError && e.code === 'SWY_STORE_CURRENT_DELETED', 2000);
    await store.push(configText(2), push);
    await waitFor(seen, (r) => r.version === 2, 2000);
    assert.deepEqual(seen.map((r) => r.version), [1, 2]);
    await stop();
  });

  test('a hung etcd (SIGSTOP) makes current(), push() and watch() fail within the op timeout', async (t) => {
    const store = open(freshPrefix(), { opTimeoutMs: 1000 });
    await store.push(configText(1), push);
    await etcd.pause();
    t.after(() => etcd.resume());
    const timed = async (what: string, p: Promise<unknown>): Promise<number> => {
      const t0 = performance.now();
      await assert.rejects(p, (e: unknown) => e instanceof StoreError && e.code === 'SWY_STORE_UNAVAILABLE' && e.retryable);
      const ms = performance.now() - t0;
      assert.ok(ms < 2500, `${what} took ${ms} ms`);
      return ms;
    };
    const cur = await timed('current()', store.current());
    const pushed = await timed('push()', store.push(configText(2), push));
    const watched = await timed('watch()', store.watch(() => {}));
    t.diagnostic(`hung etcd, opTimeoutMs 1000: current() failed after ${cur.toFixed(0)} ms, push() ${pushed.toFixed(0)} ms, watch() ${watched.toFixed(0)} ms`);
    etcd.resume();
    const back = await retryUntil(() => store.current(), 10_000);
    assert.equal(back.value!.version, 1);
    t.diagnostic(`resumed: current() answered again after ${back.ms.toFixed(0)} ms`);
  });

  test('watch survives kill -9 and restart of the only member; a dead etcd fails fast', async (t) => {
    const store = open(freshPrefix());
    await store.push(configText(1), push);
    const seen: ConfigRecord[] = [];
    const errors: Error[] = [];
    const stop = await store.watch((r) => seen.push(r), (e) => errors.push(e));
    await waitFor(seen, (r) => r.version === 1, 2000);

    await etcd.kill();
    const t0 = performance.now();
    await assert.rejects(store.current(), (e: unknown) => e instanceof StoreError && e.code === 'SWY_STORE_UNAVAILABLE' && e.retryable);
    const failMs = performance.now() - t0;
    assert.ok(failMs < 3000, `current() took ${failMs} ms against a dead etcd`);
    await waitFor(errors, (e) => e instanceof StoreError && e.code === 'SWY_STORE_UNAVAILABLE', 5000);

    const r0 = performance.now();
    await etcd.restart();
    const restartMs = performance.now() - r0;
    const p = await retryUntil(() => store.push(configText(2), push), 15_000);
    const d0 = performance.now();
    await waitFor(seen, (r) => r.version === 2, 10_000);
    t.diagnostic(`dead etcd: current() failed after ${failMs.toFixed(0)} ms; restart healthy in ${restartMs.toFixed(0)} ms; ` +
      `first push ok ${p.ms.toFixed(0)} ms later; delivered ${(performance.now() - d0).toFixed(0)} ms after that`);
    await stop();
    assert.deepEqual(seen.map((r) => r.version), [1, 2]);
  });
});

describe('EtcdConfigStore on a 3-member cluster', () => {
  let etcd: EtcdHandle;
  before(async () => { etcd = await startEtcdCluster(3); });
  after(async () => { await etcd?.stop(); });

  test('kill the leader: a push succeeds again within a few seconds; watches see it, also one pinned to the dead leader', async (t) => {
    const prefix = freshPrefix();
    const store = EtcdConfigStore.fromUrl(etcd.url(prefix));
    const watcher = EtcdConfigStore.fromUrl(etcd.url(prefix)); // a second client, as another balancer would have
    await store.push(configText(1), push);
    const leader = await etcd.leader();
    // Only the leader's endpoint: this watch must wait for the restart and then catch up on the
    // push it missed while disconnected.
    const pinned = new EtcdConfigStore({ hosts: [leader.endpoint], prefix });
    t.after(async () => { await store.close(); await watcher.close(); await pinned.close(); });
    const seen: ConfigRecord[] = [];
    const seenPinned: ConfigRecord[] = [];
    const pinnedErrors: Error[] = [];
    const stop = await watcher.watch((r) => seen.push(r));
    const stopPinned = await pinned.watch((r) => seenPinned.push(r), (e) => pinnedErrors.push(e));
    await waitFor(seen, (r) => r.version === 1, 2000);
    await waitFor(seenPinned, (r) => r.version === 1, 2000);

    const t0 = performance.now();
    await etcd.kill(leader);
    const p = await retryUntil(() => store.push(configText(2), push), 10_000);
    const recoveryMs = performance.now() - t0;
    await waitFor(seen, (r) => r.version === 2, 10_000);
    const deliveredMs = performance.now() - t0;
    const next = await etcd.leader();
    t.diagnostic(`leader ${leader.name} killed: push ok after ${recoveryMs.toFixed(0)} ms (${p.ms.toFixed(0)} ms of retries), ` +
      `watch delivered at ${deliveredMs.toFixed(0)} ms; new leader ${next.name}`);
    assert.notEqual(next.name, leader.name);
    assert.ok(recoveryMs < 8000, `push took ${recoveryMs} ms to recover`);
    await waitFor(pinnedErrors, (e) => e instanceof StoreError && e.code === 'SWY_STORE_UNAVAILABLE', 5000);
    assert.deepEqual(seenPinned.map((r) => r.version), [1]);

    const r0 = performance.now();
    await etcd.restart(leader);
    await waitFor(seenPinned, (r) => r.version === 2, 10_000);
    t.diagnostic(`old leader restarted: the pinned watch caught up on the missed push ${(performance.now() - r0).toFixed(0)} ms after restart began`);
    await store.push(configText(3), push);
    await waitFor(seen, (r) => r.version === 3, 5000);
    await waitFor(seenPinned, (r) => r.version === 3, 5000);
    assert.deepEqual(seenPinned.map((r) => r.version), [1, 2, 3]);
    assert.deepEqual(seen.map((r) => r.version), [1, 2, 3]);
    await stop();
    await stopPinned();
  });

  test('a watch whose missed events were compacted away starts over and delivers the newest record', async (t) => {
    const prefix = freshPrefix();
    const store = EtcdConfigStore.fromUrl(etcd.url(prefix));
    const member = etcd.members[0];
    const pinned = new EtcdConfigStore({ hosts: [member.endpoint], prefix });
    const others = etcd.endpoints.filter((e) => e !== member.endpoint);
    const raw = new Etcd3({ hosts: others.map((h) => `http://${h}`) });
    t.after(async () => { await store.close(); await pinned.close(); raw.close(); });
    await store.push(configText(1), push);
    const seen: ConfigRecord[] = [];
    const errors: Error[] = [];
    const stop = await pinned.watch((r) => seen.push(r), (e) => errors.push(e));
    await waitFor(seen, (r) => r.version === 1, 2000);

    await etcd.kill(member);
    await retryUntil(() => store.push(configText(2), push), 10_000);
    await store.push(configText(3), push);
    const rev = (await raw.get(`${prefix}/config/current`).exec()).header.revision;
    await raw.kv.compact({ revision: rev, physical: true });
    await etcd.restart(member);
    await waitFor(seen, (r) => r.version === 3, 10_000);
    // etcd cancels the re-created watch (its start revision is compacted) shortly after it connects.
    await waitFor(errors, (e) => /cancelled the watch/.test(e.message), 5000);
    assert.deepEqual(seen.map((r) => r.version), [1, 3]); // version 2's event was compacted: only the newest counts
    await store.push(configText(4), push);
    await waitFor(seen, (r) => r.version === 4, 5000);
    await stop();
  });
});
