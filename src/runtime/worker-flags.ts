/**
 * Node/V8 flags of the worker processes (the ones that hold connections).
 *
 * The young generation is capped at 4 MiB per semi-space (V8's default lets it grow to 16 MiB).
 * V8 grows it when most of what a scavenge finds is still alive, which is what a burst of new
 * connections looks like (each connection's objects live on), and keeps the grown pages while the
 * process idles: 10,000 idle keep-alive connections measured 4.1–5.1 KiB each in the worker with
 * the default and 3.0–3.6 KiB with the cap (bench/idle-memory.mjs). A proxy's per-request garbage
 * is small and dies young, so a smaller nursery is not slower (bench/README.md has the A/B).
 * A setting the operator gives (NODE_OPTIONS or node's own arguments) wins over this one.
 */
export const SEMI_SPACE_MIB = 4;

/** The exec arguments a worker is forked with: the primary's own, plus the defaults above unless given. */
export function workerExecArgv(execArgv: readonly string[], nodeOptions: string | undefined): string[] {
  const given = (flag: string) => execArgv.some((a) => a.startsWith(flag)) || (nodeOptions ?? '').split(/\s+/).some((a) => a.startsWith(flag));
  const out = [...execArgv];
  if (!given('--max-semi-space-size')) out.push(`--max-semi-space-size=${SEMI_SPACE_MIB}`);
  return out;
}
