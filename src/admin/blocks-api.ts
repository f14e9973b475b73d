import type { IncomingMessage } from 'node:http';
import { parseDuration } from '../config/duration.js';
import type { TemporaryBlock } from '../defence/access-list.js';
import type { AddResult } from '../defence/block-list.js';
import type { AuditEntry } from './audit-log.js';

/*
 * The admin API's temporary blocks (issue 18, item 4): list, add with an expiry, remove. Every
 * write is audited, refused or not; a block is in force on every worker before the answer.
 *   GET    /api/blocks                → { blocks, max }
 *   POST   /api/blocks  {cidr, ttl, reason?}  (ttl: ms or "10m")
 *   DELETE /api/blocks/<cidr, percent-encoded>
 */

/** What the blocks API needs of the node. */
export interface BlocksNode {
  list(): TemporaryBlock[];
  max(): number;
  add(cidr: string, ttlMs: number, reason?: string): Promise<AddResult>;
  remove(cidr: string): Promise<boolean>;
}

/** An answer: status and JSON body. */
export interface Answer { status: number; body: unknown }

/** A request body larger than this is refused: a block is a few dozen bytes. */
const MAX_BODY = 4096;

/** Reads a small JSON body; an Error says what was wrong with it. */
export function readJsonBody(req: IncomingMessage, limit = MAX_BODY): Promise<unknown> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) { resolve(new Error(`body over ${limit} bytes`)); req.destroy(); return; }
      chunks.push(c);
    });
    req.on('end', () => {
      try { resolve(JSON.parse(Buffer.concat(chunks).toString('utf8'))); } catch { resolve(new Error('body is not JSON')); }
    });
    req.on('error', (e) => resolve(e));
  });
}

/**
 * Handles a blocks request (`method`, `path` under /api/blocks); `audit` records each write.
 * Undefined: not a blocks path.
 */
export async function blocksApi(method: string, path: string, req: IncomingMessage, node: BlocksNode,
  audit: (e: Omit<AuditEntry, 'client' | 'userAgent'>) => void): Promise<Answer | undefined> {
  if (path === '/api/blocks' && method === 'GET') return { status: 200, body: { blocks: node.list(), max: node.max() } };
  if (path === '/api/blocks' && method === 'POST') {
    const body = await readJsonBody(req);
    const b = body as { cidr?: unknown; ttl?: unknown; reason?: unknown };
    const ttlMs = typeof b?.ttl === 'number' || typeof b?.ttl === 'string' ? parseDuration(b.ttl) : undefined;
    const problem = body instanceof Error ? body.message
      : typeof b?.cidr !== 'string' ? 'give {"cidr": "203.0.113.0/24", "ttl": "10m"}'
        : ttlMs === undefined ? 'ttl: a duration in ms or like "10m"'
          : b.reason !== undefined && typeof b.reason !== 'string' ? 'reason: a string' : undefined;
    if (problem !== undefined) {
      audit({ action: 'block', target: typeof b?.cidr === 'string' ? b.cidr.slice(0, 64) : undefined, result: 'failed', detail: problem });
      return { status: 400, body: { error: problem } };
    }
    const r = await node.add(b.cidr as string, ttlMs!, b.reason as string | undefined);
    if (!r.ok) {
      audit({ action: 'block', target: (b.cidr as string).slice(0, 64), result: 'failed', detail: r.error });
      return { status: r.status, body: { error: r.error } };
    }
    audit({ action: 'block', target: r.block.cidr, result: 'ok', detail: `until ${new Date(r.block.expiresAt).toISOString()}${r.replaced ? ' (replaced)' : ''}${r.block.reason ? `: ${r.block.reason}` : ''}` });
    return { status: 200, body: { ok: true, block: r.block, replaced: r.replaced } };
  }
  const one = /^\/api\/blocks\/([^/]+(?:\/[^/]+)?)$/.exec(path);
  if (one !== null && method === 'DELETE') {
    let cidr: string;
    try { cidr = decodeURIComponent(one[1]); } catch {
      audit({ action: 'unblock', target: one[1].slice(0, 64), result: 'failed', detail: 'malformed URL encoding' });
      return { status: 400, body: { error: 'malformed percent-encoding in the prefix' } };
    }
    const ok = await node.remove(cidr);
    audit({ action: 'unblock', target: cidr.slice(0, 64), result: ok ? 'ok' : 'failed', detail: ok ? undefined : 'no such block' });
    return ok ? { status: 200, body: { ok: true, cidr } } : { status: 404, body: { error: `no temporary block of ${cidr}` } };
  }
  return undefined;
}
