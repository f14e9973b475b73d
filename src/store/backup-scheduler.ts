import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { BackupConfig } from '../config/backup-schema.js';
import { SwitchyardError } from '../util/errors.js';
import type { EtcdConfigStore } from './config-store.js';
import { listBackups, newConfigBackup, pruneBackups, readFiles, writeCertBackup } from './backup-dir.js';

/*
 * The automatic backups of a fleet (design, "Backup Strategy"), taken by the zone's elected
 * checker only (`mayRun`): a config snapshot `debounce` after every change, and on every tick
 * whatever is due — a snapshot when the newest one is not of the store's current version (a
 * change missed while another node was elected), the daily prune (store history and snapshots
 * to `retentionDays`), the weekly encrypted certificate backup. What is due is read from the
 * backup directory itself (and DIR/last-prune), so a restart or a new leader neither repeats
 * nor skips work. Runs are serialized; a failure is logged and tried again on the next tick.
 */

export interface BackupSchedulerOptions {
  store: EtcdConfigStore;
  /** The `backup` block of the config in force (undefined: no backups). */
  settings: () => BackupConfig | undefined;
  /** Certificate and key files the config names. */
  certFiles: () => string[];
  /** True while this node is the elected checker. */
  mayRun: () => boolean;
  log: Logger;
  now?: () => number;
  /** How often due work is looked for (default 10 s). */
  tickMs?: number;
}

const DAY_MS = 86_400_000;

/** Runs a fleet's backups while this node is elected; see the comment above. */
export class BackupScheduler {
  private timer: NodeJS.Timeout | undefined;
  private debounce: NodeJS.Timeout | undefined;
  private running: Promise<void> = Promise.resolve();
  private stopped = false;
  private readonly now: () => number;

  constructor(private readonly o: BackupSchedulerOptions) {
    this.now = o.now ?? Date.now;
  }

  start(): void {
    const tick = () => {
      this.timer = setTimeout(() => { void this.run().finally(() => { if (!this.stopped) tick(); }); }, this.o.tickMs ?? 10_000);
      this.timer.unref();
    };
    this.timer = setTimeout(() => { void this.run().finally(() => { if (!this.stopped) tick(); }); }, 1000);
    this.timer.unref();
  }

  /** The config changed: a snapshot once no further change came for `debounce`. */
  changed(): void {
    const s = this.o.settings();
    if (s === undefined || this.stopped) return;
    clearTimeout(this.debounce);
    this.debounce = setTimeout(() => void this.run(), s.debounce);
    this.debounce.unref();
  }

  /** Does what is due now (serialized with any run under way). */
  run(): Promise<void> {
    this.running = this.running.then(() => this.runNow()).catch((e: Error) => {
      this.o.log.error({ err: e.message }, 'backup failed; trying again on the next tick');
    });
    return this.running;
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    clearTimeout(this.debounce);
  }

  private async runNow(): Promise<void> {
    const s = this.o.settings();
    if (s === undefined || this.stopped || !this.o.mayRun()) return;
    await this.snapshotIfBehind(s);
    await this.pruneIfDue(s);
    if (s.certificates !== undefined) await this.certsIfDue(s, s.certificates);
  }

  private async snapshotIfBehind(s: BackupConfig): Promise<void> {
    const current = await this.o.store.current().catch(() => null);
    if (current === null) return;
    const newest = (await listBackups(s.dir, 'config'))[0];
    if (newest?.version === current.version) return;
    const t0 = this.now();
    const path = await newConfigBackup(s.dir, current.version, t0, async (p) => { await this.o.store.backup(p); });
    this.o.log.info({ path, version: current.version, ms: this.now() - t0 }, 'config backup written');
  }

  private async pruneIfDue(s: BackupConfig): Promise<void> {
    const marker = join(s.dir, 'last-prune');
    const last = Number(await readFile(marker, 'utf8').catch(() => '0'));
    const now = this.now();
    if (now - last < s.pruneEvery) return;
    const retention = s.retentionDays * DAY_MS;
    const history = await this.o.store.prune(retention, now);
    const snapshots = await pruneBackups(s.dir, 'config', retention, now);
    const certs = s.certificates === undefined ? [] : await pruneBackups(s.dir, 'certs', s.certificates.retentionDays * DAY_MS, now);
    await mkdir(s.dir, { recursive: true, mode: 0o700 });
    await writeFile(marker, String(now));
    this.o.log.info({ historyVersions: history.deleted.length, snapshots: snapshots.length, certBackups: certs.length }, 'backups pruned');
  }

  private async certsIfDue(s: BackupConfig, c: NonNullable<BackupConfig['certificates']>): Promise<void> {
    const newest = (await listBackups(s.dir, 'certs'))[0];
    const now = this.now();
    if (newest !== undefined && now - newest.at < c.everyDays * DAY_MS) return;
    const paths = this.o.certFiles();
    if (paths.length === 0) return; // no https listener: nothing to back up
    const { files, missing } = await readFiles(paths);
    if (missing.length > 0) this.o.log.warn({ missing }, 'certificate backup: files not readable on this host are left out');
    if (files.length === 0) throw new SwitchyardError('SWY_BACKUP_EMPTY', 'certificate backup: no certificate file readable on this host');
    const path = await writeCertBackup(s.dir, files, c.key, now);
    this.o.log.info({ path, files: files.length }, 'certificate backup written (encrypted)');
  }
}
