// CPU accounting from /proc: per-process utime+stime for a whole process tree
// (nginx master+workers, switchyard primary+cluster workers, ...) and per-core
// busy time, so a row can say how much CPU the proxy burnt for its requests.
import fs from 'node:fs';
import { execFileSync } from 'node:child_process';

let clkTck = 100;
try {
  clkTck = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
} catch {
  /* Linux default */
}

// Parse /proc/PID/stat. The command name is in parentheses and may contain
// spaces or ')', so split after the LAST ')'.
export function readStat(pid) {
  let text;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null; // gone
  }
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state); utime/stime are fields 14/15.
  return {
    pid,
    state: rest[0],
    ppid: Number(rest[1]),
    pgrp: Number(rest[2]),
    cpuTicks: Number(rest[11]) + Number(rest[12]),
    // CPU of children already waited for (here: finished wrk processes).
    reapedChildTicks: Number(rest[13]) + Number(rest[14]),
  };
}

function allStats() {
  const out = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const s = readStat(Number(name));
    if (s && s.state !== 'Z') out.push(s);
  }
  return out;
}

// Root PID plus every live descendant (walk ppid links), zombies excluded.
export function processTree(rootPid) {
  const stats = allStats();
  const children = new Map();
  for (const s of stats) {
    if (!children.has(s.ppid)) children.set(s.ppid, []);
    children.get(s.ppid).push(s);
  }
  const root = stats.find((s) => s.pid === rootPid);
  if (!root) return [];
  const tree = [root];
  for (let i = 0; i < tree.length; i++) tree.push(...(children.get(tree[i].pid) ?? []));
  return tree;
}

// Snapshot of CPU ticks per PID of the tree.
export function sampleTree(rootPid) {
  return new Map(processTree(rootPid).map((s) => [s.pid, s.cpuTicks]));
}

// CPU seconds the tree used between two snapshots. A process born in the
// window counts from zero; one that died in the window is lost (reported).
export function treeCpuSeconds(before, after) {
  let ticks = 0;
  for (const [pid, t] of after) ticks += t - (before.get(pid) ?? 0);
  const vanished = [...before.keys()].filter((pid) => !after.has(pid));
  return { seconds: ticks / clkTck, processes: after.size, vanished };
}

// Per-core jiffies from /proc/stat: busy (all but idle/iowait), total, and
// task time (user+nice+system: what per-process utime/stime can account for;
// irq/softirq/steal are not charged to any process).
export function sampleCores() {
  const cores = [];
  for (const line of fs.readFileSync('/proc/stat', 'utf8').split('\n')) {
    const m = /^cpu(\d+)\s+(.*)$/.exec(line);
    if (!m) continue;
    const v = m[2].split(/\s+/).map(Number);
    const total = v.slice(0, 8).reduce((a, b) => a + b, 0); // up to steal
    const idle = v[3] + v[4]; // idle + iowait
    cores[Number(m[1])] = { busy: total - idle, total, task: v[0] + v[1] + v[2] };
  }
  return cores;
}

// Everything the bench accounts for at one instant: the proxy tree, the
// backends tree, this orchestrator plus its finished wrk children, and the cores.
// `extraPids`: more generator-side trees (other backends, load generators still
// running at the snapshot) counted with the backends, not as "other" load.
export function snapshot({ proxyPid, backendsPid, extraPids = [] }) {
  const self = readStat(process.pid);
  const backends = backendsPid ? sampleTree(backendsPid) : new Map();
  for (const pid of extraPids) if (pid) for (const [p, t] of sampleTree(pid)) backends.set(p, t);
  return {
    proxy: proxyPid ? sampleTree(proxyPid) : new Map(),
    backends,
    selfTicks: self.cpuTicks + self.reapedChildTicks,
    cores: sampleCores(),
  };
}

// CPU use between two snapshots. `otherCores` is task time on the machine
// that none of our processes account for (someone else's build, tests...):
// a noise indicator for the row.
export function usage(a, b) {
  const proxy = treeCpuSeconds(a.proxy, b.proxy);
  const backends = treeCpuSeconds(a.backends, b.backends);
  const self = (b.selfTicks - a.selfTicks) / clkTck;
  const wall = (b.cores[0].total - a.cores[0].total) / clkTck; // per-core jiffies advance at wall rate
  const taskSeconds = b.cores.reduce((sum, c, i) => sum + (c.task - a.cores[i].task), 0) / clkTck;
  return {
    proxy,
    backendsSeconds: backends.seconds,
    selfAndWrkSeconds: self,
    coreBusy: coreBusy(a.cores, b.cores),
    otherCores: wall > 0 ? Math.max(0, taskSeconds - proxy.seconds - backends.seconds - self) / wall : NaN,
  };
}

// Busy fraction (0..1) of each core between two sampleCores() snapshots.
export function coreBusy(before, after) {
  return after.map((a, i) => {
    const dt = a.total - before[i].total;
    return dt > 0 ? (a.busy - before[i].busy) / dt : 0;
  });
}

// Task CPU (in cores) the whole machine uses over `ms`. Called while the bench
// itself is idle, so it measures everybody else.
export async function machineLoad(ms = 500) {
  const a = sampleCores();
  await new Promise((r) => setTimeout(r, ms));
  const b = sampleCores();
  const wall = (b[0].total - a[0].total) / clkTck;
  const task = b.reduce((sum, c, i) => sum + (c.task - a[i].task), 0) / clkTck;
  return wall > 0 ? task / wall : 0;
}

// Task CPU of other processes (cores) above which a measurement is flagged noisy.
export const QUIET_CORES = 0.2;

// The machine may be shared (builds, test runs): give other load up to
// `waitMs` to pass before a measurement. Returns the last load seen.
export async function waitForQuiet(waitMs) {
  const deadline = Date.now() + waitMs;
  let load = await machineLoad(300);
  while (load > QUIET_CORES && Date.now() < deadline) load = await machineLoad(500);
  return load;
}
