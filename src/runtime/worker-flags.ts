/**
 * Node/V8 flags of the worker processes (the ones that hold connections).
 *
 * The young generation is capped at 4 MiB per semi-space (V8's default lets it grow to 16 MiB).
 * V8 grows it when most of what a scavenge finds is still alive, which is what a burst of new
 * connections looks like (each connection's objects live on), and keeps the grown pages while the
 * process idles: 10,000 idle keep-alive connections measured 4.1–5.1 KiB each in the worker with
 * the default, 2.5–3.5 KiB with the cap (bench/idle-memory.mjs). The price is more scavenges under
 * load: nothing measurable on HTTP/1.1, about 4.6% more CPU on HTTP/2, whose per-stream objects
 * are many (README, Benchmark). A setting the operator gives (NODE_OPTIONS or node's own
 * arguments, either spelling) wins over this one.
 */
export const SEMI_SPACE_MIB = 4;

/** A V8 flag as given, in its dashed spelling (V8 takes `--max_semi_space_size` as well as `--max-semi-space-size`). */
const dashed = (arg: string): string => arg.replace(/_/g, '-');

/** The exec arguments a worker is forked with: the primary's own, plus the defaults above unless given. */
export function workerExecArgv(execArgv: readonly string[], nodeOptions: string | undefined): string[] {
  const args = [...execArgv, ...(nodeOptions ?? '').split(/\s+/)].map(dashed);
  const given = (flag: string) => args.some((a) => a === flag || a.startsWith(`${flag}=`));
  const out = [...execArgv];
  if (!given('--max-semi-space-size')) out.push(`--max-semi-space-size=${SEMI_SPACE_MIB}`);
  return out;
}
