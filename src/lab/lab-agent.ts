#!/usr/bin/env node
import { createInterface } from 'node:readline';
import { request } from 'node:http';
import { startDemoBackends } from '../demo/backends.js';

/*
 * Helper process run inside a lab namespace (`ip netns exec NS node lab-agent.js MODE …`):
 *   backend PORT…  demo HTTP backends on 127.0.0.1:PORT (in that namespace's loopback)
 *   probe          reads one JSON request a line on stdin ({"id", "url", "timeoutMs"}) and
 *                  answers one JSON line on stdout ({"id", "status", "connection"} or {"id", "error"})
 * A test process cannot enter a namespace itself; this is its hands inside one.
 */

const [mode, ...args] = process.argv.slice(2);

if (mode === 'backend') {
  await startDemoBackends(args.map(Number));
  process.stdout.write('listening\n');
} else if (mode === 'probe') {
  const rl = createInterface({ input: process.stdin });
  rl.on('line', (line) => {
    let q: { id: number; url: string; timeoutMs?: number };
    try { q = JSON.parse(line) as typeof q; } catch { return; }
    const answer = (a: Record<string, unknown>) => process.stdout.write(`${JSON.stringify({ id: q.id, ...a })}\n`);
    // A new connection per probe (agent: false): each one is a new flow the router hashes anew.
    const req = request(q.url, { agent: false, timeout: q.timeoutMs ?? 1000 }, (res) => {
      res.resume();
      res.on('end', () => answer({ status: res.statusCode, connection: res.headers.connection ?? null }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (e: NodeJS.ErrnoException) => answer({ error: e.code ?? e.message }));
    req.end();
  });
  rl.on('close', () => process.exit(0));
} else {
  process.stderr.write('usage: lab-agent.js backend PORT… | probe\n');
  process.exit(2);
}
