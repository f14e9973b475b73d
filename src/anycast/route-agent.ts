import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import type { Logger } from 'pino';
import { agentRouteInstalled, birdNexthops, concernsAgent, installedState, planGroup, routeCommand, teardown, type GroupSpec, type Nexthop } from './resilient-plan.js';
import { waitNetlinkSubscription } from './netlink-subscribed.js';

/*
 * The route agent runs on a router next to BIRD and keeps, for each VIP prefix, a kernel *resilient*
 * nexthop group in step with the ECMP route BIRD installs (`protocol kernel { merge paths on; }`).
 *
 * Source of truth: BIRD's own kernel route (protocol "bird", table `sourceTable`), not BIRD's control
 * socket. Why: BIRD writes that route the moment BGP/BFD changes a path, and the kernel announces the
 * write over netlink, so `ip monitor route` wakes the agent within milliseconds — withdrawal stays at
 * BFD speed (a birdc poll would add up to its interval, and `show route` output is text meant for
 * people). The route is also the fallback: the agent's own route has a lower metric than BIRD's, so
 * while the agent's route exists it wins, and without it BIRD's plain multipath route still carries
 * traffic (with hash-threshold rehashing). A full resync every `resyncMs` repairs anything a missed
 * event or a lost `ip monitor` would leave behind.
 *
 * Every pass is stateless: it reads BIRD's route and the installed group from the kernel, plans the
 * difference (resilient-plan.ts) and applies it in one `ip -batch`. So a restarted agent carries on
 * with the group it finds — kept members keep their buckets — instead of rebuilding it.
 */

const run = promisify(execFile);

/** Settings of one agent process. */
export interface RouteAgentOptions {
  /** One group per prefix; their id ranges must not overlap. */
  specs: GroupSpec[];
  /** Kernel table BIRD's kernel protocol writes to ("main" or a number). */
  sourceTable: string;
  /** Full resync interval (ms) besides the netlink-driven passes. */
  resyncMs: number;
  /** Leave the group and route in place on stop (a quick restart then moves no flow); default: remove them. */
  keepOnExit: boolean;
  log: Logger;
}

/** Keeps resilient nexthop groups in step with BIRD's ECMP routes until stopped. */
export class RouteAgent {
  private monitor: ChildProcess | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private triggeredAt = 0;
  private stopped = false;

  constructor(private readonly o: RouteAgentOptions) {}

  /** Installs the groups for BIRD's current routes, then follows its changes. Rejects if `ip` cannot run. */
  async start(): Promise<void> {
    // listen first, read second: a route BIRD writes while the first pass reads would otherwise be
    // seen by neither (the pass read too early, the monitor was not listening yet) until the resync
    await this.watch();
    this.triggeredAt = performance.now();
    this.running = this.pass('start');
    try {
      await this.running; // rejects if ip cannot run
    } finally {
      this.running = undefined;
      if (this.again) { this.again = false; this.trigger('coalesced'); }
    }
    this.timer = setInterval(() => this.trigger('resync'), this.o.resyncMs);
  }

  /** Stops following; removes what it installed unless `keepOnExit`. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    this.monitor?.kill();
    await this.running;
    if (this.o.keepOnExit) return;
    const installed = await this.ipJson(['nexthop', 'show']);
    await this.apply(this.o.specs.flatMap((s) => teardown(installedState(installed, s), s)));
  }

  /** Asks for a pass; passes never overlap, and triggers during one coalesce into one more pass. */
  private trigger(reason: string): void {
    if (this.stopped) return;
    if (this.running !== undefined) { this.again = true; return; }
    this.triggeredAt = performance.now();
    this.running = this.pass(reason)
      .catch((e: Error) => this.o.log.error({ err: e.message }, 'route agent pass failed'))
      .finally(() => {
        this.running = undefined;
        if (this.again) { this.again = false; this.trigger('coalesced'); }
      });
  }

