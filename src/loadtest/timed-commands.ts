import { spawn } from 'node:child_process';

/*
 * The disturbances of a run: shell commands (`--kill-cmd`, `--restart-cmd`) started at a planned
 * time while the load keeps running. They run through /bin/sh -c in their own process group; the
 * run never waits for them to finish before sending the next request.
 */

export interface TimedCommand {
  /** `kill`, `restart`. */
  label: string;
  /** Planned start, ms since the run's start. */
  atMs: number;
  cmd: string;
}

/** What happened to one command (times in seconds since the run's start). */
export interface CommandEvent {
  label: string;
  cmd: string;
  plannedAtS: number;
  startedAtS: number;
  exitedAtS: number | null;
  exitCode: number | null;
  signal: string | null;
  /** The last 2 kB of its stdout and stderr together. */
  output: string;
  /** Set when it could not be started or had to be killed. */
  error?: string;
}

const OUTPUT_TAIL = 2048;

/**
 * Starts `cmd` now and resolves when the shell exits (or after `timeoutMs`, when its process group
 * is SIGKILLed). Never rejects: failures are part of the event. A daemon the command leaves running
 * in the background (a restart) is not waited for.
 */
export function runTimedCommand(c: TimedCommand, startedAtMs: number, now: () => number, timeoutMs: number): Promise<CommandEvent> {
  const ev: CommandEvent = { label: c.label, cmd: c.cmd, plannedAtS: c.atMs / 1000, startedAtS: Math.round(startedAtMs) / 1000, exitedAtS: null, exitCode: null, signal: null, output: '' };
  return new Promise((resolve) => {
    let out = '';
    const child = spawn('/bin/sh', ['-c', c.cmd], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const keep = (d: Buffer) => { out = (out + d.toString()).slice(-OUTPUT_TAIL); };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const timer = setTimeout(() => {
      ev.error = `still running after ${timeoutMs} ms; killed`;
      try { process.kill(-child.pid!, 'SIGKILL'); } catch { /* already gone */ }
    }, timeoutMs);
    child.once('error', (e) => { clearTimeout(timer); ev.error = e.message; ev.output = out; resolve(ev); });
    // 'exit', not 'close': a background daemon may hold the pipes open for ever.
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      ev.exitedAtS = Math.round(now()) / 1000;
      ev.exitCode = code;
      ev.signal = signal;
      // Give buffered output a moment, then let go of the pipes.
      setTimeout(() => { ev.output = out.trim(); child.stdout.destroy(); child.stderr.destroy(); resolve(ev); }, 20);
    });
  });
}
