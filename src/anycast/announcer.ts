import type { Logger } from 'pino';
import type { Clock } from '../util/clock.js';
import type { Readiness } from '../runtime/readiness.js';
import type { AnycastConfig } from '../config/anycast-schema.js';
import { birdCommand, type BirdReply } from './bird-client.js';
import { parseBfdSessions, parseProtocols, type BfdSession, type BirdProtocol } from './bird-state.js';
import { AnnounceGate } from './hold-down.js';

/*
 * Why the control socket and not generated config + `birdc configure`: enabling or disabling
 * one static protocol is immediate (no config parse, no reconfiguration that could restart BGP
 * sessions), needs no write access to BIRD's config (peers, BFD and policy stay the network
 * owner's), and is idempotent, so the announcer can re-assert it after BIRD restarts. The VIP's
 * static protocol is configured `disabled;`: a BIRD that starts without Switchyard announces
 * nothing.
 */

/** The node's announcement as the admin API and the fleet record show it. */
export interface AnnouncementState {
  /** announced / withdrawn as last confirmed by BIRD; unknown: BIRD never answered. */
  state: 'announced' | 'withdrawn' | 'unknown';
  /** Why (readiness reason, hold-down, draining, or the BIRD error). */
  reason: string;
  /** Wall time of the last change of `state`. */
  since: string;
  vips: string[];
  protocols: string[];
  bird: { reachable: boolean; error?: string; protocols: BirdProtocol[]; bfd: BfdSession[]; checkedAt?: string };
}

export interface AnnouncerDeps {
  /** The `anycast` block in force (undefined: not configured). */
  config: () => AnycastConfig | undefined;
  readiness: () => Readiness;
  clock: Clock;
  log: Logger;
  /** Called after `state` or `reason` changed (e.g. to rewrite the fleet record). */
  onChange?: (s: AnnouncementState) => void;
  /** BIRD transport (tests may point it elsewhere); default the control socket. */
  bird?: (socket: string, command: string, timeoutMs: number) => Promise<BirdReply>;
}

/**
 * Keeps the local BIRD's VIP protocol enabled exactly while the node is ready and past the
 * hold-down: reconciles on every `kick()` (readiness may have changed) and every
 * `anycast.pollInterval` (re-asserting what BIRD has, and reading BGP/BFD state). A node that
 * starts draining stays as it is until `withdraw()` (the drain's step), which disables it for good. Commands are serialized; a BIRD error leaves the state to retry.
 */
export class Announcer {
  private readonly gate: AnnounceGate;
  private readonly bird: NonNullable<AnnouncerDeps['bird']>;
  /** What BIRD was last told (undefined: not known, tell it again). */
  private applied: boolean | undefined;
  private draining = false;
  private running: Promise<void> | null = null;
  private again = false;
  private poll: NodeJS.Timeout | undefined;
  private recheck: NodeJS.Timeout | undefined;
  private stopped = false;
  private current: AnnouncementState = { state: 'unknown', reason: 'starting', since: new Date().toISOString(), vips: [], protocols: [], bird: { reachable: false, protocols: [], bfd: [] } };

  constructor(private readonly deps: AnnouncerDeps) {
    this.gate = new AnnounceGate(deps.clock, deps.config()?.holdDown ?? 0);
    this.bird = deps.bird ?? birdCommand;
  }

  /** Starts the poll loop (first reconcile at once). */
  start(): void {
    const loop = () => {
      if (this.stopped) return;
      void this.refresh().finally(() => {
        if (this.stopped) return;
        this.poll = setTimeout(loop, this.deps.config()?.pollInterval ?? 1000);
        this.poll.unref();
      });
    };
    loop();
  }

  /** Readiness may have changed: reconcile now. Resolves once BIRD was told (or failed). */
  kick(): Promise<void> {
    if (this.running !== null) { this.again = true; return this.running; }
    this.running = (async () => {
      do { this.again = false; await this.reconcile(); } while (this.again && !this.stopped);
    })().finally(() => { this.running = null; });
    return this.running;
  }

  /** Drain: withdraws the VIP now and for good (no re-announce); resolves once BIRD confirmed or failed. */
  async withdraw(): Promise<void> {
    this.draining = true;
    this.applied = undefined;
    await this.kick();
  }

