import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import type { LabProcess, NetnsLab } from './netns.js';

/** lab-agent.js, run inside namespaces (for backends and probes). */
export const LAB_AGENT = fileURLToPath(new URL('./lab-agent.js', import.meta.url));

/** A probe's answer: an HTTP status, the Connection header and the body's first 64 KiB, or the error code (ECONNREFUSED, timeout…). */
export interface ProbeAnswer { status?: number; connection?: string | null; body?: string; error?: string }

/** HTTP GETs made from inside a namespace, through one long-lived lab-agent (no process per request). */
export interface Prober {
  /** One GET; keepAlive: on the prober's kept-alive connection (else a new connection). */
  get(url: string, timeoutMs?: number, keepAlive?: boolean): Promise<ProbeAnswer>;
  process: LabProcess;
}

/** Starts a prober in `ns`. */
export function startProber(lab: NetnsLab, ns: string, name = `probe-${ns}`): Prober {
  const p = lab.spawn(ns, name, process.execPath, [LAB_AGENT, 'probe']);
  const waiting = new Map<number, (a: ProbeAnswer) => void>();
  let seq = 0;
  createInterface({ input: p.proc.stdout! }).on('line', (line) => {
    try {
      const a = JSON.parse(line) as ProbeAnswer & { id: number };
      waiting.get(a.id)?.(a);
      waiting.delete(a.id);
    } catch { /* not an answer */ }
  });
  void p.exited.then(() => { for (const w of waiting.values()) w({ error: 'prober exited' }); waiting.clear(); });
  return {
    process: p,
    get: (url, timeoutMs = 1000, keepAlive = false) => new Promise((resolve) => {
      const id = ++seq;
      waiting.set(id, resolve);
      p.proc.stdin!.write(`${JSON.stringify({ id, url, timeoutMs, keepAlive })}\n`);
    }),
  };
}

/** Starts demo backends on 127.0.0.1:PORT… inside `ns`; resolves once they listen. */
export async function startLabBackends(lab: NetnsLab, ns: string, name: string, ports: number[]): Promise<LabProcess> {
  const p = lab.spawn(ns, name, process.execPath, [LAB_AGENT, 'backend', ...ports.map(String)]);
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${name} did not start: ${p.output()}`)), 10_000);
    const check = () => { if (p.output().includes('listening')) { clearTimeout(t); resolve(); } };
    p.proc.stdout!.on('data', check);
    void p.exited.then(() => { clearTimeout(t); reject(new Error(`${name} exited: ${p.output()}`)); });
  });
  return p;
}
