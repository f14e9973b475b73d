#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { configJsonSchema } from '../config/schema.js';
import { loadConfigFile } from '../config/load.js';
import { FileConfigSource } from '../config/file-source.js';
import { Primary, type ReloadResult } from '../runtime/primary.js';
import { createLogger } from '../observe/log.js';
import { SwitchyardError } from '../util/errors.js';
import { registerFleetCommands } from './fleet-cli.js';
import { validateCommand } from './validate-cli.js';
import { registerLoadtestCommands } from './loadtest-cli.js';
import { registerRouteAgentCommand } from './route-agent-cli.js';
import { registerLabCommands } from './lab-cli.js';
import { registerDoctorCommand } from './doctor-cli.js';
import { startAdmin } from '../admin/start-admin.js';
import { parseListenOverrides, withListenOverrides } from '../config/listen-overrides.js';
import { startFleetNode, type Role } from './start-node.js';
import { positiveInt, USAGE_EXIT } from './args.js';
import { errorLine, exitCodeOf } from './exit-codes.js';
import { signalAndWait, writeOutcome } from './reload-outcome.js';
import { reloadThroughAdmin, reportReload } from './reload-cli.js';
import { startAnycast, type AnycastHandle } from '../anycast/start-anycast.js';
import { zoneFile } from '../dns/zone-file.js';

const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };

/** Runs a command body; user errors become one line on stderr and an exit code (exit-codes.ts), never a stack trace. */
async function run(body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (e) {
    process.stderr.write(`${errorLine(e)}\n`);
    if (!(e instanceof SwitchyardError) && process.env.SWITCHYARD_DEBUG) process.stderr.write(`${(e as Error).stack}\n`);
    process.exit(exitCodeOf(e));
  }
}

/** Writes the PID file, removed again when the process exits. */
function writePidFile(path: string): void {
  writeFileSync(path, `${process.pid}\n`);
  process.on('exit', () => { try { rmSync(path); } catch { /* already gone */ } });
}

/** Whether `pid` still runs (a zombie, exited but not yet reaped by its parent, does not). */
function running(pid: number): boolean {
  try { process.kill(pid, 0); } catch { return false; }
  try { return !/^\d+ \(.*\) Z/s.test(readFileSync(`/proc/${pid}/stat`, 'utf8')); } catch { return true; }
}

function readPidFile(path: string): number {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new SwitchyardError('SWY_CLI_USAGE', `cannot read PID file ${path}: ${(e as NodeJS.ErrnoException).code}`);
  }
  const pid = Number(text.trim());
  if (!Number.isInteger(pid) || pid < 1) throw new SwitchyardError('SWY_CLI_USAGE', `PID file ${path} holds no PID`);
  return pid;
}

const program = new Command('switchyard')
  .description('Switchyard: an L7/L4 load balancer')
  .version(pkg.version)
  .showHelpAfterError()
  // Set before the subcommands exist, so they inherit it: commander's own errors (unknown option,
  // bad value such as `-w abc`) are usage errors; --help and --version exit 0.
  .exitOverride((err: CommanderError) => process.exit(err.exitCode === 0 ? 0 : USAGE_EXIT));

