import { spawn, type ChildProcess } from 'node:child_process';
import { lazyModule } from '../util/lazy-module.js';
import { redactUrl } from '../config/secrets.js';
import type { Decision } from './evaluator.js';

const undici = lazyModule<typeof import('undici')>('undici');

/*
 * Carries a scaling decision out: runs an operator's command (a cloud CLI, a Terraform wrapper,
 * `kubectl scale`) or calls a webhook. Switchyard does not know the platform; it only says what it
 * decided and why. Failures are results with a stable code, never exceptions, so the caller logs
 * them and the evaluator loop goes on.
 */

/** How decisions are carried out. `none`: decide and report only (a dry run). */
export type ActuatorConfig =
  | {
    readonly type: 'exec';
    /** argv; run without a shell. */
    readonly command: readonly string[];
    readonly timeoutMs: number;
    /** stdout + stderr kept, in arrival order (default 8 KiB). */
    readonly maxOutputBytes?: number;
    /** After the timeout: SIGTERM, then SIGKILL this much later (default 2 s). */
    readonly killGraceMs?: number;
  }
  | { readonly type: 'webhook'; readonly url: string; readonly timeoutMs: number; readonly headers?: Readonly<Record<string, string>> }
  | { readonly type: 'none' };

/** Stable failure codes. */
export type ActuationFailureCode =
  | 'SWY_SCALE_SPAWN' // the command could not be started (not found, not executable)
  | 'SWY_SCALE_EXIT' // it exited non-zero or was killed by someone else
  | 'SWY_SCALE_TIMEOUT' // it (or the webhook) did not finish within timeoutMs
  | 'SWY_SCALE_ABORTED' // the caller's AbortSignal fired
  | 'SWY_SCALE_HTTP_STATUS' // the webhook answered outside 2xx
  | 'SWY_SCALE_HTTP'; // the webhook could not be reached

export interface ActuationFailure {
  readonly code: ActuationFailureCode;
  readonly message: string;
}

export type ActuationResult =
  | {
    readonly type: 'exec';
    readonly ok: boolean;
    /** Exit code; null when killed by a signal or never started. */
    readonly code: number | null;
    readonly signal: NodeJS.Signals | null;
    readonly output: string;
    readonly failure?: ActuationFailure;
  }
  | { readonly type: 'webhook'; readonly ok: boolean; readonly status: number | undefined; readonly failure?: ActuationFailure }
  | { readonly type: 'none'; readonly ok: true };

export interface Actuator {
  readonly type: ActuatorConfig['type'];
  /** Carries `decision` out. Resolves with the result; never rejects. Runs are independent (no queueing). */
  run(decision: Decision, signal?: AbortSignal): Promise<ActuationResult>;
}

const DEFAULT_MAX_OUTPUT = 8 * 1024;
const DEFAULT_KILL_GRACE_MS = 2000;
/** After the command exited, how long its pipes may stay open (a grandchild holding them) before we stop reading. */
const PIPE_LINGER_MS = 1000;

/**
 * `createActuator(cfg)`. Throws RangeError for an unusable config (empty command, timeoutMs not
 * > 0, a URL that is not http(s)) — config time, not run time. The returned actuator:
 * - exec: spawns `command` without a shell in its own process group, writes the decision as one
 *   JSON line to stdin and sets SWITCHYARD_SCALE_ACTION / _TRIGGER / _REASON in its environment;
 *   ok when it exits 0 in time. On timeout or abort the whole group gets SIGTERM, then SIGKILL.
 * - webhook: POSTs the decision as JSON (undici `request`, no keep-alive: calls are minutes
 *   apart); ok on 2xx. The body of the answer is read and dropped.
 * - none: does nothing, ok.
 */
export function createActuator(cfg: ActuatorConfig): Actuator {
  switch (cfg.type) {
    case 'none':
      return { type: 'none', run: async () => ({ type: 'none', ok: true }) };
    case 'exec': {
      if (cfg.command.length === 0 || cfg.command[0] === '') throw new RangeError('exec actuator: command must not be empty');
      checkTimeout(cfg.timeoutMs);
      const c = { ...cfg, command: [...cfg.command] };
      return { type: 'exec', run: (d, signal) => runExec(c, d, signal) };
    }
    case 'webhook': {
      checkTimeout(cfg.timeoutMs);
      let url: URL;
      try { url = new URL(cfg.url); } catch { throw new RangeError(`webhook actuator: invalid url "${redactUrl(cfg.url, { path: true })}"`); }
      if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new RangeError(`webhook actuator: url must be http(s), got ${url.protocol}`);
      return { type: 'webhook', run: (d, signal) => runWebhook(cfg, d, signal) };
    }
  }
}

function checkTimeout(ms: number): void {
  if (!(ms > 0 && Number.isFinite(ms))) throw new RangeError(`actuator: timeoutMs must be > 0, got ${ms}`);
}

/** Keeps the first `max` bytes of a stream of chunks. */
class BoundedOutput {
  private readonly chunks: Buffer[] = [];
  private size = 0;
  private truncated = false;
  constructor(private readonly max: number) {}
  add(chunk: Buffer): void {
    const room = this.max - this.size;
    if (chunk.length > room) this.truncated = true;
    if (room <= 0) return;
    const part = chunk.length > room ? chunk.subarray(0, room) : chunk;
    this.chunks.push(part);
    this.size += part.length;
  }
  text(): string {
    return Buffer.concat(this.chunks).toString('utf8') + (this.truncated ? '\n[output truncated]' : '');
  }
}

