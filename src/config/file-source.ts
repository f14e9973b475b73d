import { watch } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import type { Config } from './schema.js';
import { loadConfigFile } from './load.js';
import type { ConfigLoader } from '../runtime/primary.js';

/**
 * The embedded default config source: one YAML or JSON file. Watches the file's directory (editors
 * and `mv` replace the file, which a watch on the file itself would lose) and reports changes
 * debounced by `debounceMs`, so a burst of writes becomes one reload.
 */
export class FileConfigSource implements ConfigLoader {
  readonly name: string;
  private readonly path: string;

  constructor(path: string, private readonly debounceMs = 200) {
    this.path = resolve(path);
    this.name = path;
  }

  load(): Promise<Config> {
    return loadConfigFile(this.path);
  }

  watch(onChange: () => void): () => void {
    let timer: NodeJS.Timeout | undefined;
    const file = basename(this.path);
    const w = watch(dirname(this.path), { persistent: false }, (_event, name) => {
      if (name !== null && name !== file) return;
      clearTimeout(timer);
      timer = setTimeout(onChange, this.debounceMs);
    });
    w.on('error', () => undefined);
    return () => { clearTimeout(timer); w.close(); };
  }
}