program.command('start')
  .description('run the load balancer in the foreground, on a config file or a fleet store')
  .option('-c, --config <file>', 'config file (YAML or JSON)')
  .option('--store <url>', 'fleet config store: etcd://host:port[,host:port…]/prefix (instead of -c)')
  .option('--cache <file>', 'with --store: local copy of the last applied config, served when etcd is unreachable', 'switchyard-cache.json')
  .option('--role <role>', 'with --store: lb (serve traffic), checker (health checks only) or both', 'both')
  .option('--zone <zone>', 'this node\'s zone: zone-aware balancing prefers backends there; with --store checkers are elected per zone (default "default")')
  .option('--node-id <id>', 'with --store: this node\'s id in the member list (default host-pid)')
  .option('--lease-ttl <s>', 'with --store: seconds before a dead node leaves the member list / a dead checker is replaced', positiveInt, 5)
  .option('--listen <name=address>', 'bind listener NAME to ADDRESS on this node (repeatable)', (v: string, all: string[]) => [...all, v], [] as string[])
  .option('--admin <address>', 'admin listener address on this node (overrides admin.address)')
  .option('-w, --workers <n>', 'worker processes (overrides the config)', positiveInt)
  .option('--pid-file <file>', 'write the primary\'s PID here (for `switchyard reload`)')
  .option('--start-timeout <s>', 'seconds the workers have to apply the first config; then start fails', positiveInt, 30)
  .option('--no-watch', 'with -c: reload only on SIGHUP or the admin API, not when the file is saved')
  .action((o: { config?: string; store?: string; cache: string; role: Role; zone?: string; nodeId?: string; leaseTtl: number; listen: string[]; admin?: string; workers?: number; pidFile?: string; startTimeout: number; watch: boolean }) => run(async () => {
    const listen = parseListenOverrides(o.listen);
    if ((o.config === undefined) === (o.store === undefined)) throw new SwitchyardError('SWY_CLI_USAGE', 'give either -c FILE or --store URL');
    if (o.pidFile !== undefined) writePidFile(o.pidFile);
    const pidFile = o.pidFile;
    const onSignalReload = pidFile === undefined ? undefined : (n: number, r: ReloadResult) => writeOutcome(pidFile, n, r);
    if (o.store !== undefined) {
      await startFleetNode({ store: o.store, cache: o.cache, role: o.role, zone: o.zone ?? 'default', nodeId: o.nodeId, workers: o.workers, version: pkg.version, leaseTtlS: o.leaseTtl, listen, admin: o.admin, onSignalReload });
      return;
    }
    const config = await loadConfigFile(o.config!);
    const log = createLogger(config.logLevel, { role: 'primary' });
    let anycast: AnycastHandle | undefined;
    const primary: Primary = new Primary({
      loader: withListenOverrides(new FileConfigSource(o.config!, { watch: o.watch }), listen), log, workers: o.workers, zone: o.zone, startTimeoutMs: o.startTimeout * 1000, onSignalReload,
      beforeReady: async () => {
        anycast = startAnycast(primary, log);
        await startAdmin(primary, log, { version: pkg.version, address: o.admin, anycast: () => anycast?.state(), ...(o.zone !== undefined ? { statusExtra: () => ({ zone: o.zone }) } : {}) });
      },
      onReadinessChange: () => anycast?.kick(),
      beforeDrain: async () => { await anycast?.beforeDrain(); },
    });
    await primary.start();
  }));

