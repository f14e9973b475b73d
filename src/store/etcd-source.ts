import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Logger } from 'pino';
import type { Config } from '../config/schema.js';
import { parseConfigText, validateConfig } from '../config/load.js';
import type { ConfigLoader } from '../config/source.js';
import { ConfigError, SwitchyardError } from '../util/errors.js';
import { CorruptRecordError, StoreError, type ConfigRecord, type EtcdConfigStore } from './config-store.js';
import { describeEtcdError } from '../util/etcd-errors.js';

/**
 * The etcd config source: a node serves the store's current version, applied through the same
 * validate → build → swap path as a file. Every version it accepts is written to a local cache
 * file, so that
 *  - a node that starts while etcd is unreachable (or holds an invalid document) serves the
 *    cached config and keeps retrying;
 *  - a node that loses etcd keeps serving what it has;
 *  - an invalid or corrupt document in the store is rejected by every node (the primary keeps
 *    the last good config and logs `path: reason`).
 */
export class EtcdConfigSource implements ConfigLoader {
  readonly name: string;
  /** Store version of the config last returned by load() (0 before any). */
  version = 0;
  /** True while the config in force came from the cache file, not the store. */
  fromCache = false;
  private last: Config | null = null;
  private unreachable = false;

  /** False while the store did not answer the last read (the node serves its last config). */
  get reachable(): boolean { return !this.unreachable; }

  constructor(private readonly store: EtcdConfigStore, url: string, private readonly cachePath: string, private readonly log: Logger,
    private readonly retryMs = 2000) {
    this.name = url;
  }

  async load(): Promise<Config> {
    let rec: ConfigRecord | null;
    try {
      rec = await this.store.current();
    } catch (e) {
      if (e instanceof CorruptRecordError) return this.fallback(`(store): ${e.message}`, true);
      return this.fallback((e as Error).message, false);
    }
    if (rec === null) return this.fallback(`(store): no config under ${this.store.prefix} yet: push one with \`switchyard config push FILE --store ${this.name}\``, true);
    let config: Config;
    try {
      config = this.parse(rec);
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      return this.fallback(e.errors.join('; '), true, e.errors);
    }
    if (this.unreachable || this.fromCache) this.log.info({ version: rec.version }, 'config store reachable again');
    this.unreachable = false;
    this.fromCache = false;
    if (rec.version !== this.version) this.log.info({ storeVersion: rec.version, checksum: rec.checksum.slice(0, 12), author: rec.author }, `store config version ${rec.version} loaded`);
    this.version = rec.version;
    this.last = config;
    this.writeCache(rec);
    return config;
  }

  private parse(rec: ConfigRecord): Config {
    const source = `${this.name} v${rec.version}`;
    return validateConfig(parseConfigText(rec.text, source), source);
  }

  /**
   * What to serve when the store gives nothing usable: the config in force; at start, the
   * cache file. `invalid`: the store answered with a bad document (rejected, reported), as
   * opposed to not answering.
   */
  private fallback(reason: string, invalid: boolean, errors: readonly string[] = [reason]): Config {
    if (this.last !== null) {
      if (invalid) throw new ConfigError(this.name, errors); // the primary keeps the last good one and says why
      if (!this.unreachable) this.log.warn({ reason }, `config store unreachable; keeping store config version ${this.version}`);
      this.unreachable = true;
      return this.last;
    }
    const cached = this.readCache();
    // Unreachable is not invalid: its own error (and exit code), naming the endpoints.
    if (cached === null && !invalid) throw new StoreError('SWY_STORE_UNAVAILABLE', `${reason}; no cached config at ${this.cachePath} to fall back on`, true);
    if (cached === null) throw new ConfigError(this.name, [...errors, '(cache): no cached config to fall back on']);
    this.log.warn({ reason, cache: this.cachePath, version: cached.rec.version },
      `serving the cached config (store version ${cached.rec.version}); retrying the store every ${this.retryMs} ms`);
    this.unreachable = !invalid;
    this.fromCache = true;
    this.version = cached.rec.version;
    this.last = cached.config;
    return cached.config;
  }

  private readCache(): { rec: ConfigRecord; config: Config } | null {
    try {
      const rec = JSON.parse(readFileSync(this.cachePath, 'utf8')) as ConfigRecord;
      return { rec, config: this.parse(rec) };
    } catch {
      return null;
    }
  }

  /** Atomic replace, so a crash mid-write never leaves a torn cache. */
  private writeCache(rec: ConfigRecord): void {
    try {
      mkdirSync(dirname(this.cachePath), { recursive: true });
      const tmp = `${this.cachePath}.${process.pid}.tmp`;
      writeFileSync(tmp, JSON.stringify(rec));
      renameSync(tmp, this.cachePath);
    } catch (e) {
      this.log.warn({ err: (e as Error).message, cache: this.cachePath }, 'cannot write the config cache');
    }
  }

  watch(onChange: () => void, onWarn: (msg: string) => void = () => undefined): () => void {
    let stopWatch: (() => Promise<void>) | null = null;
    let stopped = false;
    let again: NodeJS.Timeout | undefined;
    // A watch that cannot be set up (etcd down when the node starts) is tried again until it is:
    // the poll below stops once a read succeeds, and without a watch the node would never hear
    // of a later push. Once set up, the watch reconnects by itself and delivers current first.
    const start = (): void => {
      this.store.watch(() => onChange(), (err) => onWarn(`config store watch: ${err instanceof SwitchyardError ? err.message : describeEtcdError(err)}`)).then((stop) => {
        if (stopped) void stop(); else stopWatch = stop;
      }, (err: Error) => {
        onWarn(`config store watch failed: ${err instanceof SwitchyardError ? err.message : describeEtcdError(err)}; retrying in ${this.retryMs} ms`);
        if (stopped) return;
        again = setTimeout(start, this.retryMs);
        again.unref();
      });
    };
    start();
    // While serving a fallback, poll: the watch only reports changes, not that etcd came back.
    const retry = setInterval(() => { if (this.unreachable) onChange(); }, this.retryMs);
    retry.unref();
    return () => { stopped = true; clearInterval(retry); clearTimeout(again); void stopWatch?.(); };
  }
}
