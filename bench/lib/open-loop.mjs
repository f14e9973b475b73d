// Shared by the open-loop scenarios (bench/resilience.mjs, bench/hang.mjs):
// where the build is, one backend process (bench/lib/resilience-backend.mjs),
// and the load generator thread (bench/lib/resilience-load.mjs).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { start } from './procs.mjs';

const libDir = path.dirname(fileURLToPath(import.meta.url));
export const repoRoot = path.dirname(path.dirname(libDir));
export const CLI = path.join(repoRoot, 'dist/src/cli/main.js');
const BACKEND_FILE = path.join(libDir, 'resilience-backend.mjs');
const LOAD_FILE = new URL('./resilience-load.mjs', import.meta.url);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Starts backend `name` on `port` (logging to dir/name.log) and resolves once
// its log says it listens (polled every 5 ms: no probe traffic, so a restart
// time is not blurred).
export async function startBackend(dir, port, name, timeoutMs = 10_000) {
  const logFile = path.join(dir, `${name}.log`);
  const offset = fs.existsSync(logFile) ? fs.statSync(logFile).size : 0;
  const child = start({ cmd: process.execPath, args: [BACKEND_FILE, String(port), name], cwd: repoRoot, logFile });
  let exited = null;
  child.exited.then((e) => (exited = e));
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const text = fs.readFileSync(logFile, 'utf8').slice(offset);
    if (text.includes('ready on')) return child;
    if (exited) throw new Error(`${name} exited (code ${exited.code}, signal ${exited.signal}): ${text.trim().slice(0, 200)}`);
    await sleep(5);
  }
  throw new Error(`${name} not listening within ${timeoutMs} ms`);
}

// Starts the load generator thread (workerData: see resilience-load.mjs);
// `done` resolves with its one message, or rejects if it fails or exits first.
export function startLoad(workerData) {
  const worker = new Worker(LOAD_FILE, { workerData });
  const done = new Promise((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`load generator exited (${code}) without results`)));
  });
  return { worker, done };
}
