import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

/*
 * A minimal ECMP lab for measuring flow remapping (no Switchyard in it): network namespaces for a
 * client, a router running BIRD (dynamic eBGP, BFD 100 ms x 3, `merge paths on`, L4 hash) and N nodes
 * each running BIRD that announces the VIP from a static route. Every daemon is a child of this
 * process (BIRD in the foreground), so it is stopped by PID and reaped; `destroy()` also deletes every
 * namespace. Names carry a random per-run id, so parallel runs do not collide.
 *
 *   <id>-c c0 10.10.0.2 ── rc 10.10.0.1 <id>-r ── rl<i> 10.20.<i>.1 ── eth0 10.20.<i>.2 <id>-n<i>
 */

const exec = promisify(execFile);

export const VIP = '198.51.100.10';
export const CLIENT_ADDR = '10.10.0.2';
/** The router's interface facing the client: flows arrive here. */
export const ROUTER_IIF = 'rc';

const BFD = 'min rx interval 100 ms; min tx interval 100 ms; multiplier 3;';
const BGP_TIMERS = 'bfd on; connect delay time 1; error wait time 1,5;';

function routerConf(dir: string): string {
  return `log "${dir}/router.log" { warning, error, fatal };
router id 10.10.0.1;
protocol device { scan time 2; }
protocol kernel { ipv4 { import none; export all; }; merge paths on; metric 32; }
protocol bfd { interface "rl*" { ${BFD} }; }
protocol bgp nodes {
  local as 65000; neighbor range 10.20.0.0/16 as 65100; dynamic name "n";
  ipv4 { import all; export none; };
  ${BGP_TIMERS}
}
`;
}

function nodeConf(dir: string, i: number): string {
  return `log "${dir}/n${i}.log" { warning, error, fatal };
router id 10.20.${i}.2;
protocol device { scan time 2; }
protocol static vip { ipv4; route ${VIP}/32 blackhole; }
protocol bfd { interface "eth0" { ${BFD} }; }
protocol bgp up {
  local 10.20.${i}.2 as 65100; neighbor 10.20.${i}.1 as 65000;
  ipv4 { import none; export where proto = "vip"; };
  ${BGP_TIMERS}
}
`;
}

/** A running lab; `destroy()` undoes all of it. */
export class EcmpLab {
  readonly router: string;
  readonly client: string;
  private readonly procs = new Map<string, ChildProcess>();

  private constructor(readonly id: string, readonly dir: string, readonly nodes: number) {
    this.router = `${id}-r`;
    this.client = `${id}-c`;
  }

  /** Namespace of node `i` (1-based). */
  node(i: number): string { return `${this.id}-n${i}`; }

  /**
   * Builds client, router (BIRD started) and `nodes` node namespaces (BIRD not started: see startNode).
   * On any failure everything built so far is removed before rejecting.
   */
  static async create(nodes: number): Promise<EcmpLab> {
    const lab = new EcmpLab(`ey${randomBytes(3).toString('hex')}`, mkdtempSync(join(tmpdir(), 'swy-ecmp-')), nodes);
    try {
      await lab.build();
    } catch (e) {
      await lab.destroy();
      throw e;
    }
    return lab;
  }

  private async build(): Promise<void> {
    const { router: r, client: c } = this;
    const root = [`netns add ${r}`, `netns add ${c}`, `link add name c0 netns ${c} type veth peer name rc netns ${r}`];
    const rl = [`link set lo up`, `addr add 10.10.0.1/24 dev rc`, `link set rc up`];
    for (let i = 1; i <= this.nodes; i++) {
      root.push(`netns add ${this.node(i)}`, `link add name rl${i} netns ${r} type veth peer name eth0 netns ${this.node(i)}`);
      rl.push(`addr add 10.20.${i}.1/24 dev rl${i}`, `link set rl${i} up`);
    }
    await ipBatch(undefined, root);
    await ipBatch(r, rl);
    await ipBatch(c, ['link set lo up', `addr add ${CLIENT_ADDR}/24 dev c0`, 'link set c0 up', 'route add default via 10.10.0.1']);
    for (let i = 1; i <= this.nodes; i++) {
      await ipBatch(this.node(i), ['link set lo up', `addr add 10.20.${i}.2/24 dev eth0`, 'link set eth0 up', `addr add ${VIP}/32 dev lo`, `route add default via 10.20.${i}.1`]);
    }
    for (const s of ['net.ipv4.ip_forward=1', 'net.ipv4.fib_multipath_hash_policy=1', 'net.ipv4.conf.all.rp_filter=0']) {
      await exec('ip', ['netns', 'exec', r, 'sysctl', '-qw', s]);
    }
    writeFileSync(join(this.dir, 'router.conf'), routerConf(this.dir));
    this.startBird('router', r);
  }

