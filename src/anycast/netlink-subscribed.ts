import { readdir, readFile, readlink } from 'node:fs/promises';

/*
 * Whether a process has subscribed to netlink multicast groups yet. `ip monitor` prints nothing when
 * it starts listening, so a caller that reads the kernel state right after spawning it cannot know
 * whether a change made in between will be reported. The kernel can tell: the process's sockets
 * (/proc/PID/fd) and the netlink sockets of this namespace with their joined groups (/proc/net/netlink).
 */

/** Socket inodes held by `pid`, or an empty set once it has gone. */
async function socketInodes(pid: number): Promise<Set<string>> {
  const inodes = new Set<string>();
  const fds = await readdir(`/proc/${pid}/fd`).catch(() => [] as string[]);
  for (const fd of fds) {
    const target = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '');
    const m = /^socket:\[(\d+)\]$/.exec(target);
    if (m !== null) inodes.add(m[1]!);
  }
  return inodes;
}

/** True once one of `pid`'s netlink sockets has joined at least one multicast group. */
export async function hasNetlinkSubscription(pid: number): Promise<boolean> {
  const inodes = await socketInodes(pid);
  if (inodes.size === 0) return false;
  const table = await readFile('/proc/net/netlink', 'utf8').catch(() => '');
  // columns: sk Eth Pid Groups Rmem Wmem Dump Locks Drops Inode (Groups: the first 32 groups as hex)
  return table.split('\n').slice(1).some((line) => {
    const cols = line.trim().split(/\s+/);
    return cols.length >= 10 && inodes.has(cols[9]!) && /[1-9a-f]/i.test(cols[3]!);
  });
}

/** Resolves true once `pid` listens, false after `timeoutMs` (the caller's resync then covers the gap). */
export async function waitNetlinkSubscription(pid: number, timeoutMs: number, stepMs = 5): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if (await hasNetlinkSubscription(pid)) return true;
    await new Promise((r) => setTimeout(r, stepMs));
  }
  return false;
}
