/*
 * The fleet config store: every push becomes a numbered, immutable history entry plus the
 * `current` pointer, both written in one etcd transaction.
 *
 * Data model (every key under PREFIX, `/switchyard` by default; see store-url.ts):
 *   PREFIX/config/current               the record in force: a copy of the newest history entry
 *   PREFIX/config/history/0000000042    one record per version, zero-padded to 10 digits so that
 *                                        key order is version order
 *   PREFIX/config/last-restore          audit note written by restore(): { author, host, time,
 *                                        source, versions }
 * A record value is JSON:
 *   { version, text, checksum, author, host, time, message?, rollbackOf? }
 *   text: the YAML/JSON source exactly as pushed; checksum: sha256 hex of text; time: ISO 8601;
 *   rollbackOf: the version whose text a rollback pushed again.
 * Invariants: versions start at 1 and only grow (a rollback is a new version); a push writes
 * history/<v> and current together, guarded by current's mod revision and by history/<v> not
 * existing, so two pushes never both win; entries are never rewritten, only pruned, and prune
 * keeps current and the newest 10.
 *
 * Disaster recovery: backup() writes an etcd snapshot plus config-history.json. restore() puts
 * the history back into an empty store. To rebuild a whole etcd cluster instead, use
 * `etcdctl snapshot restore etcd-snapshot.db --name … --initial-cluster … --data-dir …` on each
 * member and start etcd on those data dirs.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Etcd3, IKeyValue, Namespace } from 'etcd3';
import { diffSummary, formatDiffSummary, type DiffSummary } from './diff-summary.js';
import { parseStoreUrl, DEFAULT_STORE_PREFIX, StoreUrlError } from './store-url.js';
import { StoreError, CorruptRecordError, storeUnavailable } from './store-errors.js';
import { checkRecord, decodeRecord, encodeRecord, sha256, type ConfigRecord } from './record.js';
import { CurrentWatch, watchBackoff, type WatchSource } from './current-watch.js';
import { lazyModule } from '../util/lazy-module.js';

// Loaded when a store is made: a node started from a file never loads etcd's gRPC client.
const etcd3 = lazyModule<typeof import('etcd3')>('etcd3');
const cockatiel = lazyModule<typeof import('cockatiel')>('cockatiel');

// The store's public types, from one place.
export { StoreError, CorruptRecordError } from './store-errors.js';
export type { ConfigRecord } from './record.js';

/** A history row, newest first. A corrupt stored value is listed, not thrown. */
export interface HistoryEntry {
  readonly version: number;
  /** Undefined when the stored value is corrupt; `corrupt` then says why. */
  readonly record?: ConfigRecord;
  readonly corrupt?: CorruptRecordError;
  /** Lines changed from version-1 (from nothing for version 1); null when that one is pruned or corrupt. */
  readonly diff: DiffSummary | null;
  /** Ready to print: `+3 -1 lines`, `previous version pruned`, `corrupt: …`. */
  readonly summary: string;
}

export interface ConfigStoreOptions {
  /** etcd client endpoints, `host:port`. */
  hosts: string[];
  /** Key prefix, default `/switchyard`. */
  prefix?: string;
  /** Bound on every etcd call (default 2000 ms): a dead etcd fails fast with SWY_STORE_UNAVAILABLE. */
  opTimeoutMs?: number;
  /** Passed to the etcd3 client (which, in 1.1.2, ignores it: opTimeoutMs is what bounds calls). */
  dialTimeoutMs?: number;
  /** How many times a push that lost the version race is retried before SWY_STORE_CONFLICT (default 8). */
  pushAttempts?: number;
  /** Wall clock for record times and prune (default `new Date()`). */
  now?: () => Date;
}

export interface WriteMeta { author: string; host: string; message?: string }
/** Throws (ConfigError with `.errors`) when `text` is not a usable config. */
export type Validate = (text: string) => void;

const KEEP_LAST = 10;
const DEFAULT_RETENTION_MS = 30 * 24 * 3600 * 1000;
const CURRENT = 'config/current';
const HISTORY = 'config/history/';
const LAST_RESTORE = 'config/last-restore';
const PAGE = 25;
const TXN_BATCH = 100; // etcd's default --max-txn-ops is 128
const HISTORY_FORMAT = 'switchyard-config-history/1';

