import { spawn } from 'node:child_process';
import { openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { labUnavailable } from '../lab/netns.js';
import { SwitchyardLab, LAB_PORT, LAB_ADMIN } from '../lab/switchyard-lab.js';
import { VIP } from '../lab/anycast-lab.js';
import { DEFAULT_LAB_DIR, alive, ensureOwnDir, readHolderPid, readState, tearDown, writeHolderPid, writeState, type LabState } from '../lab/lab-state.js';
import { demoRun, demoTable, type DemoFigures } from '../lab/anycast-demo.js';
import { SwitchyardError } from '../util/errors.js';
import { positiveInt } from './args.js';

/*
 * `switchyard lab anycast up|demo|down`: the anycast lab of docs/anycast.md in network namespaces
 * on this machine (root, bird2, nftables). `up` starts a detached holder process that builds the
 * lab and keeps it until `down` (from any process) sends it SIGTERM; `demo` builds its own labs,
 * runs every scenario and prints the figures table.
 */

type Run = (body: () => Promise<void>) => Promise<void>;

const SELF = fileURLToPath(new URL('./main.js', import.meta.url));

function need(): void {
  const why = labUnavailable(['ip', 'bird', 'nft']);
  if (why !== undefined) throw new SwitchyardError('SWY_LAB_UNAVAILABLE', why);
}

function nodeCount(v: string): number {
  const n = positiveInt(v);
  if (n > 20) throw new SwitchyardError('SWY_CLI_USAGE', '--nodes: at most 20');
  return n;
}

/** How to reach a running lab, for people. */
function describe(s: LabState, dir: string): string {
  const [r, c] = [`${s.prefix}-r`, `${s.prefix}-c`];
  return [
    `anycast lab up: ${s.nodes} Switchyard nodes behind ${VIP}:${LAB_PORT}${s.resilient ? ' (route agent: resilient nexthop group)' : ''}`,
    `  client:     ip netns exec ${c} curl -s http://${VIP}:${LAB_PORT}/`,
    `  router:     ip -n ${r} route show ${VIP}${s.resilient ? `; ip -n ${r} nexthop show` : ''}`,
    `  router BGP: birdc -s ${join(s.labDir, 'router.ctl')} show protocols`,
    ...Array.from({ length: s.nodes }, (_, i) => `  node n${i + 1}:    ip netns exec ${s.prefix}-n${i + 1} curl -s http://${LAB_ADMIN}/readyz   (BIRD: ${join(s.labDir, `n${i + 1}.ctl`)})`),
    `  logs:       ${s.labDir}`,
    `  stop:       switchyard lab anycast down${dir === DEFAULT_LAB_DIR ? '' : ` --dir ${dir}`}`,
  ].join('\n');
}

/** Registers `lab anycast up|demo|down` (and the hidden `hold`, the process `up` leaves running). */
export function registerLabCommands(program: Command, run: Run): void {
  const anycast = program.command('lab').description('labs in network namespaces on this machine (root)')
    .command('anycast').description('anycast VIP lab: client, router (BIRD, ECMP, BFD), N Switchyard nodes each with its own BIRD');

  anycast.command('up')
    .description('build the lab and leave it running (state and PID files in --dir)')
    .option('--nodes <n>', 'Switchyard nodes', nodeCount, 3)
    .option('--resilient', 'run the route agent on the router (resilient nexthop group)')
    .option('--dir <dir>', 'runtime directory', DEFAULT_LAB_DIR)
    .action((o: { nodes: number; resilient?: boolean; dir: string }) => run(async () => {
      need();
      const holder = readHolderPid(o.dir);
      if (holder !== undefined && alive(holder)) throw new SwitchyardError('SWY_LAB_RUNNING', `a lab is already up (holder ${holder}); run 'switchyard lab anycast down' first`);
      ensureOwnDir(o.dir);
      const log = join(o.dir, 'holder.log');
      const fd = openSync(log, 'w');
      const p = spawn(process.execPath, [SELF, 'lab', 'anycast', 'hold', '--nodes', String(o.nodes), '--dir', o.dir, ...(o.resilient ? ['--resilient'] : [])],
        { detached: true, stdio: ['ignore', fd, fd] });
      p.unref();
      const until = Date.now() + 120_000;
      for (;;) {
        const s = readState(o.dir);
        if (s !== undefined && s.holderPid === p.pid) { process.stdout.write(`${describe(s, o.dir)}\n`); return; }
        if (p.exitCode !== null || !alive(p.pid!)) throw new SwitchyardError('SWY_LAB_FAILED', `the lab did not come up:\n${readFileSync(log, 'utf8').slice(-2000)}`);
        if (Date.now() > until) { await tearDown(o.dir); throw new SwitchyardError('SWY_LAB_FAILED', 'the lab did not come up in 120 s (torn down)'); }
        await new Promise((r) => setTimeout(r, 200));
      }
    }));

  anycast.command('hold', { hidden: true })
    .option('--nodes <n>', 'Switchyard nodes', nodeCount, 3)
    .option('--resilient')
    .option('--dir <dir>', 'runtime directory', DEFAULT_LAB_DIR)
    .action((o: { nodes: number; resilient?: boolean; dir: string }) => run(async () => {
      writeHolderPid(o.dir, process.pid);
      // The lab's 'exit' hook (netns.ts) deletes everything; a signal must become an exit.
      for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.once(sig, () => process.exit(0));
      const s = await SwitchyardLab.build({ nodes: o.nodes, resilient: o.resilient });
      writeState(o.dir, { holderPid: process.pid, prefix: s.lab.prefix, labDir: s.lab.dir, namespaces: s.lab.namespaceNames(), pids: s.lab.running(), nodes: o.nodes, resilient: o.resilient === true });
      process.stdout.write('lab up\n');
      await new Promise(() => undefined); // until a signal
    }));

  anycast.command('down')
    .description('stop everything `up` started (by PID) and delete its namespaces')
    .option('--dir <dir>', 'runtime directory', DEFAULT_LAB_DIR)
    .action((o: { dir: string }) => run(async () => {
      const done = await tearDown(o.dir);
      process.stdout.write(done.length === 0 ? 'no lab was up\n' : `${done.join('\n')}\nlab down\n`);
    }));

  anycast.command('demo')
    .description('build a lab per run, run every scenario (split, silent failure, kill -9, unhealthy backends, drain, scale-out) and print the figures')
    .option('--runs <n>', 'runs (min / median / max when more than one)', positiveInt, 1)
    .action((o: { runs: number }) => run(async () => {
      need();
      for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => process.exit(130)); // the 'exit' hook deletes the lab
      const load0 = loadavg().map((x) => x.toFixed(2)).join(' ');
      const runs: DemoFigures[] = [];
      for (let i = 1; i <= o.runs; i++) {
        process.stderr.write(`run ${i}/${o.runs}\n`);
        runs.push(await demoRun((line) => process.stderr.write(`  ${line}\n`)));
      }
      process.stdout.write(`\nswitchyard lab anycast demo --runs ${o.runs}, ${new Date().toISOString().slice(0, 16)}Z, load average ${load0} at the start, ${loadavg().map((x) => x.toFixed(2)).join(' ')} at the end (${cpus().length} CPUs)\n\n${demoTable(runs)}\n`);
      process.exit(0);
    }));
}
