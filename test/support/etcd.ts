/*
 * Real etcd for tests: one member or a small cluster on 127.0.0.1, each start in a fresh mktemp
 * data root, every member a child process stopped by its PID. Every wait here is bounded; a
 * member that dies while we wait fails the wait at once with the tail of its log.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Etcd3 } from 'etcd3';

/** One etcd member started by this module. */
export interface EtcdMember {
  readonly name: string;
  /** `127.0.0.1:port` of the client URL. */
  readonly endpoint: string;
  readonly peerUrl: string;
  readonly dataDir: string;
  /** PID while running, undefined once killed or stopped. */
  readonly pid: number | undefined;
}

export interface EtcdHandle {
  readonly members: readonly EtcdMember[];
  /** Client endpoints of every member (running or not), `host:port`. */
  readonly endpoints: string[];
  /** The store flag for these endpoints: `etcd://127.0.0.1:P1,127.0.0.1:P2/prefix` (prefix default `/switchyard`). */
  url(prefix?: string): string;
  /** The member that is raft leader now, asked through the maintenance status API; waits up to `timeoutMs` (default 5000) for an election. */
  leader(timeoutMs?: number): Promise<EtcdMember>;
  /** SIGKILL (a crashed host); resolves once the process has exited (rejects after 5 s). */
  kill(member?: EtcdMember): Promise<void>;
  /** Freezes a member (SIGSTOP): its connections stay open and nothing is answered, like a hung host. Resolves once every thread is stopped (2 s bound). */
  pause(member?: EtcdMember): Promise<void>;
  /** Undoes pause() (SIGCONT). */
  resume(member?: EtcdMember): void;
  /** Starts a killed member again on its old data dir (`--initial-cluster-state existing`) and waits until it is healthy (15 s). */
  restart(member?: EtcdMember): Promise<void>;
  /** SIGKILLs every member, waits for the exits and removes the data root. Idempotent. */
  stop(): Promise<void>;
}

export interface StartEtcdOptions {
  /** Single member only: seed the data dir from this `etcd-snapshot.db` with `etcdctl snapshot restore`. */
  snapshot?: string;
}

const HEALTHY_TIMEOUT_MS = 20_000;
const EXIT_TIMEOUT_MS = 5000;
const LOG_TAIL = 4000;

/** `n` ports free on 127.0.0.1 right now: all bound to port 0 at once (so they differ), then released. */
export async function freeLoopbackPorts(n: number): Promise<number[]> {
  const servers: Server[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const s = createServer();
      servers.push(s);
      await new Promise<void>((resolve, reject) => { s.once('error', reject); s.listen(0, '127.0.0.1', resolve); });
    }
    return servers.map((s) => (s.address() as AddressInfo).port);
  } finally {
    await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
  }
}

function run(cmd: string, args: string[], timeoutMs: number): Promise<{ ok: boolean; out: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: timeoutMs, env: { ...process.env, ETCDCTL_API: '3' } }, (err, stdout, stderr) =>
      resolve({ ok: err === null, out: `${stdout}${stderr}` }));
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** True when every thread of `pid` is in state T (stopped), read from /proc. */
function allThreadsStopped(pid: number): boolean {
  try {
    return readdirSync(`/proc/${pid}/task`).every((tid) => {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      return stat.slice(stat.lastIndexOf(')') + 2).startsWith('T');
    });
  } catch {
    return false;
  }
}

class Member implements EtcdMember {
  child: ChildProcess | undefined;
  log = '';
  readonly endpoint: string;
  readonly peerUrl: string;

  constructor(readonly name: string, clientPort: number, peerPort: number, readonly dataDir: string) {
    this.endpoint = `127.0.0.1:${clientPort}`;
    this.peerUrl = `http://127.0.0.1:${peerPort}`;
  }

  get pid(): number | undefined { return this.child?.pid; }

