#!/usr/bin/env node
import { birdCommand } from './bird-client.js';

/*
 * The dead man's switch of an announcing node: `node watchdog.js SOCKET TIMEOUT_MS PROTOCOL…`,
 * started by the primary with a pipe on stdin and in its own session. When the pipe closes —
 * the primary exited, however it died (kill -9 included) — it disables PROTOCOL on the BIRD at
 * SOCKET, so a node whose Switchyard is gone stops attracting traffic although its BIRD (and
 * its BGP/BFD sessions) live on. Retries for a few seconds while BIRD does not answer.
 */
const [socket, timeout, ...protocols] = process.argv.slice(2);
const timeoutMs = Number(timeout) || 2000;

process.stdin.resume();
process.stdin.on('data', () => undefined);
process.stdin.on('close', () => void withdraw());
process.stdin.on('end', () => void withdraw());

let started = false;
async function withdraw(): Promise<void> {
  if (started) return;
  started = true;
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      for (const p of protocols) await birdCommand(socket, `disable ${p}`, timeoutMs);
      process.exit(0);
    } catch {
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  process.exit(1);
}
