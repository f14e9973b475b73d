import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { ReloadResult } from '../runtime/primary.js';
import { SwitchyardError } from '../util/errors.js';

/*
 * How `switchyard reload` learns what its SIGHUP did. A signal carries nothing back, so a node
 * started with `--pid-file F` writes the outcome of every SIGHUP reload to `F.reload` (JSON,
 * replaced atomically): its pid, how many SIGHUPs it has received (`signal`), and the result.
 * The command notes `signal` before sending; the first outcome with a higher count is that of a
 * reload that read the config after the signal was sent (its own, or a later one).
 */

export interface ReloadOutcome extends ReloadResult { pid: number; signal: number; time: string }

/** Where the outcome of a node's SIGHUP reloads is written, next to its PID file. */
export const outcomePath = (pidFile: string): string => `${pidFile}.reload`;

/** Writes one outcome (called by the node). Errors are `path: reason` lines and never hold a secret value. */
export function writeOutcome(pidFile: string, signal: number, r: ReloadResult): void {
  const path = outcomePath(pidFile);
  const body: ReloadOutcome = { ...r, pid: process.pid, signal, time: new Date().toISOString() };
  writeFileSync(`${path}.tmp`, `${JSON.stringify(body)}\n`);
  renameSync(`${path}.tmp`, path);
}

/** The last outcome `pid` wrote, if any. */
export function readOutcome(pidFile: string, pid: number): ReloadOutcome | undefined {
  try {
    const o = JSON.parse(readFileSync(outcomePath(pidFile), 'utf8')) as ReloadOutcome;
    return o.pid === pid ? o : undefined;
  } catch {
    return undefined;
  }
}

/** Sends SIGHUP and resolves with the outcome of a reload that started after it; throws SWY_RELOAD_TIMEOUT after `timeoutMs`. */
export async function signalAndWait(pid: number, pidFile: string, timeoutMs: number): Promise<ReloadOutcome> {
  const before = readOutcome(pidFile, pid)?.signal ?? 0;
  process.kill(pid, 'SIGHUP');
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const o = readOutcome(pidFile, pid);
    if (o !== undefined && o.signal > before) return o;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new SwitchyardError('SWY_RELOAD_TIMEOUT', `no reload outcome from ${pid} within ${timeoutMs / 1000} s (is it a node started with --pid-file ${pidFile}? see its log)`);
}
