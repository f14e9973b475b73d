// Starting and stopping everything the bench runs. Each child gets its own
// process group (detached) so a proxy and all its workers can be signalled at
// once; descendants are also walked via /proc in case one left the group.
// Whatever happens (error, Ctrl-C), every tracked group is killed on exit.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { processTree } from './cpu.mjs';

const live = new Set(); // ChildProcess objects not yet reaped

export function pinned(cores, cmd, args) {
  return cores ? { cmd: 'taskset', args: ['-c', cores, cmd, ...args] } : { cmd, args };
}

// Spawn with stdout/stderr appended to a log file (unread pipes could fill up
// and stall the child). `child.exited` resolves with { code, signal }.
export function start({ cmd, args, cwd, env, logFile }) {
  const fd = fs.openSync(logFile, 'a');
  const child = spawn(cmd, args, { cwd, env: { ...process.env, ...env }, detached: true, stdio: ['ignore', fd, fd] });
  fs.closeSync(fd);
  child.once('error', () => {}); // surfaced through `exited` / readiness
  return track(child);
}

// Remember a child so killAllSync() can reach it; adds `child.exited`.
export function track(child) {
  live.add(child);
  child.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  child.exited.then(() => live.delete(child));
  return child;
}

function signalAll(child, signal) {
  const pids = child.pid ? processTree(child.pid).map((s) => s.pid) : [];
  try {
    process.kill(-child.pid, signal); // whole process group
  } catch {
    /* group already gone */
  }
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch {
      /* gone */
    }
  }
  return pids;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// SIGTERM the tree, wait up to `graceMs` for every process of it to go, then
// SIGKILL whatever is left.
export async function stop(child, graceMs = 3000) {
  if (!child?.pid) return;
  const pids = signalAll(child, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  const alive = () => pids.some((pid) => fs.existsSync(`/proc/${pid}`) && !isZombie(pid));
  while (Date.now() < deadline && alive()) await sleep(50);
  if (alive()) signalAll(child, 'SIGKILL');
  await Promise.race([child.exited, sleep(1000)]);
}

function isZombie(pid) {
  try {
    const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return s.slice(s.lastIndexOf(')') + 2, s.lastIndexOf(')') + 3) === 'Z';
  } catch {
    return true;
  }
}

// Synchronous last resort, safe inside process.on('exit').
export function killAllSync() {
  for (const child of live) signalAll(child, 'SIGKILL');
  live.clear();
}

let installed = false;
export function installCleanupHandlers() {
  if (installed) return;
  installed = true;
  process.on('exit', killAllSync);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(sig, () => {
      console.error(`\nbench: ${sig}, stopping everything it started`);
      killAllSync();
      process.exit(130);
    });
  }
}
