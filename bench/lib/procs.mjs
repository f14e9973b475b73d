// Starting and stopping everything the bench runs. Each child gets its own
// process group (detached) so a proxy and all its workers can be signalled at
// once; descendants are also walked via /proc in case one left the group.
// Whatever happens (error, Ctrl-C), every tracked group is killed on exit.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { processTree, readStat } from './cpu.mjs';

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

// Signal the child's process group, its live descendants, and any `extra`
// PIDs (e.g. workers orphaned by a dead primary) that are still in its group;
// the group check avoids hitting an unrelated process that reused a PID.
function signalAll(child, signal, extra = []) {
  const tree = child.pid ? processTree(child.pid).map((s) => s.pid) : [];
  const orphans = extra.filter((pid) => readStat(pid)?.pgrp === child.pid);
  try {
    process.kill(-child.pid, signal); // whole process group (if it leads one)
  } catch {
    /* group already gone */
  }
  for (const pid of new Set([...tree, ...orphans])) {
    try {
      process.kill(pid, signal);
    } catch {
      /* gone */
    }
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Graceful first, like an operator would: SIGTERM the root only (nginx's
// master, Switchyard's primary stop their own workers), wait up to `graceMs`
// for the whole tree to go, then SIGKILL the group and every leftover.
export async function stop(child, graceMs = 5000) {
  if (!child?.pid) return;
  const pids = processTree(child.pid).map((s) => s.pid);
  try {
    process.kill(child.pid, 'SIGTERM');
  } catch {
    /* already gone */
  }
  const deadline = Date.now() + graceMs;
  const alive = () => pids.some((pid) => fs.existsSync(`/proc/${pid}`) && !isZombie(pid));
  while (Date.now() < deadline && alive()) await sleep(50);
  if (alive()) {
    child.killedHard = true;
    signalAll(child, 'SIGKILL', pids);
    const hardDeadline = Date.now() + 1000; // SIGKILL is delivered asynchronously
    while (Date.now() < hardDeadline && alive()) await sleep(20);
  }
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
