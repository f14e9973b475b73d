import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, createWriteStream, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { birdCommand, type BirdReply } from '../anycast/bird-client.js';

/*
 * Network-namespace labs on one Linux machine (root): namespaces, veth links, processes run
 * inside a namespace (`ip netns exec`), BIRD daemons, nftables blackholes. Every namespace of a
 * lab carries the lab's unique prefix, so labs of concurrent runs never meet; `destroy()` kills
 * every process left in them by PID and deletes them, and a process 'exit' handler does the
 * same should the owner die first. Used by the anycast integration test and the lab commands.
 */

const run = promisify(execFile);

/** A process started inside a namespace. */
export interface LabProcess {
  readonly name: string;
  readonly proc: ChildProcess;
  readonly pid: number;
  /** Its stdout + stderr so far (also in `<lab dir>/<name>.log`). */
  output(): string;
  /** Resolves with the exit code (or signal) once it exited. */
  readonly exited: Promise<number | string | null>;
  /** Sends `signal` (default SIGTERM); resolves once it exited or `timeoutMs` passed (then SIGKILL). */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<void>;
}

/** A BIRD daemon started in a namespace. */
export interface LabBird { socket: string; config: string; process: LabProcess }

/** An end of a veth link: namespace (full name), interface name (≤ 15 chars) and optional address with prefix length. */
export interface VethEnd { ns: string; name: string; address?: string }

const live = new Set<NetnsLab>();
let exitHooked = false;

/** Whether this process may build labs (root, `ip` and `bird` present); the reason when not. */
export function labUnavailable(needs: readonly string[] = ['ip', 'bird']): string | undefined {
  if (process.platform !== 'linux') return 'network namespaces need Linux';
  if (process.getuid?.() !== 0) return 'network namespaces need root';
  for (const cmd of needs) {
    try { execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }); } catch { return `${cmd} is not installed (Debian: ${cmd === 'bird' ? 'bird2' : cmd === 'nft' ? 'nftables' : 'iproute2'})`; }
  }
  return undefined;
}

/** One lab: its namespaces, processes and runtime directory. */
export class NetnsLab {
  private readonly namespaces: string[] = [];
  private readonly processes: LabProcess[] = [];
  private destroyed = false;

  private constructor(readonly prefix: string, readonly dir: string) {}

  /** A new lab with a unique prefix (e.g. `sy3f9a2c`), its directory under the temp dir. */
  static create(prefix = `sy${randomBytes(3).toString('hex')}`): NetnsLab {
    if (!/^[a-z0-9]{1,10}$/.test(prefix)) throw new Error(`lab prefix "${prefix}": 1-10 lower-case letters and digits`);
    const lab = new NetnsLab(prefix, mkdtempSync(join(tmpdir(), `${prefix}-`)));
    live.add(lab);
    if (!exitHooked) {
      exitHooked = true;
      process.on('exit', () => { for (const l of live) l.destroySync(); });
    }
    return lab;
  }

  /** The full name of the lab's namespace `short`. */
  ns(short: string): string { return `${this.prefix}-${short}`; }

  /** Creates namespace `short` with its loopback up; returns its full name. */
  async addNamespace(short: string): Promise<string> {
    const ns = this.ns(short);
    await run('ip', ['netns', 'add', ns]);
    this.namespaces.push(ns);
    await this.ip(ns, ['link', 'set', 'lo', 'up']);
    return ns;
  }

  /** `ip -n NS ARGS…`; resolves with stdout. */
  async ip(ns: string, args: string[]): Promise<string> {
    return (await run('ip', ['-n', ns, ...args])).stdout;
  }

  /** Runs a command inside `ns` to completion; resolves with stdout (rejects on a non-zero exit). */
  async exec(ns: string, cmd: string, args: string[] = [], input?: string): Promise<string> {
    if (input === undefined) return (await run('ip', ['netns', 'exec', ns, cmd, ...args])).stdout;
    return new Promise((resolve, reject) => {
      const p = execFile('ip', ['netns', 'exec', ns, cmd, ...args], (err, stdout) => (err ? reject(err) : resolve(stdout)));
      p.stdin?.end(input);
    });
  }

  async sysctl(ns: string, key: string, value: string | number): Promise<void> {
    await this.exec(ns, 'sysctl', ['-qw', `${key}=${value}`]);
  }

  /** A veth pair made directly inside both namespaces (always `name X`: `ip link add a …` parses `a` as `address`). */
  async veth(a: VethEnd, b: VethEnd): Promise<void> {
    for (const e of [a, b]) if (e.name.length > 15) throw new Error(`interface name "${e.name}" is longer than 15 characters`);
    await run('ip', ['link', 'add', 'name', a.name, 'netns', a.ns, 'type', 'veth', 'peer', 'name', b.name, 'netns', b.ns]);
    for (const e of [a, b]) {
      if (e.address !== undefined) await this.ip(e.ns, ['addr', 'add', e.address, 'dev', e.name]);
      await this.ip(e.ns, ['link', 'set', e.name, 'up']);
    }
  }