function runExec(cfg: Extract<ActuatorConfig, { type: 'exec' }>, decision: Decision, signal?: AbortSignal): Promise<ActuationResult> {
  const out = new BoundedOutput(cfg.maxOutputBytes ?? DEFAULT_MAX_OUTPUT);
  const fail = (code: ActuationFailureCode, message: string, exit: number | null = null, sig: NodeJS.Signals | null = null): ActuationResult =>
    ({ type: 'exec', ok: false, code: exit, signal: sig, output: out.text(), failure: { code, message } });
  if (signal?.aborted) return Promise.resolve(fail('SWY_SCALE_ABORTED', 'aborted before start'));

  return new Promise((resolve) => {
    // Own process group (POSIX), so a timeout also stops what a wrapper script started.
    const group = process.platform !== 'win32';
    let child: ChildProcess;
    try {
      child = spawn(cfg.command[0], cfg.command.slice(1), {
        shell: false,
        detached: group,
        windowsHide: true,
        stdio: ['pipe', 'pipe', 'pipe'],
        env: {
          ...process.env,
          SWITCHYARD_SCALE_ACTION: decision.action,
          SWITCHYARD_SCALE_TRIGGER: decision.trigger,
          SWITCHYARD_SCALE_REASON: decision.reason,
        },
      });
    } catch (err) {
      resolve(fail('SWY_SCALE_SPAWN', `cannot run ${cfg.command[0]}: ${(err as Error).message}`));
      return;
    }

    const timers: NodeJS.Timeout[] = [];
    const later = (fn: () => void, ms: number) => { const t = setTimeout(fn, ms); t.unref(); timers.push(t); };
    let stoppedFor: 'timeout' | 'aborted' | undefined;
    let settled = false;
    const finish = (r: ActuationResult) => {
      if (settled) return;
      settled = true;
      for (const t of timers) clearTimeout(t);
      signal?.removeEventListener('abort', onAbort);
      resolve(r);
    };
    const kill = (sig: NodeJS.Signals) => {
      try {
        if (group && child.pid !== undefined) process.kill(-child.pid, sig);
        else child.kill(sig);
      } catch { /* already gone */ }
    };
    const stop = (why: 'timeout' | 'aborted') => {
      if (stoppedFor || settled) return;
      stoppedFor = why;
      kill('SIGTERM');
      later(() => kill('SIGKILL'), cfg.killGraceMs ?? DEFAULT_KILL_GRACE_MS);
    };
    const onAbort = () => stop('aborted');
    signal?.addEventListener('abort', onAbort, { once: true });
    later(() => stop('timeout'), cfg.timeoutMs);

    const done = (code: number | null, sig: NodeJS.Signals | null) => {
      if (stoppedFor === 'timeout') finish(fail('SWY_SCALE_TIMEOUT', `${cfg.command[0]} did not finish within ${cfg.timeoutMs}ms`, code, sig));
      else if (stoppedFor === 'aborted') finish(fail('SWY_SCALE_ABORTED', `${cfg.command[0]} was stopped: aborted`, code, sig));
      else if (code === 0) finish({ type: 'exec', ok: true, code, signal: null, output: out.text() });
      else finish(fail('SWY_SCALE_EXIT', `${cfg.command[0]} ${code === null ? `was killed by ${sig}` : `exited with code ${code}`}`, code, sig));
    };

    child.stdout?.on('data', (c: Buffer) => out.add(c));
    child.stderr?.on('data', (c: Buffer) => out.add(c));
    child.stdin?.on('error', () => { /* EPIPE: the command does not read stdin, which is its right */ });
    child.stdin?.end(`${JSON.stringify(decision)}\n`);
    child.on('error', (err) => finish(fail('SWY_SCALE_SPAWN', `cannot run ${cfg.command[0]}: ${err.message}`)));
    child.on('close', done);
    child.on('exit', (code, sig) => later(() => {
      child.stdout?.destroy();
      child.stderr?.destroy();
      done(code, sig);
    }, PIPE_LINGER_MS));
  });
}

async function runWebhook(cfg: Extract<ActuatorConfig, { type: 'webhook' }>, decision: Decision, signal?: AbortSignal): Promise<ActuationResult> {
  if (signal?.aborted) return { type: 'webhook', ok: false, status: undefined, failure: { code: 'SWY_SCALE_ABORTED', message: 'aborted before start' } };
  const timeout = AbortSignal.timeout(cfg.timeoutMs);
  const both = signal ? AbortSignal.any([signal, timeout]) : timeout;
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(cfg.headers ?? {})) if (k.toLowerCase() !== 'content-type') headers[k] = v;
  headers['content-type'] = 'application/json';
  try {
    const res = await undici().request(cfg.url, {
      method: 'POST',
      headers,
      body: JSON.stringify(decision),
      signal: both,
      reset: true,
      headersTimeout: cfg.timeoutMs,
      bodyTimeout: cfg.timeoutMs,
    });
    await res.body.dump().catch(() => undefined);
    const ok = res.statusCode >= 200 && res.statusCode < 300;
    return ok
      ? { type: 'webhook', ok: true, status: res.statusCode }
      : { type: 'webhook', ok: false, status: res.statusCode, failure: { code: 'SWY_SCALE_HTTP_STATUS', message: `webhook answered ${res.statusCode}` } };
  } catch (err) {
    const code: ActuationFailureCode = signal?.aborted ? 'SWY_SCALE_ABORTED'
      : timeout.aborted || (err as { code?: string }).code === 'UND_ERR_HEADERS_TIMEOUT' ? 'SWY_SCALE_TIMEOUT'
        : 'SWY_SCALE_HTTP';
    const message = code === 'SWY_SCALE_TIMEOUT' ? `webhook did not answer within ${cfg.timeoutMs}ms` : `webhook failed: ${(err as Error).message}`;
    return { type: 'webhook', ok: false, status: undefined, failure: { code, message } };
  }
}
