import type { Config } from './schema.js';

/**
 * Where configs come from (the file source, the etcd store): the primary loads through it and
 * reloads when it signals a change. `load` throws ConfigError (`path: reason`) on a bad config.
 */
export interface ConfigLoader {
  readonly name: string;
  load(): Promise<Config>;
  /** Calls `onChange` when the source may have changed (debounced by the source); `onWarn` for trouble watching. */
  watch(onChange: () => void, onWarn?: (msg: string) => void): () => void;
}
