// Resident memory of a process tree from /proc: VmRSS of the root and of
// every live descendant (nginx master + worker, Switchyard primary + worker).
import fs from 'node:fs';
import { processTree } from './cpu.mjs';

/** VmRSS of one process in KiB, or 0 if it is gone. */
export function rssKiB(pid) {
  try {
    const m = /^VmRSS:\s+(\d+) kB$/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** { totalKiB, root: KiB of the root alone, children: KiB of the rest, processes }. */
export function treeRss(rootPid) {
  const pids = processTree(rootPid).map((s) => s.pid);
  const each = pids.map((pid) => ({ pid, kib: rssKiB(pid) }));
  const root = each.find((p) => p.pid === rootPid)?.kib ?? 0;
  const totalKiB = each.reduce((sum, p) => sum + p.kib, 0);
  return { totalKiB, root, children: totalKiB - root, processes: each.length };
}
