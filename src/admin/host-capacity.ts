import { availableParallelism, totalmem } from 'node:os';
import { readdirSync, readFileSync } from 'node:fs';

/*
 * What the host (or container) gives this node, for the headroom alerts of the design's table
 * (CPU 30 % spare, memory 20 %, network 40 %): the denominators of usage ratios. Read from
 * /proc and /sys where the kernel says more than Node does (cgroup limits, link speeds).
 */

const read = (path: string): string | undefined => {
  try { return readFileSync(path, 'utf8').trim(); } catch { return undefined; }
};

/** CPU cores this process may use: a cgroup v2 quota (cpu.max "quota period") when set and lower, else the cores it may run on. */
export function cpuCores(cpuMax = read('/sys/fs/cgroup/cpu.max')): number {
  const cores = availableParallelism();
  const [quota, period] = (cpuMax ?? 'max').split(/\s+/);
  if (quota === 'max' || !(Number(period) > 0) || !(Number(quota) > 0)) return cores;
  return Math.min(cores, Number(quota) / Number(period));
}

/** Bytes of memory this node may use: the cgroup limit (v2 memory.max, v1 limit_in_bytes) when set and lower, else the host's RAM. */
export function memoryBytes(limit = read('/sys/fs/cgroup/memory.max') ?? read('/sys/fs/cgroup/memory/memory.limit_in_bytes')): number {
  const total = totalmem();
  const n = Number(limit);
  return limit !== undefined && Number.isFinite(n) && n > 0 && n < total ? n : total;
}

/** Bytes per second of the host's up network links (sum of their speeds; loopback and virtual links without a speed are left out), undefined when the kernel reports none. */
export function networkBytesPerSecond(root = '/sys/class/net'): number | undefined {
  let names: string[];
  try { names = readdirSync(root); } catch { return undefined; }
  let mbits = 0;
  for (const n of names) {
    if (n === 'lo' || read(`${root}/${n}/operstate`) !== 'up') continue;
    const speed = Number(read(`${root}/${n}/speed`));
    if (Number.isFinite(speed) && speed > 0) mbits += speed;
  }
  return mbits > 0 ? (mbits * 1e6) / 8 : undefined;
}
