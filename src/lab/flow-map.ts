import { spawn } from 'node:child_process';

/*
 * Flow map: for a fixed set of TCP 5-tuples, which nexthop device a router's kernel picks for each
 * (`ip route get DST from SRC iif IF ipproto tcp sport X dport Y`, all in one `ip -json -batch`), and
 * how many flows a membership change moved. The kernel's answer is the forwarding decision itself, so
 * the map is exact without sending a packet.
 */

/** One TCP flow as the router sees it arrive. */
export interface FlowTuple {
  src: string;
  sport: number;
  dst: string;
  dport: number;
}

/** `n` distinct tuples from `src` to `dst:dport` with source ports drawn from a seeded PRNG (same seed, same set). */
export function makeTuples(n: number, src: string, dst: string, dport: number, seed: number): FlowTuple[] {
  if (n > 64512) throw new Error('at most 64512 distinct source ports');
  let x = seed >>> 0 || 1;
  const ports = new Set<number>();
  while (ports.size < n) {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0; // xorshift32
    ports.add(1024 + (x % 64512));
  }
  return [...ports].map((sport) => ({ src, sport, dst, dport }));
}

/**
 * The output device the kernel of network namespace `ns` picks for each tuple arriving on `iif`, in
 * tuple order. Rejects if `ip` fails (e.g. no route to the destination) or answers a different count.
 */
export async function flowMap(ns: string, iif: string, tuples: readonly FlowTuple[]): Promise<string[]> {
  const input = tuples.map((t) => `route get ${t.dst} from ${t.src} iif ${iif} ipproto tcp sport ${t.sport} dport ${t.dport}`).join('\n');
  const out = await new Promise<string>((resolve, reject) => {
    const p = spawn('ip', ['-n', ns, '-json', '-batch', '-'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    p.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    p.on('error', reject);
    p.on('close', (code) => (code === 0 ? resolve(stdout) : reject(new Error(`ip route get in ${ns} failed (${code}): ${stderr.trim()}`))));
    p.stdin.end(`${input}\n`);
  });
  const devs = out.split('\n').filter((l) => l.trim() !== '').map((l) => (JSON.parse(l) as { dev: string }[])[0]?.dev ?? '?');
  if (devs.length !== tuples.length) throw new Error(`ip route get answered ${devs.length} of ${tuples.length} tuples`);
  return devs;
}

/** How a membership change moved flows; percentages are of `total` unless named otherwise. */
export interface MoveReport {
  total: number;
  moved: number;
  movedPct: number;
  /** Flows whose node neither left nor was added, that moved anyway to another old node: pure disruption. */
  needless: number;
  /** needless as a share of the flows that were on surviving nodes. */
  needlessPct: number;
  /** Flows that moved onto a node that joined (needed to balance a scale-out). */
  toAdded: number;
  /** Flows that were on a node that left (they must move). */
  fromRemoved: number;
}

const pct = (a: number, b: number): number => (b === 0 ? 0 : Math.round((1000 * a) / b) / 10);

/**
 * Compares two flow maps (same tuples, same order) across a change in which `removed` devices left and
 * `added` devices joined. A resilient group's ideal: needless = 0; on a scale-out from k to n nodes
 * moved = (n-k)/n of flows, all of them to the added nodes.
 */
export function compareMaps(before: readonly string[], after: readonly string[], removed: ReadonlySet<string>, added: ReadonlySet<string>): MoveReport {
  if (before.length !== after.length) throw new Error('flow maps differ in length');
  let moved = 0; let needless = 0; let toAdded = 0; let fromRemoved = 0; let surviving = 0;
  for (let i = 0; i < before.length; i++) {
    const b = before[i]; const a = after[i];
    if (removed.has(b)) fromRemoved++; else surviving++;
    if (a === b) continue;
    moved++;
    if (added.has(a)) toAdded++;
    else if (!removed.has(b)) needless++;
  }
  return { total: before.length, moved, movedPct: pct(moved, before.length), needless, needlessPct: pct(needless, surviving), toAdded, fromRemoved };
}

/** Flows per device, for printing a split. */
export function shares(map: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const d of map) out[d] = (out[d] ?? 0) + 1;
  return out;
}
