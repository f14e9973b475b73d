import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import type { Primary } from '../runtime/primary.js';
import { systemClock } from '../util/clock.js';
import { Announcer, type AnnouncementState } from './announcer.js';

const WATCHDOG = fileURLToPath(new URL('./watchdog.js', import.meta.url));

/** A node's anycast side, as the primary, the admin API and the fleet record use it. */
export interface AnycastHandle {
  /** Readiness may have changed. */
  kick(): void;
  /** The drain's first step: withdraw, then wait `anycast.withdrawWait` for routers to move new flows. */
  beforeDrain(): Promise<void>;
  state(): AnnouncementState | undefined;
  stop(): void;
}

/**
 * Starts the announcer for `primary` (idle while the config has no `anycast` block) and its
 * watchdog (watchdog.ts), which withdraws the VIP should this process die without draining.
 */
export function startAnycast(primary: Primary, log: Logger, onChange?: (s: AnnouncementState) => void): AnycastHandle {
  const config = () => primary.status().config.anycast;
  const announcer = new Announcer({ config, readiness: () => primary.readiness(), clock: systemClock, log, onChange });
  let watchdog: { key: string; proc: ChildProcess } | undefined;
  const keepWatchdog = () => {
    const c = config();
    const key = c === undefined ? '' : [c.bird.socket, ...c.bird.protocols].join('\n');
    if (watchdog?.key === key) return;
    // Closing the old pipe disables the old protocols: they are no longer ones this node manages.
    watchdog?.proc.stdin?.end();
    watchdog = undefined;
    if (c === undefined) return;
    const proc = spawn(process.execPath, [WATCHDOG, c.bird.socket, String(c.bird.timeout), ...c.bird.protocols], { detached: true, stdio: ['pipe', 'ignore', 'ignore'] });
    proc.on('error', (e) => log.error({ err: e.message }, 'anycast: watchdog did not start'));
    proc.unref();
    (proc.stdin as unknown as { unref?: () => void }).unref?.();
    watchdog = { key, proc };
  };
  keepWatchdog();
  announcer.start();
  return {
    kick: () => { keepWatchdog(); void announcer.kick(); },
    beforeDrain: async () => {
      const c = config();
      if (c === undefined) return;
      if (c.goAwayBeforeWithdraw > 0) {
        // Still announced: keep-alive clients reconnect through the VIP (a few land here again and
        // are served once more with Connection: close) instead of being cut by the route change.
        primary.goAway();
        log.info({ waitMs: c.goAwayBeforeWithdraw }, 'anycast: drain: clients told to go; withdrawing after the wait');
        await new Promise((r) => setTimeout(r, c.goAwayBeforeWithdraw));
      }
      await announcer.withdraw();
      log.info({ waitMs: c.withdrawWait, state: announcer.state().state }, 'anycast: withdrawn for drain; waiting for routers to move new flows');
      await new Promise((r) => setTimeout(r, c.withdrawWait));
    },
    state: () => (config() === undefined ? undefined : announcer.state()),
    stop: () => announcer.stop(),
  };
}
