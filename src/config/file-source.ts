import { statSync, watch, type FSWatcher } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import type { Config } from './schema.js';
import { loadConfigFile } from './load.js';
import type { ConfigLoader } from './source.js';

/**
 * The embedded default config source: one YAML or JSON file. Watches the file's directory (editors
 * and `mv` replace the file, which a watch on the file itself would lose) and reports changes
 * debounced by `debounceMs`, so a burst of writes becomes one reload.
 *
 * inotify alone is not enough: it can be unavailable (instance limits shared by every container of
 * a host, network filesystems, some overlay mounts) or miss an event, and a missed event would
 * leave a node on an old config with nothing in its logs. So the file's identity (inode, size,
 * mtime) is also polled every `pollMs`; the primary ignores a reload whose content is unchanged.
 */
export class FileConfigSource implements ConfigLoader {
  readonly name: string;
  private readonly path: string;

  private readonly debounceMs: number;
  private readonly pollMs: number;
  private readonly fsEvents: boolean;
  private readonly watching: boolean;
  /** The file's identity just before the last load: a save between that load and watch() is still seen. */
  private loadedIdentity: string | undefined;

  /**
   * `fsEvents: false` leaves only the poll (tests use it to prove the poll alone finds changes);
   * `watch: false` reports no change at all (`start --no-watch`: reloads on SIGHUP or the admin API only).
   */
  constructor(path: string, opts: { debounceMs?: number; pollMs?: number; fsEvents?: boolean; watch?: boolean } = {}) {
    this.path = resolve(path);
    this.name = path;
    this.debounceMs = opts.debounceMs ?? 200;
    this.pollMs = opts.pollMs ?? 2000;
    this.fsEvents = opts.fsEvents ?? true;
    this.watching = opts.watch ?? true;
  }

  load(): Promise<Config> {
    this.loadedIdentity = this.identity();
    return loadConfigFile(this.path);
  }

  watch(onChange: () => void, onWarn: (msg: string) => void = () => undefined): () => void {
    if (!this.watching) return () => undefined;
    let timer: NodeJS.Timeout | undefined;
    // Compared with the file as it was loaded, not as it is now: the primary starts watching only
    // after its workers came up, and a save in between would otherwise never be reported.
    let last = this.loadedIdentity ?? this.identity();
    // The identity seen when a change is reported: the poll then does not report the same save
    // again (a rejected config is retried when saved again, so a second report would retry it).
    const fire = () => { last = this.identity(); onChange(); };
    const schedule = () => { clearTimeout(timer); timer = setTimeout(fire, this.debounceMs); };
    const file = basename(this.path);
    let watcher: FSWatcher | undefined;
    if (this.fsEvents) {
      try {
        watcher = watch(dirname(this.path), { persistent: false }, (_event, name) => {
          if (name === null || name === file) schedule();
        });
        watcher.on('error', (e) => onWarn(`config file watch failed (${e.message}); polling every ${this.pollMs} ms`));
      } catch (e) {
        onWarn(`config file watch unavailable (${(e as Error).message}); polling every ${this.pollMs} ms`);
      }
    }
    const poll = setInterval(() => {
      const now = this.identity();
      if (now !== last) { last = now; schedule(); }
    }, this.pollMs);
    poll.unref();
    return () => { clearTimeout(timer); clearInterval(poll); watcher?.close(); };
  }

  /** Changes when the file is rewritten or replaced; '' while it is missing (mid-`mv`). */
  private identity(): string {
    try {
      const s = statSync(this.path);
      return `${s.ino}:${s.size}:${s.mtimeMs}`;
    } catch {
      return '';
    }
  }
}
