import { InvalidArgumentError, type Command } from 'commander';
import { isIP } from 'node:net';
import { RouteAgent } from '../anycast/route-agent.js';
import type { GroupSpec } from '../anycast/resilient-plan.js';
import { createLogger } from '../observe/log.js';
import { SwitchyardError } from '../util/errors.js';
import { positiveInt } from './args.js';

/* `switchyard route-agent`: on a router next to BIRD, turns BIRD's ECMP route for each VIP into a resilient nexthop group. */

type Run = (body: () => Promise<void>) => Promise<void>;

/** Member ids each prefix's group may use (ids groupId+1 .. groupId+MAX_MEMBERS). */
const MAX_MEMBERS = 99;

/** Parses a host prefix (IPv4 /32, IPv6 /128); anything else is a usage error naming the value. */
export function hostPrefix(v: string, all: string[]): string[] {
  const [addr, len, extra] = v.split('/');
  const family = isIP(addr ?? '');
  if (extra !== undefined || family === 0 || len !== (family === 4 ? '32' : '128')) {
    throw new InvalidArgumentError(`expected an IPv4 /32 or IPv6 /128 prefix, got "${v}"`);
  }
  return [...all, v];
}

function nonNegativeInt(v: string): number {
  return v.trim() === '0' ? 0 : positiveInt(v);
}

function table(v: string): string {
  if (!/^(main|\d{1,10})$/.test(v)) throw new InvalidArgumentError(`expected "main" or a table number, got "${v}"`);
  return v;
}

interface Options { prefix: string[]; sourceTable: string; groupId: number; buckets: number; idleTimer: number; unbalancedTimer: number; metric: number; resync: number; keepOnExit?: boolean; logLevel: string }

/** Registers `route-agent`; it runs in the foreground until SIGTERM/SIGINT, then removes its routes (unless --keep-on-exit). */
export function registerRouteAgentCommand(program: Command, run: Run): void {
  program.command('route-agent')
    .description('on a router running BIRD: install a kernel resilient nexthop group per VIP from BIRD\'s ECMP route (flows of unchanged nodes stay put)')
    .option('--prefix <prefix>', 'VIP prefix, /32 or /128 (repeatable, at least one)', hostPrefix, [] as string[])
    .option('--source-table <table>', 'kernel table BIRD\'s kernel protocol exports to', table, 'main')
    .option('--group-id <id>', 'nexthop id of the first prefix\'s group; members and further prefixes take the ids after it', positiveInt, 10000)
    .option('--buckets <n>', 'buckets per resilient group (more = finer shares)', positiveInt, 128)
    .option('--idle-timer <s>', 'seconds a bucket must be idle before it moves to a new nexthop (0 = at once)', nonNegativeInt, 0)
    .option('--unbalanced-timer <s>', 'seconds the group may stay unbalanced before busy buckets move too (0 = never forced)', nonNegativeInt, 0)
    .option('--metric <n>', 'metric of the agent\'s route; must be lower than BIRD\'s (kernel protocol default 32)', positiveInt, 16)
    .option('--resync <ms>', 'full resync interval besides netlink events', positiveInt, 5000)
    .option('--keep-on-exit', 'leave the group and route installed on exit (a restart then moves no flow)')
    .option('--log-level <level>', 'log level', 'info')
    .action((o: Options) => run(async () => {
      if (o.prefix.length === 0) throw new SwitchyardError('SWY_CLI_USAGE', 'give at least one --prefix');
      if (o.groupId + o.prefix.length * (MAX_MEMBERS + 1) > 0xffffffff) {
        throw new SwitchyardError('SWY_CLI_USAGE', `--group-id ${o.groupId}: ${o.prefix.length} prefixes need ids up to ${o.groupId + o.prefix.length * (MAX_MEMBERS + 1) - 1}, above 2^32-1`);
      }
      if (o.buckets > 65535) throw new SwitchyardError('SWY_CLI_USAGE', `--buckets ${o.buckets}: at most 65535`);
      const log = createLogger(o.logLevel, { role: 'route-agent' });
      const specs: GroupSpec[] = o.prefix.map((prefix, i) => ({
        prefix, groupId: o.groupId + i * (MAX_MEMBERS + 1), maxMembers: MAX_MEMBERS, buckets: o.buckets,
        idleTimer: o.idleTimer, unbalancedTimer: o.unbalancedTimer, metric: o.metric, proto: 250,
      }));
      const agent = new RouteAgent({ specs, sourceTable: o.sourceTable, resyncMs: o.resync, keepOnExit: o.keepOnExit === true, log });
      await agent.start();
      log.info({ prefixes: o.prefix, groupId: o.groupId, buckets: o.buckets }, 'route agent running');
      const stop = (): void => { void agent.stop().finally(() => process.exit(0)); };
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
    }));
}
