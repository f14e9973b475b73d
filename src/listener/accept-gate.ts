import type { Server } from 'node:net';
import type { Config, ListenerConfig } from '../config/schema.js';
import type { ListenerCounters } from '../observe/stats.js';
import { AccessList, BlockSet } from '../defence/access-list.js';
import { ClientLimiter, type ClientLimitSettings } from '../defence/client-limits.js';
import { formatCidr, masked, parseIp } from '../util/cidr.js';

/*
 * The abuse checks every listener runs at accept, whatever its protocol and engine: allow/deny
 * lists, temporary blocks and per-client connection limits. It sits on the listening handle's
 * `onconnection` (like net/listen.ts holdConnections), so a refused connection is closed as a
 * bare libuv handle: no net.Socket, no TLS handshake, no byte read — the cheapest refusal there
 * is, and the same code for http, https, tcp and tls-passthrough on both engines. A listener
 * with no rule and no limit pays one branch per connection.
 *
 * A connection the per-client limits counted is released when its TCP handle closes: every
 * path (net.Socket, the fast L4 relay, the direct TLS accept, TLSWrap) ends in that handle's
 * `close()`, which the gate wraps on the one handle.
 */

/** The accepted TCP handle as the gate sees it (a TCPWrap). */
interface ClientHandle {
  getpeername(out: { address?: string }): number;
  close(cb?: () => void): void;
}

interface Acceptor { onconnection: (err: number, client?: ClientHandle) => void }

/** What every gate of a worker shares: the temporary blocks in force (replaced whole on change). */
export interface GateShared { blocks: BlockSet }

/**
 * The global rules compiled once per committed config and shared by every listener without rules
 * of its own (a deny list of 100,000 prefixes is built once per reload, not once per listener).
 */
const globalLists = new WeakMap<Config['access'], AccessList>();

/** The rules of listener `l`: the global ones, plus its own. */
function accessListOf(l: ListenerConfig, global: Config['access']): AccessList {
  if (l.access.allow.length > 0 || l.access.deny.length > 0) return new AccessList([...global.allow, ...l.access.allow], [...global.deny, ...l.access.deny]);
  let acl = globalLists.get(global);
  if (acl === undefined) { acl = new AccessList(global.allow, global.deny); globalLists.set(global, acl); }
  return acl;
}

/** The per-worker share of a node-wide figure: the cluster spreads connections over workers. */
const share = (v: number | undefined, workers: number) => (v === undefined ? Infinity : v / workers);

/** One listener's accept checks on one worker; `configure` with each committed config. */
export class AcceptGate {
  private acl = new AccessList([], []);
  private limiter: ClientLimiter | null = null;
  private v4Len = 32;
  private v6Len = 64;

  constructor(private readonly shared: GateShared, private readonly counters: ListenerCounters, private readonly workers: number,
    private readonly now: () => number = Date.now) {}

  /** Takes a committed config's rules for this listener (the next accepted connection uses them). */
  configure(l: ListenerConfig, global: Config['access']): void {
    this.acl = accessListOf(l, global);
    const c = l.clientLimits;
    if (c === undefined || (c.maxConnections === undefined && c.connectionRate === undefined)) { this.limiter = null; return; }
    const rate = share(c.connectionRate, this.workers);
    const s: ClientLimitSettings = {
      maxConnections: Math.ceil(share(c.maxConnections, this.workers)),
      rate,
      burst: Math.max(1, Math.ceil(share(c.connectionBurst ?? Math.max(1, c.connectionRate ?? 1), this.workers))),
      maxTracked: c.maxTracked,
    };
    this.v4Len = c.ipv4Prefix;
    this.v6Len = c.ipv6Prefix;
    if (this.limiter === null) this.limiter = new ClientLimiter(s); else this.limiter.configure(s);
  }

  /** Puts the checks in front of `server`'s accept (a listening server; call after any engine took its accept over). */
  install(server: Server): void {
    const handle = (server as unknown as { _handle: Acceptor | null })._handle;
    if (handle === null || typeof handle.onconnection !== 'function') return;
    const deliver = handle.onconnection;
    handle.onconnection = (err, client) => {
      if (err !== 0 || client === undefined || (this.acl.empty && this.limiter === null && this.shared.blocks.size === 0)) {
        deliver.call(handle, err, client);
        return;
      }
      if (this.admit(client)) deliver.call(handle, err, client);
    };
  }

  /** Checks one connection; a refused one is closed and counted (false). */
  private admit(client: ClientHandle): boolean {
    const out: { address?: string } = {};
    // An address we cannot read is a client that already reset: let the listener see it fail.
    const ip = client.getpeername(out) === 0 && out.address !== undefined ? parseIp(out.address) : undefined;
    if (ip === undefined) return true;
    const now = this.now();
    const verdict = this.acl.check(ip, this.shared.blocks, now);
    if (verdict !== 'ok') return this.refuse(client, verdict);
    const limiter = this.limiter;
    if (limiter === null) return true;
    const len = ip.v6 ? this.v6Len : this.v4Len;
    const key = len === (ip.v6 ? 128 : 32) ? out.address! : formatCidr({ ip: masked(ip, len), len });
    const limited = limiter.admit(key, now);
    if (limited !== 'ok') return this.refuse(client, limited);
    const close = client.close;
    const clock = this.now;
    let released = false;
    client.close = function gateClose(this: ClientHandle, cb?: () => void) {
      if (!released) { released = true; limiter.release(key, clock()); }
      return close.call(this, cb);
    };
    return true;
  }

  private refuse(client: ClientHandle, reason: string): false {
    this.counters.refused[reason] = (this.counters.refused[reason] ?? 0) + 1;
    client.close();
    return false;
  }
}
