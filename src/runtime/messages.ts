import type { Config } from '../config/schema.js';

/** Primary → worker. The config is already validated; the worker builds its own snapshot from it. */
export type ToWorker =
  | { type: 'config'; version: number; config: Config }
  | { type: 'shutdown'; drainMs: number };

/** Worker → primary. */
export type FromWorker =
  | { type: 'hello' }
  | { type: 'applied'; version: number }
  | { type: 'rejected'; version: number; error: string }
  | { type: 'fatal'; error: string };
