// TLS handshake load for bench/l4.mjs: `openssl s_time`, one connection at a
// time per process (run several in parallel), counted live.
//
// s_time prints one character per completed connection right after it
// (fflush'ed): 'r' when the session was resumed, '*' (or 't'/'3' for old
// protocol versions) when it was a full handshake. Counting them as they arrive
// lets the bench read the count at the start and end of its CPU window
// instead of trusting s_time's own whole-run summary.
//
// Notes on what s_time does per connection: TCP connect, TLS handshake, then
// (with -www PATH) "GET PATH HTTP/1.0" and read until the server closes, then
// close() without close_notify. In TLS 1.3 the session ticket arrives after
// the handshake, so -reuse only resumes when -www makes the client read.
import { spawn } from 'node:child_process';
import { pinned, track } from './procs.mjs';

export function startStime({ port, mode, version, www, seconds, cores }) {
  const args = ['s_time', '-connect', `127.0.0.1:${port}`, mode === 'reuse' ? '-reuse' : '-new', `-${version}`, '-time', String(seconds)];
  if (www) args.push('-www', www);
  const { cmd, args: full } = pinned(cores, 'openssl', args);
  const child = track(spawn(cmd, full, { stdio: ['ignore', 'pipe', 'pipe'], detached: true }));
  child.once('error', () => {});
  const state = { full: 0, reused: 0, stderr: '', armed: false, head: '', done: false };
  child.stdout.setEncoding('latin1');
  child.stdout.on('data', (text) => {
    for (const ch of text) {
      if (state.done) return;
      if (!state.armed) {
        // Header lines come first: "Collecting connection statistics for N
        // seconds" (-new) or "Now timing with session id reuse.\nstarting" (-reuse).
        state.head += ch;
        if (ch === '\n' && /(seconds|starting)\s*$/.test(state.head)) state.armed = true;
        continue;
      }
      if (ch === '\n') state.done = true; // the summary follows
      else if (ch === 'r') state.reused++;
      else if (ch !== '\r' && ch !== ' ') state.full++;
    }
  });
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (t) => {
    if (state.stderr.length < 4000) state.stderr += t;
  });
  let exit = null;
  child.exited.then((e) => (exit = e));
  return {
    child,
    command: [cmd, ...full].join(' '),
    counts: () => ({ full: state.full, reused: state.reused, total: state.full + state.reused }),
    exit: () => exit,
    stderr: () => state.stderr.trim(),
  };
}