  spawn(initialCluster: string, state: 'new' | 'existing', token: string): void {
    const child = spawn('etcd', [
      '--name', this.name, '--data-dir', this.dataDir,
      '--listen-client-urls', `http://${this.endpoint}`, '--advertise-client-urls', `http://${this.endpoint}`,
      '--listen-peer-urls', this.peerUrl, '--initial-advertise-peer-urls', this.peerUrl,
      '--initial-cluster', initialCluster, '--initial-cluster-state', state, '--initial-cluster-token', token,
      '--heartbeat-interval', '100', '--election-timeout', '1000',
      '--log-level', 'warn', '--logger', 'zap',
    ], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    const keep = (d: Buffer): void => { this.log = (this.log + d.toString()).slice(-LOG_TAIL); };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    child.once('exit', () => { if (this.child === child) this.child = undefined; });
  }

  /** SIGKILL and wait for the exit event (we are the parent, so the zombie is reaped by node). */
  async kill(): Promise<void> {
    const child = this.child;
    if (child === undefined) return;
    const exited = new Promise<void>((r) => {
      if (child.exitCode !== null || child.signalCode !== null) r(); else child.once('exit', () => r());
    });
    child.kill('SIGKILL');
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((r) => { timer = setTimeout(() => r('late'), EXIT_TIMEOUT_MS); });
    const outcome = await Promise.race([exited, late]);
    clearTimeout(timer);
    if (outcome === 'late') throw new Error(`test etcd: ${this.name} (pid ${child.pid}) did not exit within ${EXIT_TIMEOUT_MS} ms of SIGKILL`);
    this.child = undefined;
  }
}

class EtcdCluster implements EtcdHandle {
  private stopped = false;
  private readonly onExit = (): void => { for (const m of this.all) m.child?.kill('SIGKILL'); };

  constructor(private readonly all: Member[], private readonly root: string, private readonly token: string) {
    // A crashed test must not leave daemons behind.
    process.once('exit', this.onExit);
  }

  get members(): readonly EtcdMember[] { return this.all; }
  get endpoints(): string[] { return this.all.map((m) => m.endpoint); }
  url(prefix = '/switchyard'): string { return `etcd://${this.endpoints.join(',')}${prefix}`; }

  private get initialCluster(): string { return this.all.map((m) => `${m.name}=${m.peerUrl}`).join(','); }

  /** Starts every member as a new cluster and waits until all are healthy. */
  async boot(): Promise<void> {
    for (const m of this.all) m.spawn(this.initialCluster, 'new', this.token);
    await this.waitHealthy(this.all);
  }

  /** Polls `etcdctl endpoint health` (a quorum read on each endpoint) until it passes for `members`. */
  private async waitHealthy(members: Member[]): Promise<void> {
    const deadline = Date.now() + HEALTHY_TIMEOUT_MS;
    const eps = members.map((m) => m.endpoint).join(',');
    let last = '';
    while (Date.now() < deadline) {
      const dead = members.find((m) => m.child === undefined);
      if (dead !== undefined) throw new Error(`test etcd: ${dead.name} exited while starting:\n${dead.log}`);
      const r = await run('etcdctl', [`--endpoints=${eps}`, '--dial-timeout=500ms', '--command-timeout=1s', 'endpoint', 'health'], 3000);
      if (r.ok) return;
      last = r.out;
      await sleep(50);
    }
    throw new Error(`test etcd: ${eps} not healthy within ${HEALTHY_TIMEOUT_MS} ms:\n${last}\n${members.map((m) => `${m.name}: ${m.log}`).join('\n')}`);
  }

  private member(m: EtcdMember | undefined): Member {
    const found = m === undefined ? this.all[0] : this.all.find((x) => x.name === m.name);
    if (found === undefined) throw new Error(`test etcd: unknown member ${m?.name}`);
    return found;
  }

