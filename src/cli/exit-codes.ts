import { SwitchyardError } from '../util/errors.js';
import { describeEtcdError, isEtcdClientError } from '../util/etcd-errors.js';

/*
 * Exit codes of every command (docs/config.md, "Checking a config"): a script or a unit file can tell a config to fix
 * from a port another process holds from a config store that is down.
 *   0 ok · 1 invalid config, or the command failed · 2 usage (bad flag or value)
 *   3 a listen address cannot be bound (busy, privileged, not on this host)
 *   4 the config store (etcd) is unreachable
 */
export const EXIT = { ok: 0, failed: 1, usage: 2, bind: 3, store: 4 } as const;

/** The exit code for an error a command ended with. */
export function exitCodeOf(e: unknown): number {
  if (!(e instanceof SwitchyardError)) return isEtcdClientError(e) ? EXIT.store : EXIT.failed;
  if (e.code === 'SWY_CLI_USAGE') return EXIT.usage;
  if (e.code.startsWith('SWY_LISTEN_')) return EXIT.bind;
  if (e.code === 'SWY_STORE_UNAVAILABLE') return EXIT.store;
  return EXIT.failed;
}

/** The one line a command prints for its error: `code: message`; an etcd client error is described, never shown raw. */
export function errorLine(e: unknown): string {
  if (e instanceof SwitchyardError) return `error: ${e.code}: ${e.message}`;
  if (isEtcdClientError(e)) return `error: SWY_STORE_UNAVAILABLE: config store: ${describeEtcdError(e)}`;
  return `error: ${(e as Error).message}`;
}
