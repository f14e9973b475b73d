import { X509Certificate } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import type { Config } from '../config/schema.js';

/** One certificate file of an https listener and when it expires. */
export interface CertExpiry { listener: string; cert: string; notAfterS: number }

/**
 * When each https listener's certificates expire (the leaf, first in its PEM file), for the
 * certificate-expiry alert. Files are parsed again only when they change (mtime); one that
 * cannot be read or parsed is left out (the listener's own reload reports why).
 */
export class CertExpiryReader {
  private readonly cache = new Map<string, { mtimeMs: number; notAfterS: number }>();

  read(config: Config): CertExpiry[] {
    const out: CertExpiry[] = [];
    const seen = new Set<string>();
    for (const l of config.listeners) {
      for (const c of l.tls?.certificates ?? []) {
        const notAfterS = this.notAfter(c.cert);
        seen.add(c.cert);
        if (notAfterS !== undefined) out.push({ listener: l.name, cert: c.cert, notAfterS });
      }
    }
    for (const path of [...this.cache.keys()]) if (!seen.has(path)) this.cache.delete(path);
    return out;
  }

  private notAfter(path: string): number | undefined {
    try {
      const mtimeMs = statSync(path).mtimeMs;
      const hit = this.cache.get(path);
      if (hit !== undefined && hit.mtimeMs === mtimeMs) return hit.notAfterS;
      const notAfterS = Math.floor(Date.parse(new X509Certificate(readFileSync(path)).validTo) / 1000);
      this.cache.set(path, { mtimeMs, notAfterS });
      return notAfterS;
    } catch {
      return undefined;
    }
  }
}