  /** One reconcile: BIRD's route and the installed group from the kernel, the difference applied. */
  private async pass(reason: string): Promise<void> {
    const [routes, installed] = await Promise.all([this.sourceRoutes(), this.ipJson(['nexthop', 'show'])]);
    const lines: string[] = [];
    const changes: { prefix: string; nexthops: Nexthop[] }[] = [];
    for (const spec of this.o.specs) {
      const desired = birdNexthops(routes, spec.prefix);
      const plan = planGroup(installedState(installed, spec), desired, spec);
      if (plan.commands.length > 0) changes.push({ prefix: spec.prefix, nexthops: desired });
      // a group that is right but whose route someone removed only needs the route back (buckets untouched)
      const repair = plan.commands.length === 0 && desired.length > 0 && !agentRouteInstalled(routes, spec);
      if (repair) changes.push({ prefix: spec.prefix, nexthops: desired });
      lines.push(...(repair ? [routeCommand(spec)] : plan.commands));
    }
    await this.apply(lines);
    if (changes.length > 0) {
      const ms = Math.round((performance.now() - this.triggeredAt) * 10) / 10;
      for (const c of changes) {
        this.o.log.info({ prefix: c.prefix, nexthops: c.nexthops.map((n) => `${n.gateway}@${n.dev}`), reason, ms: reason === 'start' ? undefined : ms }, 'resilient group updated');
      }
    }
  }

  /**
   * `ip monitor route nexthop`: an event about a VIP route or a nexthop object triggers a pass; other
   * routes do not. Resolves once the monitor has joined its netlink groups (or after 5 s, logged).
   */
  private async watch(): Promise<void> {
    const m = spawn('ip', ['monitor', 'route', 'nexthop'], { stdio: ['ignore', 'pipe', 'inherit'] });
    this.monitor = m;
    m.on('error', (e) => this.o.log.error({ err: e.message }, 'cannot run ip monitor'));
    let partial = '';
    m.stdout.on('data', (d: Buffer) => {
      const text = partial + d.toString();
      const end = text.lastIndexOf('\n') + 1; // judge whole lines only; keep the rest for the next chunk
      partial = text.slice(end);
      if (concernsAgent(text.slice(0, end), this.o.specs)) this.trigger('netlink');
    });
    m.on('exit', (code) => {
      if (this.stopped) return;
      this.o.log.warn({ code }, 'ip monitor exited; restarting in 1 s (the resync timer covers the gap)');
      // the events missed while it was down: one pass once the new monitor listens
      setTimeout(() => { if (!this.stopped) void this.watch().then(() => this.trigger('monitor restarted')); }, 1000).unref();
    });
    const listening = m.pid !== undefined && await waitNetlinkSubscription(m.pid, 5000);
    if (!listening && !this.stopped) this.o.log.warn('ip monitor is not listening after 5 s; the resync timer covers what it misses');
  }

  /**
   * The source table's routes for exactly the agent's prefixes, as one JSON array. Asked per prefix
   * (`exact`): a router may carry a full table, which a pass must not dump.
   */
  private async sourceRoutes(): Promise<string> {
    const lists = await Promise.all(this.o.specs.map((s) => this.ipJson([s.prefix.includes(':') ? '-6' : '-4', 'route', 'show', 'table', this.o.sourceTable, 'exact', s.prefix])));
    return JSON.stringify(lists.flatMap((l) => JSON.parse(l) as unknown[]));
  }

  private async ipJson(args: string[]): Promise<string> {
    const { stdout } = await run('ip', ['-json', ...args], { maxBuffer: 64 * 1024 * 1024 });
    return stdout.trim() === '' ? '[]' : stdout;
  }

  /** Runs the lines in one `ip -force -batch -` (keeps going past a failed line, which is logged). */
  private async apply(lines: string[]): Promise<void> {
    if (lines.length === 0) return;
    await new Promise<void>((resolve) => {
      const p = spawn('ip', ['-force', '-batch', '-'], { stdio: ['pipe', 'ignore', 'pipe'] });
      let err = '';
      p.stderr.on('data', (d: Buffer) => { err += d.toString(); });
      p.on('error', (e) => { this.o.log.error({ err: e.message }, 'cannot run ip'); resolve(); });
      p.on('close', (code) => {
        if (code !== 0) this.o.log.warn({ code, stderr: err.trim(), lines }, 'ip -batch reported errors');
        resolve();
      });
      p.stdin.end(`${lines.join('\n')}\n`);
    });
  }
}
