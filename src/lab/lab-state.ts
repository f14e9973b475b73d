import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/*
 * The runtime state of a lab started by `switchyard lab anycast up` (default /tmp/switchyard-lab):
 * holder.pid (the process that owns the lab and tears it down on SIGTERM) and state.json (its
 * namespaces and every process it started, by PID), so `down` — another process — can clean up
 * what `up` started, even if the holder died without cleaning up.
 */

export const DEFAULT_LAB_DIR = '/tmp/switchyard-lab';

/** What a running lab left in its runtime directory. */
export interface LabState {
  holderPid: number;
  prefix: string;
  /** The lab's own directory (configs, logs, BIRD sockets). */
  labDir: string;
  namespaces: string[];
  pids: Record<string, number>;
  nodes: number;
  resilient: boolean;
}

const stateFile = (dir: string) => join(dir, 'state.json');
const pidFile = (dir: string) => join(dir, 'holder.pid');

/** Whether process `pid` exists. */
export function alive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch (e) { return (e as NodeJS.ErrnoException).code === 'EPERM'; }
}

/** Records the holder's PID (before it builds anything, so `down` can stop a lab still being built). */
export function writeHolderPid(dir: string, pid: number): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeFileSync(pidFile(dir), `${pid}\n`);
}

/** Writes state.json atomically (a reader never sees half of it). */
export function writeState(dir: string, state: LabState): void {
  writeFileSync(`${stateFile(dir)}.tmp`, `${JSON.stringify(state, null, 2)}\n`);
  renameSync(`${stateFile(dir)}.tmp`, stateFile(dir));
}

/** The state of the lab in `dir`, undefined when there is none. */
export function readState(dir: string): LabState | undefined {
  try { return JSON.parse(readFileSync(stateFile(dir), 'utf8')) as LabState; } catch { return undefined; }
}

/** The holder's PID from holder.pid, undefined when there is none. */
export function readHolderPid(dir: string): number | undefined {
  try { const n = Number(readFileSync(pidFile(dir), 'utf8').trim()); return Number.isInteger(n) && n > 1 ? n : undefined; } catch { return undefined; }
}

/**
 * Tears down the lab of `dir`: SIGTERM to the holder (it stops its processes and deletes its
 * namespaces), then — whatever it managed — SIGKILL to every recorded PID and every process left in
 * the recorded namespaces, and the namespaces deleted. Returns what it did, one line each.
 */
export async function tearDown(dir: string, waitMs = 15_000): Promise<string[]> {
  const state = readState(dir);
  const holder = state?.holderPid ?? readHolderPid(dir);
  const done: string[] = [];
  if (holder !== undefined && alive(holder)) {
    process.kill(holder, 'SIGTERM');
    const until = Date.now() + waitMs;
    while (alive(holder) && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
    done.push(alive(holder) ? `holder ${holder} did not stop in ${waitMs} ms: killing what it started` : `holder ${holder} stopped the lab`);
    if (alive(holder)) { try { process.kill(holder, 'SIGKILL'); } catch { /* gone */ } }
  }
  for (const [name, pid] of Object.entries(state?.pids ?? {})) {
    if (!alive(pid)) continue;
    try { process.kill(pid, 'SIGKILL'); done.push(`killed ${name} (${pid})`); } catch { /* gone */ }
  }
  for (const ns of state?.namespaces ?? []) {
    let pids: string[] = [];
    try { pids = execFileSync('ip', ['netns', 'pids', ns], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).split(/\s+/).filter(Boolean); } catch { continue; /* no such namespace */ }
    for (const pid of pids) { try { process.kill(Number(pid), 'SIGKILL'); } catch { /* gone */ } }
    try { execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' }); done.push(`deleted namespace ${ns}`); } catch { /* gone */ }
  }
  if (state !== undefined) rmSync(state.labDir, { recursive: true, force: true });
  rmSync(stateFile(dir), { force: true });
  rmSync(pidFile(dir), { force: true });
  return done;
}