  /** Starts `cmd` inside `ns`, its output logged to `<dir>/<name>.log`; tracked and stopped by `destroy()`. */
  spawn(ns: string, name: string, cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): LabProcess {
    // `ip netns exec` execs the command: the PID is the command's own.
    const proc = spawn('ip', ['netns', 'exec', ns, cmd, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    const log = createWriteStream(join(this.dir, `${name}.log`));
    let out = '';
    const take = (d: Buffer) => { log.write(d); if (out.length < 4 << 20) out += d.toString(); };
    proc.stdout!.on('data', take);
    proc.stderr!.on('data', take);
    const exited = new Promise<number | string | null>((resolve) => proc.once('exit', (code, signal) => { log.end(); resolve(code ?? signal); }));
    const p: LabProcess = {
      name, proc, pid: proc.pid ?? -1, exited, output: () => out,
      stop: async (signal = 'SIGTERM', timeoutMs = 5000) => {
        if (proc.exitCode !== null || proc.signalCode !== null) return;
        proc.kill(signal);
        const t = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
        await exited;
        clearTimeout(t);
      },
    };
    this.processes.push(p);
    return p;
  }

  /** Starts BIRD (foreground, so its PID is ours) in `ns` with `config`; resolves once its control socket answers. */
  async startBird(ns: string, name: string, config: string, timeoutMs = 5000): Promise<LabBird> {
    const file = join(this.dir, `${name}.conf`);
    const socket = join(this.dir, `${name}.ctl`);
    writeFileSync(file, config);
    const p = this.spawn(ns, `bird-${name}`, 'bird', ['-f', '-c', file, '-s', socket, '-P', join(this.dir, `${name}.pid`)]);
    await waitFor(async () => (await this.birdc(socket, 'show status').then(() => true, () => false)), timeoutMs, 50, `BIRD ${name} to answer on ${socket}: ${p.output()}`);
    return { socket, config: file, process: p };
  }

  /** One command on a BIRD control socket (see anycast/bird-client.ts). */
  birdc(socket: string, command: string, timeoutMs = 2000): Promise<BirdReply> {
    return birdCommand(socket, command, timeoutMs);
  }

  /** Silent failure: nftables drops every packet in and out of `ns` (no FIN, no RST, links stay up). */
  async blackhole(ns: string): Promise<void> {
    await this.exec(ns, 'nft', ['-f', '-'], 'table inet sy_blackhole {\n'
      + '  chain in { type filter hook input priority -300; policy drop; }\n'
      + '  chain out { type filter hook output priority -300; policy drop; }\n}\n');
  }

  /** Lifts `blackhole(ns)`. */
  async unblackhole(ns: string): Promise<void> {
    await this.exec(ns, 'nft', ['delete', 'table', 'inet', 'sy_blackhole']);
  }

  /** The nexthops of `prefix` in `ns`'s main table, as `dev` names (one for a plain route, each of a multipath route). */
  async nexthops(ns: string, prefix: string): Promise<string[]> {
    const text = await this.ip(ns, ['route', 'show', prefix]);
    return [...text.matchAll(/\bdev (\S+)/g)].map((m) => m[1]).sort();
  }

  /** Stops every process started here and every process left in the lab's namespaces (by PID), then deletes the namespaces and the directory. */
  async destroy(): Promise<void> {
    if (this.destroyed) return;
    await Promise.all(this.processes.map((p) => p.stop('SIGTERM', 2000).catch(() => undefined)));
    this.destroySync();
  }

  /** The same, synchronously and with SIGKILL (the 'exit' handler). */
  destroySync(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    live.delete(this);
    for (const p of this.processes) { try { p.proc.kill('SIGKILL'); } catch { /* gone */ } }
    for (const ns of this.namespaces) {
      try {
        // Children (Switchyard workers, watchdogs) are not ours to know of: ask the namespace.
        for (const pid of execFileSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' }).split(/\s+/).filter(Boolean)) {
          try { process.kill(Number(pid), 'SIGKILL'); } catch { /* gone */ }
        }
      } catch { /* namespace already gone */ }
      try { execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' }); } catch { /* already gone */ }
    }
    if (!process.env.SWITCHYARD_LAB_KEEP) rmSync(this.dir, { recursive: true, force: true });
  }

  /** Namespaces still present whose name carries this lab's prefix (for a test's final check). */
  leftovers(): string[] {
    const out = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
    return out.split('\n').map((l) => l.split(' ')[0]).filter((n) => n.startsWith(`${this.prefix}-`));
  }

  /** Reads a file under the lab directory (logs, configs). */
  read(name: string): string { return readFileSync(join(this.dir, name), 'utf8'); }
}

/** Polls `cond` every `intervalMs` until it holds; rejects after `timeoutMs` naming `what`. */
export async function waitFor(cond: () => boolean | Promise<boolean>, timeoutMs: number, intervalMs = 20, what = 'condition'): Promise<number> {
  const start = performance.now();
  for (;;) {
    if (await cond()) return performance.now() - start;
    if (performance.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
