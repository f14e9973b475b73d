import type { Config } from '../config/schema.js';

/** Primary → worker. The config is already validated; the worker builds its own snapshot from it. */
/** Active health states by service and backend key (only backends a checker marked unhealthy need be listed). */
export type HealthMap = Record<string, Record<string, boolean>>;

export type ToWorker =
  | { type: 'config'; version: number; config: Config; health: HealthMap }
  | { type: 'health'; service: string; backend: string; healthy: boolean }
  | { type: 'shutdown'; drainMs: number };

/** Worker → primary. */
export type FromWorker =
  | { type: 'hello' }
  | { type: 'applied'; version: number }
  | { type: 'rejected'; version: number; error: string }
  | { type: 'fatal'; error: string };
