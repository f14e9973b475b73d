import type { IBackoff } from 'cockatiel';
import type { IKeyValue, Watcher } from 'etcd3';
import { StoreError } from './store-errors.js';
import type { ConfigRecord } from './record.js';
import { describeEtcdError } from '../util/etcd-errors.js';

/* The store's watch on the current config key (see config-store.ts), reconnecting and deduplicated. */

/** Reconnect delays for watch streams: 100 ms doubling to 1 s (etcd3's default grows to 30 s, too slow for config pushes). */
export function watchBackoff(ms: number): IBackoff<unknown> {
  return { duration: ms, next: () => watchBackoff(Math.min(ms * 2, 1000)) };
}

/** What a CurrentWatch needs from its store. */
export interface WatchSource {
  readonly key: string;
  readonly timeoutMs: number;
  /** A new, connecting watcher on current. */
  watcher(): Watcher;
  read(): Promise<IKeyValue | undefined>;
  decode(value: Buffer): ConfigRecord;
}

const unavailable = (msg: string): StoreError => new StoreError('SWY_STORE_UNAVAILABLE', msg, true);

/**
 * One watch on the current key. Deliveries are deduplicated by mod revision, so the re-read after
 * a reconnect and etcd's replay of missed events never deliver the same change twice. If etcd
 * cancels the watch (e.g. its start revision was compacted) a new one is started.
 */
export class CurrentWatch {
  private watcher: Watcher | undefined;
  private lastRevision = 0;
  private connected = true;
  private live = false;
  private stopped = false;
  private retry: NodeJS.Timeout | undefined;

  constructor(private readonly src: WatchSource, private readonly onRecord: (rec: ConfigRecord) => void,
    private readonly onError: (err: Error) => void) {}

  /** Establishes the watch and delivers current; rejects (and cleans up) when etcd does not answer in time. */
  async start(): Promise<void> {
    try {
      await this.attach(true);
    } catch (e) {
      await this.stop();
      throw e;
    }
  }

  /** Opens a watcher and re-reads current; `first` makes a failed read reject instead of being reported. */
  private async attach(first: boolean): Promise<void> {
    const w = this.src.watcher();
    this.watcher = w;
    w.on('put', (kv) => this.deliver(kv));
    w.on('delete', (kv) => {
      if (!this.advance(kv.mod_revision)) return;
      this.report(new StoreError('SWY_STORE_CURRENT_DELETED', `${this.src.key} was deleted; keeping the last config`));
    });
    w.on('disconnected', (err) => {
      if (!this.connected) return; // the client retries with backoff: report once per outage
      this.connected = false;
      this.report(unavailable(`watch on ${this.src.key} lost its connection (${describeEtcdError(err)}); reconnecting`));
    });
    w.on('connected', () => {
      if (this.connected) return;
      this.connected = true;
      void this.resync(false);
    });
    w.on('error', (err) => {
      if (this.watcher !== w || !this.live) return; // during start(), start() rejects instead
      this.watcher = undefined;
      this.report(unavailable(`etcd cancelled the watch on ${this.src.key} (${describeEtcdError(err)}); starting a new one`));
      this.reattachLater(500);
    });
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(unavailable(`etcd watch on ${this.src.key}: not set up within ${this.src.timeoutMs} ms`)), this.src.timeoutMs);
        w.once('connected', () => { clearTimeout(timer); resolve(); });
        w.once('error', (e) => { clearTimeout(timer); reject(unavailable(`etcd watch on ${this.src.key} failed: ${describeEtcdError(e)}`)); });
      });
    } catch (e) {
      if (this.watcher === w) this.watcher = undefined;
      void w.cancel().catch(() => {});
      throw e;
    }
    this.live = true; // from here on, problems go to onError
    await this.resync(first);
  }

  private reattachLater(delayMs: number): void {
    if (this.stopped) return;
    this.retry = setTimeout(() => {
      this.attach(false).catch((e: Error) => { this.report(e); this.reattachLater(Math.min(delayMs * 2, 5000)); });
    }, delayMs);
  }

  /** Reads current and delivers it if it is newer than the last delivery (covers changes missed while away). */
  private async resync(throwErrors: boolean): Promise<void> {
    let kv: IKeyValue | undefined;
    try { kv = await this.src.read(); } catch (e) {
      if (throwErrors) throw e;
      this.report(e as Error);
      return;
    }
    if (kv !== undefined) this.deliver(kv);
  }

  /** True (and remembered) when `modRevision` is newer than anything delivered so far. */
  private advance(modRevision: string): boolean {
    const rev = Number(modRevision);
    if (this.stopped || rev <= this.lastRevision) return false;
    this.lastRevision = rev;
    return true;
  }

  private deliver(kv: IKeyValue): void {
    if (!this.advance(kv.mod_revision)) return;
    let rec: ConfigRecord;
    try { rec = this.src.decode(kv.value); } catch (e) {
      this.report(e as Error);
      return;
    }
    try { this.onRecord(rec); } catch (e) { this.report(e as Error); }
  }

  private report(err: Error): void {
    if (this.stopped || !this.live) return;
    try { this.onError(err); } catch { /* a throwing error handler must not end the watch */ }
  }

  /** Cancels the watch; waits at most the op timeout for etcd to confirm. Idempotent. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retry);
    const w = this.watcher;
    this.watcher = undefined;
    if (w === undefined) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([w.cancel().catch(() => {}), new Promise<void>((r) => { timer = setTimeout(r, this.src.timeoutMs); })]);
    clearTimeout(timer);
  }
}
