import { execFileSync } from 'node:child_process';
import { lstatSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/*
 * The runtime state of a lab started by `switchyard lab anycast up` (default /tmp/switchyard-lab):
 * holder.pid (the process that owns the lab and tears it down on SIGTERM) and state.json (its
 * namespaces and every process it started, by PID), so `down` — another process — can clean up
 * what `up` started, even if the holder died without cleaning up.
 *
 * `down` runs as root and acts on what the directory says, so the directory must be ours (owned by
 * this user, not a symlink, writable by no one else) and the state well-formed: PIDs are signalled
 * only if they still are the lab's (the holder by its command line; the rest by being in the lab's
 * namespaces), namespaces only with the lab's prefix, and the only directory removed is the lab's own.
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

/** Creates `dir` (0700) if missing; throws unless it is a real directory of this user that no one else can write. */
export function ensureOwnDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  checkOwnDir(dir);
}

/** Throws unless `dir` is a real directory of this user that no one else can write (so its files can be trusted). */
export function checkOwnDir(dir: string): void {
  const st = lstatSync(dir);
  if (!st.isDirectory() || st.uid !== process.getuid?.() || (st.mode & 0o022) !== 0) {
    throw new Error(`lab runtime directory ${dir} must be a directory owned by this user and writable by no one else`);
  }
}

/** Whether `s` is a state this code wrote: prefix, namespaces and lab directory all the lab's own. */
function wellFormed(s: LabState): boolean {
  return /^[a-z0-9]{1,10}$/.test(s.prefix) && Number.isInteger(s.holderPid)
    && Array.isArray(s.namespaces) && s.namespaces.every((n) => typeof n === 'string' && /^[a-z0-9]+-[a-z0-9]{1,8}$/.test(n) && n.startsWith(`${s.prefix}-`))
    && typeof s.labDir === 'string' && new RegExp(`^${tmpdir().replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/${s.prefix}-[A-Za-z0-9]{6}$`).test(s.labDir)
    && typeof s.pids === 'object' && s.pids !== null;
}

/** Whether `pid` runs `switchyard lab anycast hold` (a recycled PID is left alone). */
function isHolder(pid: number): boolean {
  try { return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').includes(' lab anycast hold '); } catch { return false; }
}

/** Records the holder's PID (before it builds anything, so `down` can stop a lab still being built). */
export function writeHolderPid(dir: string, pid: number): void {
  ensureOwnDir(dir);
  writeFileSync(pidFile(dir), `${pid}\n`);
}

/** Writes state.json atomically (a reader never sees half of it). */
export function writeState(dir: string, state: LabState): void {
  writeFileSync(`${stateFile(dir)}.tmp`, `${JSON.stringify(state, null, 2)}\n`);
  renameSync(`${stateFile(dir)}.tmp`, stateFile(dir));
}

/** The state of the lab in `dir`, undefined when there is none. */
export function readState(dir: string): LabState | undefined {
  let s: LabState;
  try { s = JSON.parse(readFileSync(stateFile(dir), 'utf8')) as LabState; } catch { return undefined; }
  if (!wellFormed(s)) throw new Error(`${stateFile(dir)} is not a lab state this command wrote; remove it by hand`);
  return s;
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
  try { checkOwnDir(dir); } catch (e) { if ((e as NodeJS.ErrnoException).code === 'ENOENT') return []; throw e; }
  const state = readState(dir);
  const holder = state?.holderPid ?? readHolderPid(dir);
  const done: string[] = [];
  if (holder !== undefined && alive(holder) && isHolder(holder)) {
    process.kill(holder, 'SIGTERM');
    const until = Date.now() + waitMs;
    while (alive(holder) && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
    done.push(alive(holder) ? `holder ${holder} did not stop in ${waitMs} ms: killing what it started` : `holder ${holder} stopped the lab`);
    if (alive(holder) && isHolder(holder)) { try { process.kill(holder, 'SIGKILL'); } catch { /* gone */ } }
  }
  const inLab = new Set<number>();
  for (const ns of state?.namespaces ?? []) {
    let pids: string[] = [];
    try { pids = execFileSync('ip', ['netns', 'pids', ns], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).split(/\s+/).filter(Boolean); } catch { continue; /* no such namespace */ }
    for (const pid of pids) { inLab.add(Number(pid)); try { process.kill(Number(pid), 'SIGKILL'); } catch { /* gone */ } }
    try { execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' }); done.push(`deleted namespace ${ns}`); } catch { /* gone */ }
  }
  for (const [name, pid] of Object.entries(state?.pids ?? {})) if (inLab.has(pid)) done.push(`killed ${name} (${pid}), left in the lab`);
  if (state !== undefined) rmSync(state.labDir, { recursive: true, force: true });
  rmSync(stateFile(dir), { force: true });
  rmSync(pidFile(dir), { force: true });
  return done;
}