program.command('reload')
  .description('reload the config of a running node and print the outcome (applied version, or the rejection as path: reason; exit 1), or with --workers replace its workers one at a time (SIGUSR2)')
  .option('--pid-file <file>', 'the PID file given to `start --pid-file` (the outcome is read from FILE.reload)')
  .option('--pid <pid>', 'the primary\'s PID (without --pid-file the outcome is not awaited)', positiveInt)
  .option('--admin <address>', 'reload through the admin API at host:port instead (token from SWITCHYARD_ADMIN_TOKEN)')
  .option('--timeout <s>', 'seconds to wait for the outcome', positiveInt, 60)
  .option('--workers', 'rolling restart of the workers (new code, no refused connection)')
  .action((o: { pidFile?: string; pid?: number; admin?: string; timeout: number; workers?: boolean }) => run(async () => {
    if (o.admin !== undefined && !o.workers) { reportReload(await reloadThroughAdmin(o.admin, o.timeout * 1000)); return; }
    const pid = o.pid ?? (o.pidFile !== undefined ? readPidFile(o.pidFile) : undefined);
    if (pid === undefined) throw new SwitchyardError('SWY_CLI_USAGE', 'give --pid-file, --pid or --admin');
    if (!running(pid)) throw new SwitchyardError('SWY_CLI_USAGE', `no process ${pid} (a stale PID file?)`);
    if (!o.workers && o.pidFile !== undefined) { reportReload(await signalAndWait(pid, o.pidFile, o.timeout * 1000)); return; }
    const signal = o.workers ? 'SIGUSR2' : 'SIGHUP';
    try {
      process.kill(pid, signal);
    } catch (e) {
      throw new SwitchyardError('SWY_CLI_USAGE', `cannot signal process ${pid}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    process.stdout.write(`sent ${signal} to ${pid}${o.workers ? '' : ' (give --pid-file or --admin to wait for the outcome)'}\n`);
  }));

program.command('drain')
  .description('drain a running node and stop it (SIGTERM): withdraw its anycast VIP, wait for routers, tell clients to go, let requests finish, exit')
  .option('--pid-file <file>', 'the PID file given to `start --pid-file`')
  .option('--pid <pid>', 'the primary\'s PID', positiveInt)
  .option('--wait <s>', 'wait up to this many seconds for the node to exit (0: do not wait)', (v: string) => { const n = Number(v); if (!Number.isInteger(n) || n < 0) throw new SwitchyardError('SWY_CLI_USAGE', '--wait: expected whole seconds'); return n; }, 0)
  .action((o: { pidFile?: string; pid?: number; wait: number }) => run(async () => {
    const pid = o.pid ?? (o.pidFile !== undefined ? readPidFile(o.pidFile) : undefined);
    if (pid === undefined) throw new SwitchyardError('SWY_CLI_USAGE', 'give --pid-file or --pid');
    try {
      process.kill(pid, 'SIGTERM');
    } catch (e) {
      throw new SwitchyardError('SWY_CLI_USAGE', `cannot signal process ${pid}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    process.stdout.write(`sent SIGTERM to ${pid}: draining\n`);
    if (o.wait === 0) return;
    const until = Date.now() + o.wait * 1000;
    while (Date.now() < until) {
      if (!running(pid)) { process.stdout.write(`${pid} exited\n`); return; }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new SwitchyardError('SWY_DRAIN_TIMEOUT', `${pid} still running after ${o.wait} s`);
  }));

program.command('validate')
  .description('check a config: schema ("path: reason"), certificate files, keys, expiry and SNI coverage; optionally that its ports are free')
  .option('-c, --config <file>', 'config file (YAML or JSON)')
  .option('--store <url>', 'check the current config of a fleet store instead: etcd://host:port[,…]/prefix')
  .option('--check-ports', 'also bind every listen address once (for a node that is not running yet): a busy one exits 3')
  .option('--schema-only', 'check the document only, not the certificate files it names (a config written for another host)')
  .action((o: { config?: string; store?: string; checkPorts?: boolean; schemaOnly?: boolean }) => run(async () => {
    if ((o.config === undefined) === (o.store === undefined)) throw new SwitchyardError('SWY_CLI_USAGE', 'give either -c FILE or --store URL');
    await validateCommand({ config: o.config, store: o.store, checkPorts: o.checkPorts ?? false, files: !o.schemaOnly });
  }));

program.command('dns')
  .description('the GeoDNS zone of a config (see docs/regions.md)')
  .command('export-zone')
  .description('print the `dns` zone as a standard zone file, for a secondary DNS provider')
  .requiredOption('-c, --config <file>', 'config file (YAML or JSON)')
  .option('--region <name>', 'the region whose VIPs the names get (default: dns.defaultRegion)')
  .action((o: { config: string; region?: string }) => run(async () => {
    const c = await loadConfigFile(o.config);
    if (c.dns === undefined) throw new SwitchyardError('SWY_CLI_USAGE', `${o.config} has no \`dns\` block`);
    try { process.stdout.write(zoneFile(c.dns, o.region)); } catch (e) { throw new SwitchyardError('SWY_CLI_USAGE', `--region: ${(e as Error).message}`); }
  }));

program.command('schema')
  .description('print the JSON Schema of the config file (for editor completion)')
  .action(() => run(async () => {
    process.stdout.write(`${JSON.stringify(configJsonSchema(), null, 2)}\n`);
  }));

registerFleetCommands(program, run);
registerLoadtestCommands(program, run);
registerRouteAgentCommand(program, run);
registerLabCommands(program, run);
registerDoctorCommand(program, run);

await program.parseAsync(process.argv);