  private startBird(name: string, ns: string): void {
    const p = spawn('ip', ['netns', 'exec', ns, 'bird', '-f', '-c', join(this.dir, `${name}.conf`), '-s', join(this.dir, `${name}.ctl`)], { stdio: 'ignore' });
    p.on('error', () => { /* reported by the caller's wait */ });
    this.procs.set(name, p);
  }

  /** Starts node `i`'s BIRD: it announces the VIP to the router. */
  startNode(i: number): void {
    writeFileSync(join(this.dir, `n${i}.conf`), nodeConf(this.dir, i));
    this.startBird(`n${i}`, this.node(i));
  }

  /** Stops node `i`'s BIRD by PID (SIGKILL: process death; the router withdraws at once on the TCP reset). */
  async stopNode(i: number, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    await this.stopProc(`n${i}`, signal);
  }

  /** Starts a process inside the router namespace, stopped by destroy() if still running. */
  spawnInRouter(name: string, argv: string[], env: NodeJS.ProcessEnv = process.env): ChildProcess {
    return this.spawnIn(this.router, name, argv, env);
  }

  /** Starts a process inside namespace `ns` (stdin, stdout, stderr piped), stopped by destroy() if still running. */
  spawnIn(ns: string, name: string, argv: string[], env: NodeJS.ProcessEnv = process.env): ChildProcess {
    const p = spawn('ip', ['netns', 'exec', ns, ...argv], { stdio: ['pipe', 'pipe', 'pipe'], env });
    this.procs.set(name, p);
    return p;
  }

  /** Stops a process this lab started, waiting until it has exited. */
  async stopProc(name: string, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const p = this.procs.get(name);
    this.procs.delete(name);
    if (p === undefined || p.exitCode !== null || p.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => p.once('exit', () => resolve()));
    p.kill(signal);
    const t = setTimeout(() => p.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(t);
  }

  /** Nexthop devices (sorted) of the router's VIP route of protocol `proto`: "bird" (BIRD's), "250" (the route agent's). */
  async routeDevs(proto = 'bird'): Promise<string[]> {
    const { stdout } = await exec('ip', ['-n', this.router, '-json', 'route', 'show', 'exact', `${VIP}/32`, 'proto', proto]);
    const routes = JSON.parse(stdout || '[]') as { dev?: string; nexthops?: { dev: string }[] }[];
    return routes.flatMap((r) => (r.nexthops ?? [r]).map((n) => n.dev ?? '')).filter((d) => d !== '').sort();
  }

  /** Stops every process by PID, deletes every namespace and the run directory. Never throws. */
  async destroy(): Promise<void> {
    for (const name of [...this.procs.keys()]) await this.stopProc(name).catch(() => undefined);
    const names = [this.client, this.router, ...Array.from({ length: this.nodes }, (_, i) => this.node(i + 1))];
    for (const ns of names) await exec('ip', ['netns', 'del', ns]).catch(() => undefined);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Runs `lines` in one `ip [-n ns] -batch -`; rejects with ip's error text. */
export async function ipBatch(ns: string | undefined, lines: string[]): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const p = spawn('ip', [...(ns === undefined ? [] : ['-n', ns]), '-batch', '-'], { stdio: ['pipe', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    p.on('error', reject);
    p.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`ip -batch${ns ? ` in ${ns}` : ''} failed: ${err.trim()}`))));
    p.stdin.end(`${lines.join('\n')}\n`);
  });
}

/** Polls `check` every 20 ms until it returns true; rejects after `timeoutMs` naming `what`. */
export async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<number> {
  const t0 = performance.now();
  for (;;) {
    if (await check()) return performance.now() - t0;
    if (performance.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