const historyKey = (v: number): string => HISTORY + String(v).padStart(10, '0');
const versionOfKey = (key: string): number => Number(key.slice(key.lastIndexOf('/') + 1));
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Versioned fleet config in etcd (data model at the top of this file). Every method bounds each
 * etcd call by `opTimeoutMs` and rejects with StoreError (SWY_STORE_UNAVAILABLE, retryable) when
 * etcd is unreachable. Not for the hot path: the runtime reads it on start and through watch().
 */
export class EtcdConfigStore {
  readonly prefix: string;
  private readonly client: Etcd3;
  private readonly ns: Namespace;
  private readonly opTimeoutMs: number;
  private readonly pushAttempts: number;
  private readonly now: () => Date;
  private readonly watches = new Set<CurrentWatch>();
  /** The etcd client endpoints (named in errors). */
  readonly hosts: readonly string[];

  constructor(opts: ConfigStoreOptions) {
    if (opts.hosts.length === 0) throw new StoreUrlError('(hosts)', 'no etcd endpoint given');
    this.prefix = (opts.prefix ?? DEFAULT_STORE_PREFIX).replace(/\/+$/, '');
    this.hosts = [...opts.hosts];
    this.opTimeoutMs = opts.opTimeoutMs ?? 2000;
    this.pushAttempts = opts.pushAttempts ?? 8;
    this.now = opts.now ?? (() => new Date());
    const deadline = this.opTimeoutMs;
    const { circuitBreaker, ConsecutiveBreaker, handleWhen } = cockatiel();
    this.client = new (etcd3().Etcd3)({
      hosts: opts.hosts.map((h) => `http://${h}`),
      dialTimeout: opts.dialTimeoutMs ?? deadline,
      // Unary calls get a gRPC deadline so an unanswered call is cancelled, not just abandoned.
      defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + deadline }),
      faultHandling: {
        // etcd3's default breaker shuts a host out for 5 s after 3 failures: a restarted single
        // member stayed unusable ~3 s after it was healthy again. 1 s keeps that gap near zero.
        host: () => circuitBreaker(handleWhen(etcd3().isRecoverableError), { halfOpenAfter: 1000, breaker: new ConsecutiveBreaker(3) }),
        watchBackoff: watchBackoff(50),
      },
      grpcOptions: { 'grpc.max_receive_message_length': 64 * 1024 * 1024 },
    });
    this.ns = this.client.namespace(`${this.prefix}/`);
  }

  /** A store for `etcd://host:port[,…]/prefix` (throws StoreUrlError for a bad URL). */
  static fromUrl(url: string, opts: Omit<ConfigStoreOptions, 'hosts' | 'prefix'> = {}): EtcdConfigStore {
    const u = parseStoreUrl(url);
    return new EtcdConfigStore({ ...opts, hosts: u.hosts, prefix: u.prefix });
  }

  private fullKey(key: string): string { return `${this.prefix}/${key}`; }

  /** Runs one etcd call under the op timeout, turning every failure into a StoreError. */
  private async call<T>(what: string, op: () => Promise<T>, ms = this.opTimeoutMs): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new StoreError('SWY_STORE_UNAVAILABLE', `config store unreachable: etcd at ${this.hosts.join(', ')}: ${what}: no answer within ${ms} ms`, true)), ms);
    });
    try {
      return await Promise.race([op(), late]);
    } catch (e) {
      if (e instanceof StoreError) throw e;
      throw storeUnavailable(this.hosts, what, e);
    } finally {
      clearTimeout(timer);
    }
  }

  /** current's raw key-value (value and mod revision), undefined when absent. */
  private async readCurrentKv(): Promise<IKeyValue | undefined> {
    const res = await this.call('get current', () => this.ns.get(CURRENT).exec());
    return res.kvs[0];
  }

  /**
   * The record in force, or null before the first push. Throws CorruptRecordError when the stored
   * value is bad (the caller keeps its last good config) and StoreError when etcd is unreachable.
   */
  async current(): Promise<ConfigRecord | null> {
    const kv = await this.readCurrentKv();
    return kv === undefined ? null : decodeRecord(this.fullKey(CURRENT), kv.value);
  }

  /**
   * Validates `text` first (a ConfigError from `validate` propagates and nothing is written), then
   * stores it as the next version. Resolves with that version (1 for the first push). Rejects with
   * SWY_STORE_CONFLICT after `pushAttempts` lost races, SWY_STORE_UNAVAILABLE when etcd does not
   * answer (a push that timed out may still have landed: check current()).
   */
  async push(text: string, opts: WriteMeta & { validate: Validate }): Promise<{ version: number }> {
    opts.validate(text);
    return this.write(text, opts);
  }

  private async write(text: string, meta: WriteMeta & { rollbackOf?: number }): Promise<{ version: number }> {
    for (let attempt = 1; ; attempt++) {
      const [cur, newest] = await Promise.all([this.readCurrentKv(), this.readHistory(1)]);
      // The newest history key decides, so a corrupt current never blocks the push that repairs it.
      let latest = newest.length > 0 ? versionOfKey(newest[0].key.toString()) : 0;
      if (!Number.isSafeInteger(latest)) latest = 0;
      if (cur !== undefined) {
        try { latest = Math.max(latest, decodeRecord(CURRENT, cur.value).version); } catch { /* repaired by this push */ }
      }
      const record: ConfigRecord = {
        version: latest + 1, text, checksum: sha256(text), author: meta.author, host: meta.host, time: this.now().toISOString(),
        ...(meta.message !== undefined && { message: meta.message }), ...(meta.rollbackOf !== undefined && { rollbackOf: meta.rollbackOf }),
      };
      const value = encodeRecord(record);
      const res = await this.call('push', () => this.ns
        .if(CURRENT, 'Mod', '==', cur?.mod_revision ?? '0')
        .and(historyKey(record.version), 'Create', '==', 0)
        .then(this.ns.put(historyKey(record.version)).value(value), this.ns.put(CURRENT).value(value))
        .commit());
      if (res.succeeded) return { version: record.version };
      if (attempt >= this.pushAttempts) {
        throw new StoreError('SWY_STORE_CONFLICT', `push lost the race for the next version ${attempt} times in a row; try again`, true);
      }
      await sleep(10 * attempt + Math.random() * 40); // jitter so two racing pushers stop colliding
    }
  }

  /** History values newest first, read in pages so a long history never makes one huge response. */
  private async readHistory(limit: number): Promise<IKeyValue[]> {
    const out: IKeyValue[] = [];
    let end: Buffer | undefined;
    while (out.length < limit) {
      const page = Math.min(PAGE, limit - out.length);
      const start = Buffer.from(this.fullKey(HISTORY));
      const stop = end ?? Buffer.from(this.fullKey(`${HISTORY}:`)); // ':' sorts right after '9': only digit keys
      const res = await this.call('read history', () => this.client.getAll().inRange({ start, end: stop })
        .sort('Key', 'Descend').limit(page).exec());
      out.push(...res.kvs);
      if (res.kvs.length < page) break;
      end = res.kvs[res.kvs.length - 1].key;
    }
    return out;
  }

  /** Up to `limit` versions (default all), newest first, each with its line diff against the version before. */
  async history(opts: { limit?: number } = {}): Promise<HistoryEntry[]> {
    const limit = opts.limit ?? Number.POSITIVE_INFINITY;
    const kvs = await this.readHistory(limit + 1); // one extra: the previous text of the oldest row shown
    const decoded = kvs.map((kv) => {
      const version = versionOfKey(kv.key.toString());
      try { return { version, record: decodeRecord(kv.key.toString(), kv.value, version) }; } catch (e) {
        return { version, corrupt: e as CorruptRecordError };
      }
    });
    return decoded.slice(0, limit).map((e, i): HistoryEntry => {
      if (e.record === undefined) return { version: e.version, corrupt: e.corrupt, diff: null, summary: `corrupt: ${e.corrupt!.reason}` };
      const prev = decoded[i + 1];
      let before: string | undefined;
      if (e.version === 1) before = '';
      else if (prev?.version === e.version - 1 && prev.record !== undefined) before = prev.record.text;
      if (before === undefined) {
        const why = prev?.version === e.version - 1 ? 'corrupt' : 'pruned';
        return { version: e.version, record: e.record, diff: null, summary: `previous version ${why}` };
      }
      const diff = diffSummary(before, e.record.text);
      return { version: e.version, record: e.record, diff, summary: formatDiffSummary(diff) };
    });
  }

  /**
   * Makes an older version current again by pushing its text as a new version with
   * `rollbackOf` set (default target: current version - 1). The text is validated again.
   * Throws SWY_STORE_NOT_FOUND when the target is not in history, CorruptRecordError when it is bad.
   */
  async rollback(version: number | undefined, opts: WriteMeta & { validate: Validate }): Promise<{ version: number }> {
    let target = version;
    if (target === undefined) {
      const cur = await this.current();
      if (cur === null) throw new StoreError('SWY_STORE_NOT_FOUND', 'rollback: nothing has been pushed yet');
      target = cur.version - 1;
    }
    if (!Number.isSafeInteger(target) || target < 1) throw new StoreError('SWY_STORE_NOT_FOUND', `rollback: there is no version ${target}`);
    const res = await this.call('get history', () => this.ns.get(historyKey(target)).exec());
    const kv = res.kvs[0];
    if (kv === undefined) throw new StoreError('SWY_STORE_NOT_FOUND', `rollback: version ${target} is not in history (never pushed or pruned)`);
    const old = decodeRecord(this.fullKey(historyKey(target)), kv.value, target);
    opts.validate(old.text);
    return this.write(old.text, { author: opts.author, host: opts.host, message: opts.message ?? `rollback to version ${target}`, rollbackOf: target });
  }

  /**
   * Deletes history entries whose time is older than `retentionMs` (default 30 days) before `now`,
   * always keeping the current version and the newest 10. Corrupt entries are kept (their age is
   * unknown). Resolves with the deleted versions, oldest first.
   */
  async prune(retentionMs = DEFAULT_RETENTION_MS, now: number = this.now().getTime()): Promise<{ deleted: number[] }> {
    const kvs = await this.readHistory(Number.POSITIVE_INFINITY);
    let currentVersion: number | undefined;
    try { currentVersion = (await this.current())?.version; } catch (e) { if (!(e instanceof CorruptRecordError)) throw e; }
    const cutoff = now - retentionMs;
    const doomed: number[] = [];
    for (const kv of kvs.slice(KEEP_LAST)) {
      const v = versionOfKey(kv.key.toString());
      if (v === currentVersion) continue;
      try {
        if (Date.parse(decodeRecord(kv.key.toString(), kv.value, v).time) < cutoff) doomed.push(v);
      } catch { /* corrupt: age unknown, keep */ }
    }
    for (let i = 0; i < doomed.length; i += 20) {
      await Promise.all(doomed.slice(i, i + 20).map((v) => this.call('prune', () => this.ns.delete().key(historyKey(v)).exec())));
    }
    return { deleted: doomed.reverse() };
  }

  /**
   * Calls `onRecord` with the current record once the watch is set up, then on every change
   * (never twice for the same etcd revision). The watch reconnects by itself after etcd restarts
   * or leader changes and then re-reads current, so a change made while disconnected is not
   * missed. `onError` gets, without ending the watch: CorruptRecordError (record rejected: keep
   * the last good config), SWY_STORE_UNAVAILABLE (connection lost, reconnecting),
   * SWY_STORE_CURRENT_DELETED, and anything `onRecord` throws. Resolves with a stop function;
   * rejects with SWY_STORE_UNAVAILABLE when etcd does not answer in time.
   */
  async watch(onRecord: (rec: ConfigRecord) => void, onError: (err: Error) => void = () => {}): Promise<() => Promise<void>> {
    const key = this.fullKey(CURRENT);
    const source: WatchSource = {
      key,
      timeoutMs: this.opTimeoutMs,
      watcher: () => this.ns.watch().key(CURRENT).watcher(),
      read: () => this.readCurrentKv(),
      decode: (value) => decodeRecord(key, value),
    };
    const w = new CurrentWatch(source, onRecord, onError);
    await w.start();
    this.watches.add(w);
    return async () => { this.watches.delete(w); await w.stop(); };
  }

  /**
   * Writes `dir/etcd-snapshot.db` (the whole etcd keyspace, from the maintenance snapshot API;
   * restorable with `etcdctl snapshot restore`) and `dir/config-history.json` (every readable
   * history record, oldest first). Corrupt entries are skipped and listed in `skipped`.
   */
  async backup(dir: string, opts: { snapshotTimeoutMs?: number } = {}): Promise<{ snapshot: string; history: string; versions: number[]; skipped: number[] }> {
    await mkdir(dir, { recursive: true });
    const snapshot = join(dir, 'etcd-snapshot.db');
    // A snapshot streams from one member; when that member is down the client's next try picks
    // another (its pool skips failed hosts), so a cluster with a dead member can still be backed up.
    for (let attempt = 1; ; attempt++) {
      try {
        await this.saveSnapshot(`${snapshot}.part`, opts.snapshotTimeoutMs ?? 60_000);
        break;
      } catch (e) {
        if (attempt >= 5 || !(e instanceof StoreError) || !e.retryable) throw e;
        await new Promise((r) => setTimeout(r, 200 * attempt));
      }
    }
    await rename(`${snapshot}.part`, snapshot);

    const records: ConfigRecord[] = [];
    const skipped: number[] = [];
    for (const kv of (await this.readHistory(Number.POSITIVE_INFINITY)).reverse()) {
      const v = versionOfKey(kv.key.toString());
      try { records.push(decodeRecord(kv.key.toString(), kv.value, v)); } catch { skipped.push(v); }
    }
    const history = join(dir, 'config-history.json');
    const body = { format: HISTORY_FORMAT, prefix: this.prefix, createdAt: this.now().toISOString(), records };
    await writeFile(`${history}.part`, `${JSON.stringify(body, null, 2)}\n`);
    await rename(`${history}.part`, history);
    return { snapshot, history, versions: records.map((r) => r.version), skipped };
  }

  private async saveSnapshot(path: string, timeoutMs: number): Promise<void> {
    const stream = await this.call('snapshot', () => this.client.maintenance.snapshot());
    const out = createWriteStream(path);
    let timer: NodeJS.Timeout | undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        timer = setTimeout(() => {
          (stream as { cancel?: () => void }).cancel?.();
          reject(new StoreError('SWY_STORE_UNAVAILABLE', `etcd snapshot: not finished within ${timeoutMs} ms`, true));
        }, timeoutMs);
        out.on('error', reject);
        stream.on('data', (chunk) => out.write(chunk.blob));
        stream.on('error', (e) => reject(storeUnavailable(this.hosts, 'snapshot', e)));
        stream.on('end', () => resolve());
      });
    } finally {
      clearTimeout(timer);
      await new Promise<void>((r) => out.end(() => r()));
    }
  }

  /**
   * Puts the history from `dir/config-history.json` back and makes its newest record current,
   * for a store that was wiped. Refuses (SWY_STORE_NOT_EMPTY) when a current config exists: to go
   * back to an older version use rollback(). Records keep their authors; `author`/`host` go into
   * PREFIX/config/last-restore. Throws CorruptRecordError for a bad file.
   */
  async restore(dir: string, opts: { author: string; host: string }): Promise<{ version: number; restored: number }> {
    const path = join(dir, 'config-history.json');
    let body: unknown;
    try { body = JSON.parse(await readFile(path, 'utf8')); } catch (e) {
      throw new CorruptRecordError(path, `cannot read backup (${(e as Error).message})`);
    }
    const b = body as { format?: unknown; records?: unknown };
    if (b?.format !== HISTORY_FORMAT || !Array.isArray(b.records)) throw new CorruptRecordError(path, `not a ${HISTORY_FORMAT} file`);
    const records = b.records.map((r, i) => checkRecord(`${path} records[${i}]`, r)).sort((x, y) => x.version - y.version);
    if (records.length === 0) throw new StoreError('SWY_STORE_NOT_FOUND', `${path} holds no records`);
    if (new Set(records.map((r) => r.version)).size !== records.length) throw new CorruptRecordError(path, 'a version appears twice');

    const newest = records[records.length - 1];
    const note = JSON.stringify({ author: opts.author, host: opts.host, time: this.now().toISOString(), source: path, versions: records.length });
    for (let i = 0; i < records.length; i += TXN_BATCH) {
      const batch = records.slice(i, i + TXN_BATCH).map((r) => this.ns.put(historyKey(r.version)).value(encodeRecord(r)));
      if (i + TXN_BATCH >= records.length) batch.push(this.ns.put(CURRENT).value(encodeRecord(newest)), this.ns.put(LAST_RESTORE).value(note));
      // Every batch re-checks that nobody pushed meanwhile, so restore never overwrites a live config.
      const res = await this.call('restore', () => this.ns.if(CURRENT, 'Create', '==', 0).then(...batch).commit());
      if (!res.succeeded) throw new StoreError('SWY_STORE_NOT_EMPTY', `${this.fullKey(CURRENT)} exists: restore only fills an empty store (use rollback)`);
    }
    return { version: newest.version, restored: records.length };
  }

  /** Stops every watch (bounded) and closes the etcd client. */
  async close(): Promise<void> {
    await Promise.all([...this.watches].map((w) => w.stop()));
    this.watches.clear();
    this.client.close();
  }
}
