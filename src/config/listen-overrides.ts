import type { Config } from './schema.js';
import type { ConfigLoader } from './source.js';
import { bindConflicts, parseHostPort } from './address.js';
import { ConfigError, SwitchyardError } from '../util/errors.js';

/**
 * Per-node listener addresses (`start --listen web=10.0.0.7:80`): a fleet shares one config, but
 * a node may have to bind its own address (several nodes on one host, a node-specific IP).
 */
export function parseListenOverrides(values: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const v of values) {
    const eq = v.indexOf('=');
    const name = v.slice(0, eq);
    const address = v.slice(eq + 1);
    if (eq <= 0 || parseHostPort(address, true) === undefined) {
      throw new SwitchyardError('SWY_CLI_USAGE', `--listen: expected NAME=HOST:PORT, got "${v}"`);
    }
    out.set(name, address);
  }
  return out;
}

/** The config with overridden listener addresses (unknown names are an error: a typo would bind nothing). */
export function applyListenOverrides(config: Config, overrides: ReadonlyMap<string, string>): Config {
  if (overrides.size === 0) return config;
  for (const name of overrides.keys()) {
    if (!config.listeners.some((l) => l.name === name)) throw new SwitchyardError('SWY_CONFIG_INVALID', `--listen: the config has no listener "${name}"`, 'config');
  }
  const listeners = config.listeners.map((l) => (overrides.has(l.name) ? { ...l, address: overrides.get(l.name)! } : l));
  // The config's own addresses were checked at validate; the overrides must not collide either.
  const conflicts = bindConflicts(listeners.map((l, i) => ({ where: `listeners[${i}]`, address: l.address })));
  if (conflicts.length > 0) throw new ConfigError('--listen', conflicts.map(({ index, message }) => `listeners[${index}].address: ${message}`));
  return { ...config, listeners };
}

/** A loader whose configs carry this node's listener addresses. */
export function withListenOverrides(loader: ConfigLoader, overrides: ReadonlyMap<string, string>): ConfigLoader {
  if (overrides.size === 0) return loader;
  return {
    name: loader.name,
    load: async () => applyListenOverrides(await loader.load(), overrides),
    watch: (onChange, onWarn) => loader.watch(onChange, onWarn),
  };
}
