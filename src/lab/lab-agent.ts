#!/usr/bin/env node
import { createInterface } from 'node:readline';
import { Agent, request } from 'node:http';
import { startDemoBackends } from '../demo/backends.js';

/*
 * Helper process run inside a lab namespace (`ip netns exec NS node lab-agent.js MODE …`):
 *   backend PORT…  demo HTTP backends on 127.0.0.1:PORT (in that namespace's loopback)
 *   probe          reads one JSON request a line on stdin ({"id", "url", "timeoutMs", "keepAlive"})
 *                  and answers one JSON line on stdout ({"id", "status", "connection", "body"} or {"id", "error"};
 *                  the body's first 64 KiB);
 *                  keepAlive: reuse one kept-alive connection (per URL host) across probes
 *   load URL CONNS SECONDS keepalive|new [PAUSE_MS]
 *                  CONNS loops of sequential GETs for SECONDS (each loop on one kept-alive
 *                  connection, or a new connection per request), PAUSE_MS between a loop's
 *                  requests (a kept-alive connection then sits idle); prints one JSON summary:
 *                  {"ok", "failed", "errors": {code: n}, "closes"} (closes: responses with Connection: close)
 * A test process cannot enter a namespace itself; this is its hands inside one.
 */

const [mode, ...args] = process.argv.slice(2);

if (mode === 'backend') {
  await startDemoBackends(args.map(Number));
  process.stdout.write('listening\n');
} else if (mode === 'probe') {
  const keepAlive = new Agent({ keepAlive: true, maxSockets: 1 });
  const rl = createInterface({ input: process.stdin });
  rl.on('line', (line) => {
    let q: { id: number; url: string; timeoutMs?: number; keepAlive?: boolean };
    try { q = JSON.parse(line) as typeof q; } catch { return; }
    const answer = (a: Record<string, unknown>) => process.stdout.write(`${JSON.stringify({ id: q.id, ...a })}\n`);
    // A new connection per probe (agent: false): each one is a new flow the router hashes anew.
    const req = request(q.url, { agent: q.keepAlive ? keepAlive : false, timeout: q.timeoutMs ?? 1000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => { if (body.length < 65_536) body += d; });
      res.on('end', () => answer({ status: res.statusCode, connection: res.headers.connection ?? null, body: body.slice(0, 65_536) }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (e: NodeJS.ErrnoException) => answer({ error: e.code ?? e.message }));
    req.end();
  });
  rl.on('close', () => process.exit(0));
} else if (mode === 'load') {
  process.stdout.write(`${JSON.stringify(await load(args[0], Number(args[1]), Number(args[2]), args[3] === 'keepalive', Number(args[4] ?? 0)))}\n`);
} else {
  process.stderr.write('usage: lab-agent.js backend PORT… | probe\n');
  process.exit(2);
}

/** The `load` mode: bounded in time and in requests (at most 100,000 per loop). */
async function load(url: string, conns: number, seconds: number, keepAlive: boolean, pauseMs: number) {
  const out = { ok: 0, failed: 0, errors: {} as Record<string, number>, closes: 0 };
  const until = Date.now() + seconds * 1000;
  const one = (agent: Agent | false) => new Promise<void>((resolve) => {
    const req = request(url, { agent, timeout: 2000 }, (res) => {
      res.resume();
      res.on('end', () => {
        if (res.statusCode === 200) out.ok++; else { out.failed++; out.errors[`http ${res.statusCode}`] = (out.errors[`http ${res.statusCode}`] ?? 0) + 1; }
        if (res.headers.connection === 'close') out.closes++;
        resolve();
      });
      res.on('error', () => resolve());
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'timeout' })));
    req.on('error', (e: NodeJS.ErrnoException) => { out.failed++; const k = e.code ?? e.message; out.errors[k] = (out.errors[k] ?? 0) + 1; resolve(); });
    req.end();
  });
  await Promise.all(Array.from({ length: conns }, async () => {
    const agent = keepAlive ? new Agent({ keepAlive: true, maxSockets: 1 }) : false;
    for (let i = 0; i < 100_000 && Date.now() < until; i++) {
      await one(agent);
      if (pauseMs > 0) await new Promise((r) => setTimeout(r, pauseMs));
    }
    if (agent) agent.destroy();
  }));
  return out;
}
