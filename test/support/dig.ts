import { execFile } from 'node:child_process';
import { createSocket } from 'node:dgram';

/*
 * Real `dig` (bind9-dnsutils) against a responder on 127.0.0.1, and raw UDP for what dig cannot
 * send (malformed packets, floods). Every call is bounded in time.
 */

/** What one dig run printed, with the parts tests look at. */
export interface DigResult { text: string; status: string; flags: string[]; answers: { name: string; ttl: number; type: string; data: string }[]; subnet?: string }

/** Runs `dig @127.0.0.1 -p PORT ARGS…` (one try, 2 s timeout) and parses the answer section. */
export function dig(port: number, args: string[]): Promise<DigResult> {
  return new Promise((resolve, reject) => {
    execFile('dig', ['@127.0.0.1', '-p', String(port), '+tries=1', '+time=2', '+nocookie', ...args], { timeout: 10_000 }, (err, stdout) => {
      if (err !== null && stdout === '') { reject(err); return; }
      resolve(parseDig(stdout));
    });
  });
}

/** Parses dig's default output. */
export function parseDig(text: string): DigResult {
  const status = /status: ([A-Z]+)/.exec(text)?.[1] ?? 'NONE';
  const flags = /;; flags: ([a-z ]+);/.exec(text)?.[1].trim().split(/\s+/) ?? [];
  const section = /;; ANSWER SECTION:\n([\s\S]*?)(?:\n\n|$)/.exec(text)?.[1] ?? '';
  const answers = section.split('\n').filter((l) => l.trim() !== '').map((l) => {
    const [name, ttl, , type, ...data] = l.split(/\s+/);
    return { name, ttl: Number(ttl), type, data: data.join(' ') };
  });
  return { text, status, flags, answers, subnet: /CLIENT-SUBNET: (\S+)/.exec(text)?.[1] };
}

/** Sends raw datagrams to 127.0.0.1:port from one socket (optionally bound to `from`) and collects replies for `waitMs`. */
export async function udpExchange(port: number, packets: Buffer[], waitMs = 500, from = '127.0.0.1'): Promise<Buffer[]> {
  const s = createSocket('udp4');
  const got: Buffer[] = [];
  s.on('message', (m) => got.push(m));
  await new Promise<void>((r) => s.bind(0, from, r));
  try {
    for (const p of packets) s.send(p, port, '127.0.0.1');
    await new Promise((r) => setTimeout(r, waitMs));
  } finally {
    s.close();
  }
  return got;
}
