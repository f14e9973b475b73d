import type { ListenerConfig } from '../config/schema.js';
import type { ListenerKind } from './listener.js';

/** The kind that serves a listener config, and why it is not the configured engine's (null: it is). */
export interface Resolved { kind: ListenerKind; fallback: string | null }

/**
 * Listener kinds by protocol and engine. `resolve` picks the kind of a config's protocol and
 * engine, or the node engine's kind of that protocol when the configured one cannot run on this
 * Node; a protocol or engine nobody registered is an error (the schema admits only registered
 * ones, so it is a programming error).
 */
export class ListenerRegistry {
  private readonly byKey = new Map<string, ListenerKind>();

  constructor(kinds: readonly ListenerKind[]) {
    for (const k of kinds) {
      for (const p of k.protocols) {
        const key = `${p}/${k.engine}`;
        if (this.byKey.has(key)) throw new Error(`listener kinds ${this.byKey.get(key)!.name} and ${k.name} both serve ${key}`);
        this.byKey.set(key, k);
      }
    }
  }

  /** The kind for `cfg` (see the class comment); throws when its protocol has no kind. */
  resolve(cfg: Pick<ListenerConfig, 'protocol' | 'engine'>): Resolved {
    const kind = this.byKey.get(`${cfg.protocol}/${cfg.engine}`);
    if (kind === undefined) throw new Error(`no listener kind serves protocol ${cfg.protocol} on engine ${cfg.engine}`);
    const why = kind.unavailable();
    if (why === null) return { kind, fallback: null };
    const fallback = this.byKey.get(`${cfg.protocol}/node`);
    if (fallback === undefined || fallback.unavailable() !== null) throw new Error(`listener kind ${kind.name} cannot run here (${why}) and no node-engine kind serves ${cfg.protocol}`);
    return { kind: fallback, fallback: why };
  }
}
