import type { ReloadResult } from '../runtime/primary.js';
import { SwitchyardError } from '../util/errors.js';
import { EXIT } from './exit-codes.js';

/* What `switchyard reload` prints, and the reload through the admin API (POST /api/reload). */

/** Prints a reload's outcome; a rejection goes to stderr as `path: reason` lines and exits 1. */
export function reportReload(r: ReloadResult): void {
  if (r.result === 'applied') { process.stdout.write(`reload applied: version ${r.version} is in force\n`); return; }
  if (r.result === 'unchanged') { process.stdout.write(`config unchanged: version ${r.version} is in force\n`); return; }
  process.stderr.write(`reload rejected: version ${r.version} stays in force\n`);
  for (const line of r.errors ?? []) process.stderr.write(`${line}\n`);
  process.exit(EXIT.failed);
}

/** Asks the admin API at `address` to reload and resolves with its answer (token from SWITCHYARD_ADMIN_TOKEN). */
export async function reloadThroughAdmin(address: string, timeoutMs: number): Promise<ReloadResult> {
  const token = process.env.SWITCHYARD_ADMIN_TOKEN;
  let res: Response;
  try {
    res = await fetch(`http://${address}/api/reload`, {
      method: 'POST', body: '{}', signal: AbortSignal.timeout(timeoutMs),
      headers: { 'content-type': 'application/json', ...(token !== undefined && { authorization: `Bearer ${token}` }) },
    });
  } catch (e) {
    throw new SwitchyardError('SWY_ADMIN_UNREACHABLE', `admin API at ${address}: ${(e as Error).cause instanceof Error ? ((e as Error).cause as Error).message : (e as Error).message}`);
  }
  const body = await res.json().catch(() => ({})) as Partial<ReloadResult> & { error?: string };
  if (body.result === undefined) throw new SwitchyardError('SWY_ADMIN_REFUSED', `admin API at ${address}: ${res.status} ${body.error ?? ''}${res.status === 401 ? ' (set SWITCHYARD_ADMIN_TOKEN)' : ''}`);
  return { result: body.result, version: body.version ?? 0, errors: body.errors };
}
