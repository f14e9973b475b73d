import { Agent, request } from 'undici';

/** What a load run saw: answers by status (0: the request failed), 200s' latencies (ms). */
/** `spanMs`: from the first request sent to the last (a busy machine stretches a paced run). */
export interface LoadResult { byStatus: Map<number, number>; latencies: number[]; sent: number; spanMs: number }

export const count = (r: LoadResult, status: number) => r.byStatus.get(status) ?? 0;

/** An undici agent whose connections come from `localAddress` (a 127.0.0.x source, so a client is one address). */
export const clientFrom = (localAddress: string, connections = 16) => new Agent({ connections, localAddress });

/**
 * Sends GET `url` at `perSecond` (paced, not waiting for answers) for `ms`, at most
 * perSecond × ms / 1000 requests, each answer awaited; returns the statuses and latencies.
 */
export async function pacedLoad(url: string, dispatcher: Agent, perSecond: number, ms: number, headers: Record<string, string> = {}): Promise<LoadResult> {
  const out: LoadResult = { byStatus: new Map(), latencies: [], sent: 0, spanMs: 0 };
  const total = Math.floor((perSecond * ms) / 1000);
  const start = performance.now();
  const pending: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const due = start + (i * 1000) / perSecond;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    out.sent++;
    const t0 = performance.now();
    out.spanMs = t0 - start;
    pending.push(request(url, { dispatcher, headers, headersTimeout: 10_000, bodyTimeout: 10_000 }).then(async (r) => {
      await r.body.dump();
      if (r.statusCode === 200) out.latencies.push(performance.now() - t0);
      out.byStatus.set(r.statusCode, (out.byStatus.get(r.statusCode) ?? 0) + 1);
    }, () => { out.byStatus.set(0, (out.byStatus.get(0) ?? 0) + 1); }));
  }
  await Promise.all(pending);
  return out;
}

/** `conns` loops sending GET `url` back to back for `ms` (at most 100,000 each): a flood. */
export async function flood(url: string, dispatcher: Agent, conns: number, ms: number): Promise<LoadResult> {
  const out: LoadResult = { byStatus: new Map(), latencies: [], sent: 0, spanMs: ms };
  const end = Date.now() + ms;
  await Promise.all(Array.from({ length: conns }, async () => {
    for (let i = 0; i < 100_000 && Date.now() < end; i++) {
      out.sent++;
      try {
        const r = await request(url, { dispatcher, headersTimeout: 10_000, bodyTimeout: 10_000 });
        await r.body.dump();
        out.byStatus.set(r.statusCode, (out.byStatus.get(r.statusCode) ?? 0) + 1);
      } catch {
        out.byStatus.set(0, (out.byStatus.get(0) ?? 0) + 1);
      }
    }
  }));
  return out;
}

/** The q-quantile (0..1) of `values`. */
export function quantile(values: readonly number[], q: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.min(s.length - 1, Math.floor(q * s.length))];
}