  async leader(timeoutMs = 5000): Promise<EtcdMember> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const ids = new Map<string, Member>();
      let leaderId = '0';
      for (const m of this.all.filter((x) => x.child !== undefined)) {
        const client = new Etcd3({ hosts: [`http://${m.endpoint}`] });
        try {
          const s = await client.maintenance.status({ deadline: Date.now() + 1000 });
          ids.set(s.header.member_id, m);
          if (s.leader !== '0') leaderId = s.leader;
        } catch { /* a member that is down or electing: ask the others */ } finally {
          client.close();
        }
      }
      const found = ids.get(leaderId);
      if (found !== undefined) return found;
      await sleep(100);
    }
    throw new Error(`test etcd: no leader within ${timeoutMs} ms`);
  }

  async kill(m?: EtcdMember): Promise<void> { await this.member(m).kill(); }
  async pause(m?: EtcdMember): Promise<void> {
    const pid = this.member(m).child?.pid;
    if (pid === undefined) return;
    process.kill(pid, 'SIGSTOP');
    // The signal is asynchronous: until every thread shows state T, a request can still be answered.
    const deadline = Date.now() + 2000;
    while (!allThreadsStopped(pid)) {
      if (Date.now() > deadline) throw new Error(`test etcd: pid ${pid} not stopped within 2 s of SIGSTOP`);
      await sleep(5);
    }
  }

  resume(m?: EtcdMember): void { this.member(m).child?.kill('SIGCONT'); }

  async restart(m?: EtcdMember): Promise<void> {
    const member = this.member(m);
    if (member.child !== undefined) throw new Error(`test etcd: ${member.name} is still running`);
    member.spawn(this.initialCluster, 'existing', this.token);
    await this.waitHealthy([member]);
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    // Throwaway data: SIGKILL skips the leader hand-over that makes SIGTERM take up to 7 s.
    await Promise.all(this.all.map((m) => m.kill()));
    process.removeListener('exit', this.onExit);
    rmSync(this.root, { recursive: true, force: true });
  }
}

async function startOnce(size: number, opts: StartEtcdOptions): Promise<EtcdCluster> {
  const root = mkdtempSync(join(tmpdir(), 'swy-etcd-'));
  const ports = await freeLoopbackPorts(size * 2);
  const names = size === 1 ? ['single'] : Array.from({ length: size }, (_, i) => `m${i + 1}`);
  const members = names.map((n, i) => new Member(n, ports[2 * i], ports[2 * i + 1], join(root, n)));
  const cluster = new EtcdCluster(members, root, `swy-test-${process.pid}-${ports[0]}`);
  try {
    if (opts.snapshot !== undefined) {
      const m = members[0];
      const r = await run('etcdctl', ['snapshot', 'restore', opts.snapshot, '--name', m.name, '--data-dir', m.dataDir,
        '--initial-cluster', `${m.name}=${m.peerUrl}`, '--initial-advertise-peer-urls', m.peerUrl], 10_000);
      if (!r.ok) throw new Error(`test etcd: snapshot restore of ${opts.snapshot} failed:\n${r.out}`);
    }
    await cluster.boot();
    return cluster;
  } catch (e) {
    await cluster.stop();
    throw e;
  }
}

async function startWithRetries(size: number, opts: StartEtcdOptions): Promise<EtcdHandle> {
  // A port picked by binding 0 can be taken by someone else before etcd binds it: try fresh ports.
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    try { return await startOnce(size, opts); } catch (e) { lastError = e; }
  }
  throw lastError;
}

/** One etcd member on free 127.0.0.1 ports with a fresh data dir; resolves once healthy (20 s bound). */
export function startEtcd(opts: StartEtcdOptions = {}): Promise<EtcdHandle> {
  return startWithRetries(1, opts);
}

/** A `size`-member cluster (default 3) on loopback, `--heartbeat-interval 100 --election-timeout 1000`; resolves once all are healthy. */
export async function startEtcdCluster(size = 3): Promise<EtcdHandle> {
  if (size < 2) throw new Error('startEtcdCluster: size must be at least 2 (use startEtcd for one member)');
  return startWithRetries(size, {});
}
