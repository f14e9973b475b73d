import { SwitchyardError } from '../util/errors.js';
import { describeEtcdError } from '../util/etcd-errors.js';

/* Errors of the fleet config store (config-store.ts), shared with its watch and record codec. */

export type StoreErrorCode = 'SWY_STORE_UNAVAILABLE' | 'SWY_STORE_CONFLICT' | 'SWY_STORE_NOT_FOUND' | 'SWY_STORE_NOT_EMPTY'
  | 'SWY_STORE_CURRENT_DELETED' | 'SWY_STORE_CORRUPT';

/** A store operation that failed; `retryable` is true for unavailability and lost races. */
export class StoreError extends SwitchyardError {
  constructor(code: StoreErrorCode, message: string, retryable = false, options?: { cause?: unknown }) {
    super(code, message, code === 'SWY_STORE_UNAVAILABLE' || code === 'SWY_STORE_CONFLICT' ? 'internal' : 'config', retryable);
    this.name = 'StoreError';
    if (options?.cause !== undefined) this.cause = options.cause;
  }
}

/** A stored value that is not a valid record (not JSON, fields missing, checksum mismatch). Keep the last good config. */
export class CorruptRecordError extends StoreError {
  constructor(readonly key: string, readonly reason: string) {
    super('SWY_STORE_CORRUPT', `corrupt config record at ${key}: ${reason}`);
    this.name = 'CorruptRecordError';
  }
}

/** The store, or another etcd client, could not be reached: names the endpoints and the cause. */
export function storeUnavailable(hosts: readonly string[], what: string, e: unknown): StoreError {
  return new StoreError('SWY_STORE_UNAVAILABLE', `config store unreachable: etcd at ${hosts.join(', ')}: ${what}: ${describeEtcdError(e)}`, true, { cause: e });
}