  state(): AnnouncementState { return this.current; }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.poll);
    clearTimeout(this.recheck);
  }

  private async reconcile(): Promise<void> {
    const cfg = this.deps.config();
    if (cfg === undefined) return;
    this.gate.setHoldDown(cfg.holdDown);
    const r = this.deps.readiness();
    // A drain owns the withdrawal's timing (clients are told to go first, see start-anycast.ts):
    // until it calls withdraw(), an announced VIP stays announced.
    const d = this.draining ? { announce: false, reason: 'draining' }
      : r.code === 'draining' ? { announce: this.applied === true, reason: 'draining: clients told to go, withdrawal next' }
        : this.gate.update(r.ready, r.reason);
    clearTimeout(this.recheck);
    if (d.recheckInMs !== undefined && !this.stopped) { this.recheck = setTimeout(() => void this.kick(), d.recheckInMs + 5); this.recheck.unref(); }
    let told: Partial<AnnouncementState['bird']> | undefined;
    if (this.applied !== d.announce) {
      let command = '';
      try {
        for (const p of cfg.bird.protocols) {
          command = `${d.announce ? 'enable' : 'disable'} ${p}`;
          await this.bird(cfg.bird.socket, command, cfg.bird.timeout);
        }
        this.applied = d.announce;
        told = { reachable: true, error: undefined };
        this.deps.log[d.announce ? 'info' : 'warn']({ event: { kind: 'anycast', announce: d.announce, reason: d.reason, vips: cfg.vips } },
          `anycast: ${d.announce ? 'announced' : 'withdrawn'} ${cfg.vips.join(' ')} (${d.reason})`);
      } catch (e) {
        this.applied = undefined;
        this.update(cfg, { state: this.current.state, reason: `BIRD: ${(e as Error).message}` }, { reachable: false, error: (e as Error).message });
        this.deps.log.error({ err: (e as Error).message, command }, 'anycast: BIRD did not take the command; retrying');
        return;
      }
    }
    this.update(cfg, { state: this.applied ? 'announced' : 'withdrawn', reason: d.reason }, told);
  }

  /** Reads BIRD's protocols and BFD sessions; a VIP protocol in the wrong state is re-asserted. */
  private async refresh(): Promise<void> {
    const cfg = this.deps.config();
    if (cfg === undefined) return;
    try {
      const [protocols, bfd] = await Promise.all([
        this.bird(cfg.bird.socket, 'show protocols all', cfg.bird.timeout).then(parseProtocols),
        this.bird(cfg.bird.socket, 'show bfd sessions', cfg.bird.timeout).then(parseBfdSessions).catch(() => []),
      ]);
      const ours = cfg.bird.protocols.map((name) => protocols.find((p) => p.name === name));
      // BIRD restarted (its config starts the protocols disabled) or someone used birdc: tell it again.
      if (ours.some((p) => p === undefined || (p.state === 'up') !== this.applied)) this.applied = undefined;
      this.current = { ...this.current, bird: { reachable: true, protocols: protocols.filter((p) => p.proto === 'BGP' || cfg.bird.protocols.includes(p.name)), bfd, checkedAt: new Date().toISOString() } };
      const missing = cfg.bird.protocols.filter((_, i) => ours[i] === undefined);
      if (missing.length > 0) this.deps.log.error({ missing }, `anycast: BIRD has no protocol ${missing.join(', ')} (anycast.bird.protocols)`);
    } catch (e) {
      this.applied = undefined;
      this.current = { ...this.current, bird: { ...this.current.bird, reachable: false, error: (e as Error).message } };
    }
    await this.kick();
  }

  private update(cfg: AnycastConfig, s: Pick<AnnouncementState, 'state' | 'reason'>, bird?: Partial<AnnouncementState['bird']>): void {
    const prev = this.current;
    const changed = prev.state !== s.state || prev.reason !== s.reason;
    this.current = {
      ...s, since: prev.state === s.state ? prev.since : new Date().toISOString(), vips: cfg.vips, protocols: cfg.bird.protocols,
      bird: { ...prev.bird, ...bird },
    };
    if (changed) this.deps.onChange?.(this.current);
  }
}
